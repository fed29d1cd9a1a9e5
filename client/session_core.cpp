#include "client/session_core.hpp"

#include "client/stdio_channel.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>
#include <future>

namespace mcpmtls::client {

using json = nlohmann::json;

namespace {

HeaderList headers_of(const SessionCore::State& state) { return session_headers(state.protocol_version, state.session_id); }

std::string dump(const json& message) { return message.dump(-1, ' ', false, json::error_handler_t::replace); }

bool has_header(const HeaderList& headers, const char* name) {
    return std::any_of(headers.begin(), headers.end(), [name](const auto& h) { return h.first == name; });
}

// A stream that dropped or timed out is worth reopening; a refused certificate or a broken
// answer is not.
bool transient(FailureKind kind) { return kind == FailureKind::closed || kind == FailureKind::timeout || kind == FailureKind::connect; }

}  // namespace

bool is_answer_to(const json& message, const json& id) {
    return message.is_object() && !message.contains("method") && message.contains("id") && message["id"] == id &&
           (message.contains("result") || message.contains("error"));
}

SessionCore::SessionCore(std::string name, SessionPolicy& policy, SessionOptions options)
    : name_(std::move(name)), policy_(policy), options_(options) {}

SessionCore::~SessionCore() { stop_listening(); }

SessionCore::State SessionCore::state() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return state_;
}

json SessionCore::description() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return description_;
}

json SessionCore::initialize_params() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    return initialize_params_;
}

// ---------------------------------------------------------------------------------------------
// Opening

json SessionCore::open(const json& initialize, const VersionChoice& choice, const std::string& keep_version, const MessageSink& on_message) {
    const json params = initialize.value("params", json::object());
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        initialize_params_ = params;
    }
    if (!choice.forces_legacy()) {
        const DiscoverVerdict verdict = probe_discover(
            [this](const HeaderList& headers, const std::string& body) { return policy_.send(Lane::call, "POST", headers, body, nullptr, nullptr); },
            params.value("capabilities", json::object()), choice.automatic());
        // Only a modern verdict carries a discover result (an object); a 2025-only server's has none.
        const json offered = verdict.kind == DiscoverVerdict::modern && verdict.discover.is_object()
                                 ? verdict.discover.value("supportedVersions", json::array())
                                 : json::array();
        const bool keep = verdict.kind == DiscoverVerdict::modern && !keep_version.empty() && offered.is_array() &&
                          std::find(offered.begin(), offered.end(), json(keep_version)) != offered.end();
        if (verdict.kind == DiscoverVerdict::modern && !keep) {
            json described = verdict.discover;
            // 2026-07-28 servers name themselves in every result's _meta; users read serverInfo.
            if (!described.contains("serverInfo"))
                described["serverInfo"] = described.value("_meta", json::object()).value(mcp::protocol::kMetaServerInfo, json::object());
            {
                std::lock_guard<std::mutex> lock(state_mutex_);
                state_ = State{"", verdict.version, state_.epoch + 1, Era::modern, true};
                description_ = described;
            }
            log_event(spdlog::level::debug, "protocol_agreed", {{"server", name_}, {"era", "2026"}, {"version", verdict.version}});
            return {{"jsonrpc", "2.0"}, {"id", initialize.value("id", json())}, {"result", described}};
        }
        if (verdict.kind != DiscoverVerdict::modern && verdict.kind != DiscoverVerdict::legacy && !options_.legacy_after_failed_discover)
            policy_.fail("the server does not speak protocol version " +
                         (choice.forces_modern() ? choice.version : std::string(mcp::protocol::kModernVersion)) + " (" + verdict.reason + ")");
    }
    const State previous = state();
    int status = 0;
    HttpResponse head;
    const json answer = exchange(initialize, session_headers("", ""), on_message, Lane::call, status, &head);
    if (answer.is_null()) policy_.fail("the server ended its event streams without answering initialize");
    if (!answer.contains("result") || !answer["result"].is_object()) return answer;
    const State opened{head.header(mcp::protocol::kHeaderSessionId), answer["result"].value("protocolVersion", params.value("protocolVersion", "")),
                       previous.epoch + 1, Era::legacy, true};
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        state_ = opened;
        description_ = answer["result"];
    }
    log_event(session_level(), "session_opened",
              {{"server", name_}, {"session", opened.session_id.substr(0, 8)}});
    // A session opened again leaves the previous one behind: end it.
    if (previous.session_id != opened.session_id) end(previous);
    return answer;
}

