#include "client/upstream_session.hpp"

#include "client/coordinator.hpp"
#include "client/stdio_channel.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>

namespace mcpmtls::client {

using json = nlohmann::json;

namespace {

const char* failure_name(FailureKind kind) {
    switch (kind) {
        case FailureKind::connect: return "unreachable";
        case FailureKind::timeout: return "timeout";
        case FailureKind::tls_server_rejected_by_us: return "server_certificate_rejected";
        case FailureKind::tls_refused_by_server: return "client_certificate_refused";
        case FailureKind::tls_other: return "tls";
        case FailureKind::protocol: return "protocol";
        case FailureKind::closed: return "connection_closed";
    }
    return "unknown";
}

// At most this many idle connections are kept per server: enough for a host's bursts.
constexpr size_t kMaxIdleConnections = 8;

}  // namespace

bool is_answer_to(const json& message, const json& id) {
    return message.is_object() && !message.contains("method") && message.contains("id") && message["id"] == id &&
           (message.contains("result") || message.contains("error"));
}

// ---------------------------------------------------------------------------------------------
// UpstreamError

UpstreamError::UpstreamError(std::string server, FailureKind kind, const std::string& reason, json peer)
    : Error(kind == FailureKind::tls_server_rejected_by_us || kind == FailureKind::tls_refused_by_server ? kExitVerification
                                                                                                          : kExitFailed,
            server + ": " + reason),
      server_(std::move(server)),
      kind_(kind),
      peer_(std::move(peer)) {}

json UpstreamError::rpc_error() const {
    return {{"code", kUpstreamErrorCode}, {"message", what()}, {"data", {{"server", server_}, {"failure", failure_name(kind_)}}}};
}

json UpstreamError::log_fields() const {
    json fields = {{"server", server_}, {"failure", failure_name(kind_)}, {"reason", what()}};
    for (auto it = peer_.begin(); it != peer_.end(); ++it) fields[it.key()] = it.value();
    return fields;
}

// ---------------------------------------------------------------------------------------------
// ConnectionPool

ConnectionPool::ConnectionPool(std::string server, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts)
    : server_(std::move(server)), url_(std::move(url)), tls_(std::move(tls)), timeouts_(timeouts) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Idle ConnectionPool::take() {
    auto context = tls_ ? tls_->current() : nullptr;
    std::vector<Idle> stale;  // closed outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    while (!idle_.empty()) {
        Idle idle = std::move(idle_.back());
        idle_.pop_back();
        if (idle.context == context) {
            busy_.insert(idle.connection.get());
            return idle;
        }
        stale.push_back(std::move(idle));  // made with credentials reloaded since
    }
    Idle fresh{std::make_unique<HttpConnection>(url_, context, timeouts_), context};
    busy_.insert(fresh.connection.get());
    return fresh;
}

void ConnectionPool::give_back(Idle idle) {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_.erase(idle.connection.get());
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(idle));
}

void ConnectionPool::abort_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (HttpConnection* connection : busy_) connection->abort();
}

void ConnectionPool::log_new_handshake(const HttpConnection& connection) {
    const auto& verdict = connection.verdict();
    if (verdict.accepted && !verdict.skipped_checks.empty() && !verdict.chain.empty()) {
        // Relaxed mode: the WARNING once per server certificate, not once per connection.
        std::lock_guard<std::mutex> lock(mutex_);
        if (!warned_fingerprints_.insert(verdict.chain.front().fingerprint_sha256()).second) return;
    }
    log_server_verdict(server_, connection);
}

HttpResponse ConnectionPool::send(const std::string& method, const HeaderList& headers, const std::string& body,
                                  const SseEventHandler& on_event) {
    Idle lease = take();
    HttpConnection& connection = *lease.connection;
    const size_t handshakes_before = connection.handshakes();
    try {
        HttpResponse response = connection.request_events(method, headers, body, on_event);
        if (connection.handshakes() != handshakes_before) log_new_handshake(connection);
        give_back(std::move(lease));
        return response;
    } catch (const ConnectionError& e) {
        // A handshake that passed (relaxed mode's WARNING among others) is logged even when the
        // exchange after it failed.
        if (connection.handshakes() != handshakes_before && connection.verdict().accepted) log_new_handshake(connection);
        json peer = json::object();
        const auto& verdict = connection.verdict();
        if (verdict.checked && !verdict.accepted && !verdict.chain.empty()) {
            const auto& leaf = verdict.chain.front();
            peer = {{"subject", leaf.subject()}, {"serial", leaf.serial_hex()}, {"fingerprint_sha256", leaf.fingerprint_sha256()}};
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            busy_.erase(&connection);
        }
        throw UpstreamError(server_, e.kind(), e.what(), std::move(peer));
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_.erase(&connection);
        throw;
    }
}