void SessionCore::renew(const State& stale) {
    std::lock_guard<std::mutex> renewing(renew_mutex_);
    if (state().epoch != stale.epoch) return;  // another thread renewed it meanwhile
    policy_.reopen();
    const State renewed = state();
    if (renewed.era == Era::legacy) {
        int status = 0;
        exchange({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, headers_of(renewed),
                 nullptr, Lane::call, status);
    }
    log_event(session_level(), "session_renewed",
              {{"server", name_}, {"reason", stale.established ? "the server no longer knows the session" : "no session yet"}});
}

// ---------------------------------------------------------------------------------------------
// Requests

json SessionCore::request(const json& message, const MessageSink& on_message) { return deliver(message, on_message, Lane::call); }

void SessionCore::post(const json& message, Lane lane) { deliver(message, nullptr, lane); }

json SessionCore::forward(const json& message, const MessageSink& on_message) {
    const State current = state();
    if (!current.established || current.era != Era::modern) return request(message, on_message);
    const std::string method = message.value("method", std::string());
    const json params = message.value("params", json::object());
    const bool named = method == "tools/call" && params.is_object() && params.contains("name") && params["name"].is_string();
    const json schema = named ? schema_of(params["name"].get<std::string>()) : json();
    int status = 0;
    json answer = exchange(message, modern_headers(current.protocol_version, message, schema), on_message, Lane::call, status);
    if (!answer.is_null() && method == "tools/list") keep_schemas(answer);
    return answer;
}

json SessionCore::deliver(const json& message, const MessageSink& on_message, Lane lane) {
    const std::string method = message.value("method", std::string());
    State current = state();
    if (!current.established) {
        renew(current);  // sends notifications/initialized itself
        if (method == "notifications/initialized") return nullptr;
        current = state();
    }
    for (int attempt = 0;; ++attempt) {
        int status = 0;
        if (current.era == Era::modern) {
            if (message.contains("id") && !method.empty()) return modern_request(message, on_message);
            // 2026-07-28 has no notifications/initialized, and no server requests to answer.
            if (method.empty() || method == "notifications/initialized") return nullptr;
            json out = message;
            out["params"] = modern_params(message.value("params", json::object()));
            return exchange(out, modern_headers(current.protocol_version, out), nullptr, lane, status);
        }
        json answer = exchange(message, headers_of(current), on_message, lane, status);
        if (status != 404 || current.session_id.empty()) return answer;
        // The server forgot the session (a restart, an expiry, another replica): a new one, once.
        // An answer belongs to the session that asked, so it does not go to the new one.
        if (attempt > 0 || method.empty())
            policy_.fail(attempt > 0 ? "the server forgot the new session at once (HTTP 404)" : "HTTP 404: the server no longer knows the session");
        renew(current);
        current = state();
    }
}

json SessionCore::exchange(const json& message, const HeaderList& headers, const MessageSink& on_message, Lane lane, int& status,
                           HttpResponse* head) {
    const bool is_request = message.contains("method") && message.contains("id");
    const json id = is_request ? message["id"] : json();
    json answer;
    StreamPosition position;
    auto on_event = [&](const SseEvent& event) {
        position.advance(event);
        if (event.data.empty() || (!event.type.empty() && event.type != "message")) return false;
        std::string error;
        const json received = parse_message(event.data, error);
        if (received.is_discarded()) {
            log_event(spdlog::level::warn, "server_message_unreadable", {{"server", name_}, {"reason", error}});
            return false;
        }
        if (!received.is_object()) return false;
        if (is_request && is_answer_to(received, id)) {
            answer = received;
            return options_.stop_at_answer;
        }
        if (on_message) on_message(received);
        return false;
    };
    const HttpResponse response = policy_.send(lane, "POST", headers, dump(message), on_event, nullptr);
    status = response.status;
    if (head) *head = response;
    if (status == 404 && has_header(headers, mcp::protocol::kHeaderSessionId)) return nullptr;
    if (!is_event_stream(response)) {
        std::string error;
        json body = response.body.empty() ? json() : parse_message(response.body, error);
        if (is_request && body.is_array()) {
            auto it = std::find_if(body.begin(), body.end(), [&](const json& item) { return is_answer_to(item, id); });
            body = it == body.end() ? json() : json(*it);
        }
        if (is_request && body.is_object() && (body.contains("result") || body.contains("error"))) {
            // An error the server could not tie to the request (id null) is still its answer.
            if (body.value("id", json()).is_null()) body["id"] = id;
            if (body["id"] == id) return body;
        }
        if (status >= 400) {
            const std::string detail = body.is_object() && body.contains("error") && body["error"].is_object()
                                           ? body["error"].value("message", "")
                                           : trim(response.body.substr(0, 200));
            policy_.fail("HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail));
        }
        if (is_request)
            policy_.fail("HTTP " + std::to_string(status) + " without a JSON-RPC answer (Content-Type: " +
                         (response.header("Content-Type").empty() ? "none" : response.header("Content-Type")) + ")");
        return nullptr;
    }
    // The stream ended before the answer (the server closed it on purpose, or the connection
    // dropped): come back for the rest after the server's retry delay. (2026-07-28 has no GET.)
    const bool modern = has_header(headers, mcp::protocol::kHeaderMethod);
    for (int attempt = 0; is_request && !modern && answer.is_null() && !position.last_event_id.empty() && attempt < kMaxStreamResumes; ++attempt) {
        if (wait_or_stop(position.retry_ms)) break;
        try {
            const HttpResponse resumed = policy_.send(lane, "GET", stream_headers(headers, position.last_event_id), "", on_event, nullptr);
            if (resumed.status >= 400) policy_.fail("resuming the answer's event stream failed with HTTP " + std::to_string(resumed.status));
        } catch (const ConnectionError& e) {
            if (!transient(e.kind())) throw;  // else dropped again: try again
        }
    }
    return answer;
}

json SessionCore::modern_params(const json& params) const {
    json opened;
    std::string version;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        opened = initialize_params_;
        version = state_.protocol_version;
    }
    if (!opened.is_object()) opened = json::object();
    json out = with_meta(params, version, opened.value("capabilities", json::object()));
    if (opened.contains("clientInfo")) out["_meta"][mcp::protocol::kMetaClientInfo] = opened["clientInfo"];
    return out;
}

json SessionCore::schema_of(const std::string& tool) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            auto it = tool_schemas_.find(tool);
            if (it != tool_schemas_.end()) return it->second;
        }
        if (attempt == 0) policy_.learn_tools();
    }
    return nullptr;
}

void SessionCore::keep_schemas(json& answer) {
    if (!answer.contains("result") || !answer["result"].is_object() || !answer["result"].contains("tools")) return;
    json kept = json::array();
    std::lock_guard<std::mutex> lock(state_mutex_);
    for (const auto& tool : answer["result"]["tools"]) {
        const json schema = tool.value("inputSchema", json::object());
        // 2026-07-28: a tool whose x-mcp-header annotations are invalid must not be used.
        if (auto fault = header_annotation_fault(schema)) {
            log_event(spdlog::level::warn, "tool_refused", {{"server", name_}, {"tool", tool.value("name", "")}, {"reason", *fault}});
            continue;
        }
        tool_schemas_[tool.value("name", std::string())] = schema;
        kept.push_back(tool);
    }
    answer["result"]["tools"] = kept;
}

// 2026-07-28: an input-required result is answered and the request sent again, on a new id, with
// the answers and the server's requestState; the final answer gets the request's own id.
json SessionCore::modern_request(const json& request, const MessageSink& on_message) {
    const json id = request.value("id", json());
    const std::string method = request.value("method", std::string());
    const json original = request.value("params", json::object());
    const json schema = method == "tools/call" ? schema_of(original.value("name", std::string())) : json();
    json params = original;
    for (int round = 0;; ++round) {
        json leg = {{"jsonrpc", "2.0"}, {"id", round == 0 ? id : policy_.fresh_id()}, {"method", method}, {"params", modern_params(params)}};
        int status = 0;
        json answer = exchange(leg, modern_headers(state().protocol_version, leg, schema), on_message, Lane::call, status);
        if (answer.is_null()) return answer;
        if (answer.contains("result") && is_input_required(answer["result"])) {
            if (round >= kMaxInputRounds) policy_.fail(method + " still required input after " + std::to_string(kMaxInputRounds) + " rounds");
            const json result = answer["result"];
            json responses = json::object();
            const json requests = result.value("inputRequests", json::object());
            if (requests.is_object())
                for (const auto& [key, input] : requests.items()) {
                    const std::string asked = input.value("method", std::string());
                    const json reply = policy_.answer_input(asked, input.value("params", json::object()));
                    // An input answer cannot carry an error: the request fails with the reason.
                    if (!reply.contains("result"))
                        return {{"jsonrpc", "2.0"}, {"id", id},
                                {"error", reply.value("error", json{{"code", -32603}, {"message", "no answer to " + asked}})}};
                    responses[key] = reply["result"];
                }
            // A requestState alone asks the client to come back later: pace it.
            if (responses.empty() && wait_or_stop(250)) return nullptr;
            params = retry_params(original, responses, result.value("requestState", json()));
            continue;
        }
        answer["id"] = id;
        if (method == "tools/list") keep_schemas(answer);
        return answer;
    }
}