// ---------------------------------------------------------------------------------------------
// UpstreamSession

UpstreamSession::UpstreamSession(std::string name, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts)
    : name_(std::move(name)), pool_(name_, std::move(url), std::move(tls), timeouts) {}

UpstreamSession::~UpstreamSession() { close(); }

UpstreamSession::State UpstreamSession::state() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return state_;
}

bool UpstreamSession::established() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return established_;
}

json UpstreamSession::initialize_result() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return initialize_result_;
}

int UpstreamSession::exchange(const json& message, const State& state, const MessageSink& on_message, bool& answered,
                              HttpResponse* head) {
    const bool is_request = message.contains("method") && message.contains("id");
    const json id = is_request ? message["id"] : json();
    answered = false;
    StreamPosition position;
    auto deliver = [&](const json& received) {
        if (!received.is_object()) return;
        if (is_request && is_answer_to(received, id)) answered = true;
        if (on_message) on_message(received);
    };
    auto on_event = [&](const SseEvent& event) {
        position.advance(event);
        if (event.data.empty() || (!event.type.empty() && event.type != "message")) return false;
        std::string error;
        const json received = parse_message(event.data, error);
        if (received.is_discarded())
            log_event(spdlog::level::warn, "server_message_unreadable", {{"server", name_}, {"reason", error}});
        else
            deliver(received);
        return false;  // read on to the end of the answer: the connection stays reusable
    };
    const HeaderList headers = session_headers(state.protocol_version, state.session_id);
    HttpResponse response = pool_.send("POST", headers, message.dump(-1, ' ', false, json::error_handler_t::replace), on_event);
    if (head) *head = response;
    if (response.status == 404 && !state.session_id.empty()) return 404;
    if (!is_event_stream(response)) {
        std::string error;
        json body = response.body.empty() ? json() : parse_message(response.body, error);
        if (body.is_object() && (body.contains("result") || body.contains("error"))) {
            // An error the server could not tie to the request (id null) is still its answer.
            if (is_request && body.value("id", json()).is_null()) body["id"] = id;
            if (is_request) {
                deliver(body);
                return response.status;
            }
        }
        if (response.status >= 400) {
            const std::string detail = body.is_object() && body.contains("error") ? body["error"].value("message", "")
                                                                                    : trim(response.body.substr(0, 200));
            throw UpstreamError(name_, FailureKind::protocol,
                                "HTTP " + std::to_string(response.status) + (detail.empty() ? "" : ": " + detail));
        }
        if (is_request)
            throw UpstreamError(name_, FailureKind::protocol,
                                "HTTP " + std::to_string(response.status) + " without a JSON-RPC answer (Content-Type: " +
                                    (response.header("Content-Type").empty() ? "none" : response.header("Content-Type")) + ")");
        return response.status;
    }
    // The stream ended before the answer (the server closed it on purpose, or the connection
    // dropped): come back for the rest after the server's retry delay.
    for (int attempt = 0; is_request && !answered && !position.last_event_id.empty() && attempt < kMaxStreamResumes; ++attempt) {
        if (wait_or_stop(position.retry_ms)) break;
        try {
            const HttpResponse resumed = pool_.send("GET", stream_headers(headers, position.last_event_id), "", on_event);
            if (resumed.status >= 400)
                throw UpstreamError(name_, FailureKind::protocol,
                                    "resuming the answer's event stream failed with HTTP " + std::to_string(resumed.status));
        } catch (const UpstreamError& e) {
            if (e.kind() != FailureKind::closed && e.kind() != FailureKind::timeout) throw;
            // dropped again: try again
        }
    }
    return response.status;
}