// ---------------------------------------------------------------------------------------------
// The standalone stream, and the end

bool SessionCore::wait_or_stop(long milliseconds) {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    return stop_wake_.wait_for(lock, std::chrono::milliseconds(milliseconds), [&] { return stopping_.load(); });
}

void SessionCore::listen(const MessageSink& on_message, const std::function<void(bool)>& opened) {
    std::function<void(bool)> tell = opened;
    auto report = [&tell](bool ok) {
        if (tell) tell(ok);
        tell = nullptr;
    };
    StreamPosition position;
    uint64_t position_epoch = 0;
    int failures = 0;  // in a row, to back off while the server is away
    while (!stopping_) {
        const State current = state();
        if (current.epoch != position_epoch) {
            position = StreamPosition{};  // another session's event ids mean nothing now
            position_epoch = current.epoch;
        }
        try {
            if (current.established && current.era == Era::modern) {
                if (!listen_modern(current, on_message, report, failures)) break;
                continue;
            }
            if (!current.established) {
                if (!options_.heal) break;
                renew(current);
                continue;
            }
            const HttpResponse response = policy_.send(
                Lane::stream, "GET", stream_headers(headers_of(current), position.last_event_id), "",
                [&](const SseEvent& event) {
                    position.advance(event);
                    failures = 0;
                    if (event.data.empty() || (!event.type.empty() && event.type != "message")) return stopping_.load();
                    std::string error;
                    const json received = parse_message(event.data, error);
                    if (received.is_object() && on_message) on_message(received);
                    return stopping_.load();
                },
                [&](const HttpResponse& head) { report(head.status == 200); });
            if (response.status == 405) {
                log_event(spdlog::level::debug, "no_event_stream", {{"server", name_}});
                break;
            }
            if ((response.status == 404 && !current.session_id.empty()) || response.status == 400) {
                if (!options_.heal) break;  // the session is gone, and the stream with it
                if (response.status == 404) {
                    renew(current);
                    continue;
                }
            }
            if (response.status >= 400) ++failures;
        } catch (const ConnectionError& e) {
            report(false);
            if (!options_.heal && e.code() == kExitVerification) break;
            if (e.kind() != FailureKind::closed && e.kind() != FailureKind::timeout) ++failures;
            log_event(spdlog::level::debug, "event_stream_dropped", {{"server", name_}, {"reason", e.what()}, {"last_event_id", position.last_event_id}});
        }
        // Reopen after the server's retry delay, longer and longer while it is away (30 s at most).
        if (wait_or_stop(std::min<long>(position.retry_ms << std::min(failures, 5), 30000))) break;
    }
    report(false);
}

bool SessionCore::listen_modern(const State& current, const MessageSink& on_message, const std::function<void(bool)>& report,
                                int& failures) {
    json filter;
    uint64_t epoch = 0;
    {
        std::unique_lock<std::mutex> lock(stop_mutex_);
        if (listen_filter_.is_null()) return false;  // nobody asked for notifications
        // Nothing to listen for now: held until there is (or the end).
        listening_epoch_ = filter_epoch_.load();
        stop_wake_.wait(lock, [&] { return stopping_.load() || !listen_filter_.empty(); });
        if (stopping_) return false;
        filter = listen_filter_;
        epoch = filter_epoch_;
        listening_epoch_ = epoch;
    }
    const json message = {{"jsonrpc", "2.0"},
                          {"id", policy_.fresh_id()},
                          {"method", "subscriptions/listen"},
                          {"params", modern_params({{"notifications", filter}})}};
    const auto superseded = [&] { return stopping_.load() || filter_epoch_ != epoch; };
    StreamPosition position;
    try {
        const HttpResponse response = policy_.send(
            Lane::stream, "POST", modern_headers(current.protocol_version, message), dump(message),
            [&](const SseEvent& event) {
                position.advance(event);
                failures = 0;
                if (event.data.empty() || (!event.type.empty() && event.type != "message")) return superseded();
                std::string error;
                json received = parse_message(event.data, error);
                if (!received.is_object() || !received.contains("method")) return superseded();
                if (received["method"] == "notifications/subscriptions/acknowledged") {
                    log_event(spdlog::level::debug, "listening", {{"server", name_}, {"notifications", received["params"].value("notifications", json())}});
                    {
                        std::lock_guard<std::mutex> lock(stop_mutex_);
                        acknowledged_epoch_ = std::max(acknowledged_epoch_, epoch);
                    }
                    stop_wake_.notify_all();
                    return superseded();
                }
                // The subscription id tells apart streams this session never has more than one of.
                if (received.contains("params") && received["params"].is_object() && received["params"].contains("_meta") &&
                    received["params"]["_meta"].is_object()) {
                    json& meta = received["params"]["_meta"];
                    meta.erase(mcp::protocol::kMetaSubscriptionId);
                    if (meta.empty()) received["params"].erase("_meta");
                }
                if (on_message && !superseded()) on_message(received);
                return superseded();
            },
            [&](const HttpResponse& head) { report(head.status == 200); });
        if (superseded()) return true;
        if (!is_event_stream(response)) {  // refused (no such method, a bad filter): not asked again
            log_event(spdlog::level::warn, "listen_refused", {{"server", name_}, {"status", response.status}, {"answer", response.body.substr(0, 200)}});
            return false;
        }
    } catch (const ConnectionError& e) {
        report(false);
        if (superseded()) return true;  // cut short to be opened again with the new filter
        if (e.kind() != FailureKind::closed && e.kind() != FailureKind::timeout) ++failures;
        log_event(spdlog::level::debug, "event_stream_dropped", {{"server", name_}, {"reason", e.what()}});
    }
    // The server ended the stream: listen again after its retry delay, longer while it is away,
    // or at once for a new filter.
    const long delay = std::min<long>(position.retry_ms << std::min(failures, 5), 30000);
    std::unique_lock<std::mutex> lock(stop_mutex_);
    stop_wake_.wait_for(lock, std::chrono::milliseconds(delay), [&] { return stopping_.load() || filter_epoch_ != epoch; });
    return !stopping_;
}