void UpstreamSession::open_session(const json& request, const MessageSink& on_message) {
    const State previous = state();
    json answer;
    bool answered = false;
    HttpResponse head;
    exchange(request, State{}, [&](const json& message) {
        if (is_answer_to(message, request["id"])) answer = message;
        if (on_message) on_message(message);
    }, answered, &head);
    if (answer.is_null())
        throw UpstreamError(name_, FailureKind::protocol, "the server ended its event streams without answering initialize");
    if (!answer.contains("result") || !answer["result"].is_object()) return;  // its error went to the host
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        state_.session_id = head.header("Mcp-Session-Id");
        state_.protocol_version = answer["result"].value("protocolVersion", std::string());
        ++state_.epoch;
        established_ = true;
        initialize_result_ = answer["result"];
    }
    log_event(spdlog::level::info, "session_opened", {{"server", name_}, {"session", state().session_id.substr(0, 8)}});
    // A host that initializes again leaves its previous session behind: end it.
    if (!previous.session_id.empty() && previous.session_id != state().session_id) {
        try {
            pool_.send("DELETE", session_headers(previous.protocol_version, previous.session_id), "");
        } catch (const UpstreamError&) {
        }
    }
}

void UpstreamSession::initialize(const json& request, const MessageSink& on_message) {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        initialize_params_ = request.value("params", json::object());
    }
    if (!open_modern(request, on_message)) open_session(request, on_message);
}

bool UpstreamSession::translating() const { return state().era == Era::modern; }