void SessionCore::listen_for(json filter) {
    uint64_t epoch = 0;
    bool listening = false;
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        if (listen_filter_ == filter) return;
        listening = !listen_filter_.is_null() && !listener_done_;  // the stream's thread runs
        listen_filter_ = std::move(filter);
        epoch = ++filter_epoch_;
    }
    stop_wake_.notify_all();
    if (!listening) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    // The stream open now is cut until the thread has taken the new filter up: a cut that came
    // before its request went out would leave the old filter open.
    while (listening_epoch_ < epoch && !stopping_ && !listener_done_ && std::chrono::steady_clock::now() < deadline) {
        policy_.interrupt_stream();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::unique_lock<std::mutex> lock(stop_mutex_);
    if (listen_filter_.empty()) return;  // nothing for the server to acknowledge
    stop_wake_.wait_until(lock, deadline, [&] { return stopping_.load() || listener_done_.load() || acknowledged_epoch_ >= epoch; });
}

void SessionCore::start_listening(MessageSink on_message, std::chrono::milliseconds wait_open) {
    if (listener_.joinable() || stopping_) return;
    listener_done_ = false;
    auto opened = std::make_shared<std::promise<bool>>();
    std::future<bool> ready = opened->get_future();
    listener_ = std::thread([this, on_message = std::move(on_message), opened] {
        try {
            listen(on_message, [opened](bool ok) { opened->set_value(ok); });
        } catch (const std::exception& e) {
            log_event(spdlog::level::warn, "event_stream_failed", {{"server", name_}, {"reason", e.what()}});
        }
        listener_done_ = true;
    });
    if (wait_open.count() > 0) ready.wait_for(wait_open);
}

void SessionCore::stop_listening() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stopping_ = true;
    }
    stop_wake_.notify_all();
    if (!listener_.joinable()) return;
    // Repeated: a stream being reopened right now has no socket to shut down yet.
    while (!listener_done_) {
        policy_.interrupt();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    listener_.join();
}

void SessionCore::abort() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stopping_ = true;
    }
    stop_wake_.notify_all();
    policy_.interrupt();
}

void SessionCore::close() {
    stop_listening();
    // The session is the server's resource (a --max-sessions slot) until it is DELETEd or expires,
    // so it is ended even when the connection has gone meanwhile.
    State current;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        current = state_;
        state_.session_id.clear();
    }
    end(current);
}

void SessionCore::end(const State& session) {
    if (session.session_id.empty()) return;
    try {
        policy_.send(Lane::call, "DELETE", headers_of(session), "", nullptr, nullptr);
        log_event(session_level(), "session_closed", {{"server", name_}, {"session", session.session_id.substr(0, 8)}});
    } catch (const std::exception& e) {
        log_event(spdlog::level::debug, "session_close_failed", {{"server", name_}, {"reason", e.what()}});
    }
}

}  // namespace mcpmtls::client