bool UpstreamSession::open_modern(const json& request, const MessageSink& on_message) {
    const json params = request.value("params", json::object());
    const DiscoverVerdict verdict = probe_discover(
        [this](const HeaderList& headers, const std::string& body) { return pool_.send("POST", headers, body); },
        params.value("capabilities", json::object()), true);
    if (verdict.kind != DiscoverVerdict::modern) return false;
    const json& discover = verdict.discover;
    const std::string asked = params.value("protocolVersion", std::string());
    // A server that also speaks the host's version gets the host's own session, forwarded as it
    // is: translation is for a server that speaks only the newer era.
    const json offered = discover.value("supportedVersions", json::array());
    if (offered.is_array() && std::find(offered.begin(), offered.end(), json(asked)) != offered.end()) return false;
    // The host speaks 2025: it gets an initialize result made of what server/discover says.
    const auto& legacy = mcp::protocol::kLegacyVersions;
    const bool known = std::find(legacy.begin(), legacy.end(), asked) != legacy.end();
    json result = {{"protocolVersion", known ? asked : std::string(legacy[0])},
                   {"capabilities", discover.value("capabilities", json::object())},
                   {"serverInfo", discover.value("serverInfo", discover.value("_meta", json::object())
                                                                   .value("io.modelcontextprotocol/serverInfo", json::object()))}};
    if (discover.contains("instructions")) result["instructions"] = discover["instructions"];
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        state_.session_id.clear();
        state_.protocol_version = verdict.version;
        state_.era = Era::modern;
        ++state_.epoch;
        established_ = true;
        initialize_result_ = result;
    }
    log_event(spdlog::level::info, "protocol_translated",
              {{"server", name_}, {"server_version", verdict.version}, {"host_version", result["protocolVersion"]}});
    if (on_message) on_message({{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", result}});
    return true;
}

json UpstreamSession::modern_params(const json& params) const {
    json host;
    std::string version;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        host = initialize_params_;
        version = state_.protocol_version;
    }
    if (!host.is_object()) host = json::object();
    json out = with_meta(params, version, host.value("capabilities", json::object()));
    if (host.contains("clientInfo")) out["_meta"][mcp::protocol::kMetaClientInfo] = host["clientInfo"];
    return out;
}

bool UpstreamSession::modern_request(const json& request, const MessageSink& on_message) {
    const json host_id = request["id"];
    const std::string method = request.value("method", std::string());
    const json original = request.value("params", json::object());
    json params = original;
    for (int round = 0;; ++round) {
        json leg = {{"jsonrpc", "2.0"}, {"method", method}};
        // Every retry is a new request: a new id, the host's id given back on the final answer.
        leg["id"] = round == 0 ? host_id : json("mcp-mtls-bridge-retry-" + std::to_string(++retries_));
        leg["params"] = modern_params(params);
        json schema;
        if (method == "tools/call") {
            std::lock_guard<std::mutex> lock(state_mutex_);
            auto it = tool_schemas_.find(original.value("name", std::string()));
            if (it != tool_schemas_.end()) schema = it->second;
        }
        json answer;
        auto on_event = [&](const SseEvent& event) {
            if (event.data.empty() || (!event.type.empty() && event.type != "message")) return false;
            std::string error;
            const json received = parse_message(event.data, error);
            if (!received.is_object()) return false;
            if (is_answer_to(received, leg["id"])) answer = received;
            else if (on_message) on_message(received);  // progress, log messages
            return false;
        };
        const HttpResponse response = pool_.send("POST", modern_headers(state().protocol_version, leg, schema),
                                                 leg.dump(-1, ' ', false, json::error_handler_t::replace), on_event);
        if (!is_event_stream(response)) {
            std::string error;
            const json body = response.body.empty() ? json() : parse_message(response.body, error);
            if (body.is_object() && (body.contains("result") || body.contains("error"))) answer = body;
            else if (response.status >= 400)
                throw UpstreamError(name_, FailureKind::protocol, "HTTP " + std::to_string(response.status) + ": " + trim(response.body.substr(0, 200)));
        }
        if (answer.is_null()) return false;
        if (answer.contains("result") && is_input_required(answer["result"])) {
            if (round >= kMaxInputRounds)
                throw UpstreamError(name_, FailureKind::protocol, method + " still required input after " + std::to_string(kMaxInputRounds) + " rounds");
            const json result = answer["result"];
            json responses = json::object();
            const json requests = result.value("inputRequests", json::object());
            for (const auto& [key, input] : requests.items()) {
                if (!ask_host_) throw UpstreamError(name_, FailureKind::protocol, "the server asked for input the host cannot be asked for");
                const json reply = ask_host_(input.value("method", std::string()), input.value("params", json::object()));
                if (!reply.contains("result")) {
                    // The host refused (no model, no roots): an input answer cannot carry an error, so the call fails with the host's reason.
                    on_message({{"jsonrpc", "2.0"}, {"id", host_id},
                                {"error", reply.value("error", json{{"code", -32603}, {"message", "the host did not answer " + input.value("method", std::string())}})}});
                    return true;
                }
                responses[key] = reply["result"];
            }
            if (responses.empty() && wait_or_stop(250)) return false;  // requestState alone: come back later
            params = retry_params(original, responses, result.value("requestState", json()));
            continue;
        }
        answer["id"] = host_id;
        if (method == "tools/list" && answer.contains("result") && answer["result"].contains("tools")) {
            json kept = json::array();
            std::lock_guard<std::mutex> lock(state_mutex_);
            for (const auto& tool : answer["result"]["tools"]) {
                const json tool_schema = tool.value("inputSchema", json::object());
                if (auto fault = header_annotation_fault(tool_schema)) {
                    log_event(spdlog::level::warn, "tool_refused", {{"server", name_}, {"tool", tool.value("name", "")}, {"reason", *fault}});
                    continue;
                }
                tool_schemas_[tool.value("name", std::string())] = tool_schema;
                kept.push_back(tool);
            }
            answer["result"]["tools"] = kept;
        }
        if (on_message) on_message(answer);
        return true;
    }
}

void UpstreamSession::modern_post(const json& message) {
    const std::string method = message.value("method", std::string());
    // 2026-07-28 has no notifications/initialized, and no server requests to answer.
    if (method.empty() || method == "notifications/initialized") return;
    json out = message;
    out["params"] = modern_params(message.value("params", json::object()));
    pool_.send("POST", modern_headers(state().protocol_version, out), out.dump(-1, ' ', false, json::error_handler_t::replace));
}

void UpstreamSession::renew(const State& stale) {
    std::lock_guard<std::mutex> renewing(renew_mutex_);
    json params;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (state_.epoch != stale.epoch) return;  // another thread renewed it meanwhile
        params = initialize_params_;
    }
    if (params.is_null()) throw UpstreamError(name_, FailureKind::protocol, "no session yet: the host has not sent initialize");
    const json request = {{"jsonrpc", "2.0"},
                          {"id", "mcp-mtls-bridge-renew-" + std::to_string(++renewals_)},
                          {"method", "initialize"},
                          {"params", params}};
    json answer;
    const MessageSink capture = [&](const json& message) {
        if (is_answer_to(message, request["id"])) answer = message;
    };
    const bool modern = open_modern(request, capture);
    if (!modern) open_session(request, capture);
    if (!answer.contains("result"))
        throw UpstreamError(name_, FailureKind::protocol,
                            "the server refused a new session: " +
                                (answer.contains("error") ? answer["error"].value("message", answer["error"].dump()) : "no answer"));
    bool answered = false;
    if (!modern) exchange({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, state(), nullptr, answered);
    log_event(spdlog::level::info, "session_renewed",
              {{"server", name_}, {"reason", stale.session_id.empty() ? "no session yet" : "the server no longer knows the session"}});
}

bool UpstreamSession::request(const json& request, const MessageSink& on_message) {
    State current = state();
    if (!established()) {
        // The host's initialize did not get through (the server was down): open the session now.
        renew(current);
        current = state();
    }
    if (current.era == Era::modern) return modern_request(request, on_message);
    bool answered = false;
    if (exchange(request, current, on_message, answered) == 404) {
        renew(current);
        if (exchange(request, state(), on_message, answered) == 404)
            throw UpstreamError(name_, FailureKind::protocol, "the server forgot the new session at once (HTTP 404)");
    }
    return answered;
}

void UpstreamSession::post(const json& message) {
    State current = state();
    if (!established()) {
        renew(current);  // sends notifications/initialized itself
        if (message.value("method", "") == "notifications/initialized") return;
        current = state();
    }
    if (current.era == Era::modern) {
        modern_post(message);
        return;
    }
    bool answered = false;
    if (exchange(message, current, nullptr, answered) == 404) {
        renew(current);
        exchange(message, state(), nullptr, answered);
    }
}

bool UpstreamSession::wait_or_stop(long milliseconds) {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    return stop_wake_.wait_for(lock, std::chrono::milliseconds(milliseconds), [&] { return stopping_.load(); });
}

void UpstreamSession::listen(const MessageSink& on_message) {
    StreamPosition position;
    uint64_t position_epoch = 0;
    int failures = 0;  // in a row, to back off while the server is away
    while (!stopping_) {
        State current = state();
        if (current.epoch != position_epoch) {
            position = StreamPosition{};  // another session's event ids mean nothing now
            position_epoch = current.epoch;
        }
        try {
            if (!established()) {
                renew(current);
                continue;
            }
            if (current.era == Era::modern) return;  // 2026-07-28 has no standalone stream
            const HttpResponse response = pool_.send(
                "GET", stream_headers(session_headers(current.protocol_version, current.session_id), position.last_event_id), "",
                [&](const SseEvent& event) {
                    position.advance(event);
                    failures = 0;
                    if (event.data.empty() || (!event.type.empty() && event.type != "message")) return stopping_.load();
                    std::string error;
                    const json received = parse_message(event.data, error);
                    if (received.is_object() && on_message) on_message(received);
                    return stopping_.load();
                });
            if (response.status == 405) {
                log_event(spdlog::level::debug, "no_event_stream", {{"server", name_}});
                return;
            }
            if (response.status == 404 && !current.session_id.empty()) {
                renew(current);
                continue;
            }
            if (response.status >= 400) ++failures;
        } catch (const UpstreamError& e) {
            if (e.kind() != FailureKind::closed && e.kind() != FailureKind::timeout) ++failures;
            log_event(spdlog::level::debug, "event_stream_dropped",
                      {{"server", name_}, {"reason", e.what()}, {"last_event_id", position.last_event_id}});
        }
        // Reopen after the server's retry delay, longer and longer while it is away (30 s at most).
        const long wait = std::min<long>(position.retry_ms << std::min(failures, 5), 30000);
        if (wait_or_stop(wait)) return;
    }
}

void UpstreamSession::start_listening(MessageSink on_message) {
    if (listener_.joinable() || closed_) return;
    listener_done_ = false;
    listener_ = std::thread([this, on_message = std::move(on_message)] {
        try {
            listen(on_message);
        } catch (const std::exception& e) {
            log_event(spdlog::level::warn, "event_stream_failed", {{"server", name_}, {"reason", e.what()}});
        }
        listener_done_ = true;
    });
}

void UpstreamSession::abort() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stopping_ = true;
    }
    stop_wake_.notify_all();
    pool_.abort_all();
}

void UpstreamSession::close() {
    if (closed_.exchange(true)) return;
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stopping_ = true;
    }
    stop_wake_.notify_all();
    if (listener_.joinable()) {
        // Repeated: a stream being reopened right now has no socket to shut down yet.
        while (!listener_done_) {
            pool_.abort_all();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        listener_.join();
    }
    const State current = state();
    if (current.session_id.empty()) return;
    try {
        pool_.send("DELETE", session_headers(current.protocol_version, current.session_id), "");
        log_event(spdlog::level::info, "session_closed", {{"server", name_}, {"session", current.session_id.substr(0, 8)}});
    } catch (const std::exception& e) {
        log_event(spdlog::level::debug, "session_close_failed", {{"server", name_}, {"reason", e.what()}});
    }
}

}  // namespace mcpmtls::client
