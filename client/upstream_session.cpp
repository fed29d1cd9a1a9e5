#include "client/upstream_session.hpp"

#include "client/coordinator.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
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

// ---------------------------------------------------------------------------------------------
// UpstreamError

UpstreamError::UpstreamError(std::string server, FailureKind kind, const std::string& reason, json peer)
    : ConnectionError(kind, server + ": " + reason), server_(std::move(server)), peer_(std::move(peer)) {}

json UpstreamError::rpc_error() const {
    return {{"code", kUpstreamErrorCode}, {"message", what()}, {"data", {{"server", server_}, {"failure", failure_name(kind())}}}};
}

json UpstreamError::log_fields() const {
    json fields = {{"server", server_}, {"failure", failure_name(kind())}, {"reason", what()}};
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
                                  const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) {
    Idle lease = take();
    HttpConnection& connection = *lease.connection;
    const size_t handshakes_before = connection.handshakes();
    try {
        HttpResponse response = connection.request_events(method, headers, body, on_event, on_headers);
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

namespace {

namespace protocol = mcp::protocol;

// Why the server did not open a session, from its answer to initialize.
std::string refusal(const json& answer) {
    return answer.contains("error") && answer["error"].is_object() ? answer["error"].value("message", answer["error"].dump())
                                                                   : std::string("no answer");
}

// The bridge's session heals: whatever notices that the server forgot the session opens a new
// one, the standalone stream included, so that the host never notices.
SessionOptions bridge_options() {
    SessionOptions options;
    options.heal = true;
    options.legacy_after_failed_discover = true;
    options.log_sessions = true;
    return options;
}

}  // namespace

UpstreamSession::UpstreamSession(std::string name, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts)
    : name_(std::move(name)), pool_(name_, url, tls, timeouts), stream_pool_(name_, url, tls, timeouts), core_(name_, *this, bridge_options()) {}

UpstreamSession::~UpstreamSession() { close(); }

HttpResponse UpstreamSession::send(Lane lane, const std::string& method, const HeaderList& headers, const std::string& body,
                                   const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) {
    return (lane == Lane::stream ? stream_pool_ : pool_).send(method, headers, body, on_event, on_headers);
}

void UpstreamSession::fail(const std::string& reason) { throw UpstreamError(name_, FailureKind::protocol, reason); }

json UpstreamSession::answer_input(const std::string& method, const json& params) {
    if (!ask_host_) fail("the server asked for input the host cannot be asked for");
    json reply = ask_host_(method, params);
    // The host refused (no model, no roots): the call fails with the host's reason.
    if (!reply.contains("result") && !reply.contains("error"))
        reply["error"] = {{"code", -32603}, {"message", "the host did not answer " + method}};
    return reply;
}

json UpstreamSession::open(const json& request, const MessageSink& on_message) {
    const json params = request.value("params", json::object());
    const std::string asked = params.value("protocolVersion", std::string());
    // A server that also speaks the host's version gets the host's own session, forwarded as it
    // is: translation is for a server that speaks only the newer era.
    // A 2026-07-28 host has no version of its own to keep: the newest the server offers.
    const json answer = core_.open(request, VersionChoice{}, host_modern_ ? std::string() : asked, on_message);
    if (!translating()) return answer;
    // The host speaks 2025: it gets an initialize result made of what server/discover says.
    const json& discover = answer["result"];
    const auto& legacy = mcp::protocol::kLegacyVersions;
    const bool known = std::find(legacy.begin(), legacy.end(), asked) != legacy.end();
    json result = {{"protocolVersion", known ? asked : std::string(legacy[0])},
                   {"capabilities", discover.value("capabilities", json::object())},
                   {"serverInfo", discover["serverInfo"]}};
    if (discover.contains("instructions")) result["instructions"] = discover["instructions"];
    log_event(spdlog::level::info, "protocol_translated",
              {{"server", name_}, {"server_version", core_.state().protocol_version}, {"host_version", result["protocolVersion"]}});
    return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", result}};
}

void UpstreamSession::initialize(const json& request, const MessageSink& on_message) {
    host_modern_ = false;
    const json answer = open(request, on_message);
    if (on_message) on_message(answer);
}

void UpstreamSession::reopen() {
    const json params = core_.initialize_params();
    if (params.is_null()) fail("no session yet: the host has not sent initialize");
    const json answer = open({{"jsonrpc", "2.0"}, {"id", fresh_id()}, {"method", "initialize"}, {"params", params}}, nullptr);
    if (!answer.contains("result")) fail("the server refused a new session: " + refusal(answer));
}

void UpstreamSession::open_for_modern_host(const json& request) {
    host_modern_ = true;
    if (core_.state().established) return;
    const json params = request.value("params", json::object());
    const json meta = params.is_object() && params.contains("_meta") && params["_meta"].is_object() ? params["_meta"] : json::object();
    json capabilities = meta.value(protocol::kMetaClientCapabilities, json::object());
    if (!capabilities.is_object()) capabilities = json::object();
    json client_info = meta.value(protocol::kMetaClientInfo, json());
    if (!client_info.is_object()) client_info = {{"name", "mcp-mtls-bridge"}, {"version", kVersion}};
    // What a 2025 server is opened with; a 2026 server hears only the capabilities (and the
    // envelope of each request).
    const json initialize = {{"jsonrpc", "2.0"},
                             {"id", fresh_id()},
                             {"method", "initialize"},
                             {"params", {{"protocolVersion", protocol::kLegacyVersions[0]}, {"capabilities", capabilities}, {"clientInfo", client_info}}}};
    const json answer = open(initialize, nullptr);
    if (!answer.contains("result")) fail("the server refused a session: " + refusal(answer));
    const SessionCore::State opened = core_.state();
    if (opened.era == Era::legacy) {
        core_.post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
        log_event(spdlog::level::info, "protocol_translated",
                  {{"server", name_}, {"server_version", opened.protocol_version}, {"host_version", protocol::kModernVersion}});
    }
}

json UpstreamSession::discover_result(json described) {
    if (!described.is_object()) described = json::object();
    json server_info = described.value("serverInfo", json::object());
    // As mcp/server_methods.cpp and mcp/modern_era.cpp answer it: resultType and the caching
    // hints (not to be cached: the server behind may change), serverInfo in _meta. The host
    // reached the bridge in 2026-07-28, and that is the version it is served in.
    json result = {{"cacheScope", "private"},
                   {"resultType", protocol::kResultComplete},
                   {"ttlMs", 0},
                   {"supportedVersions", json::array({protocol::kModernVersion})},
                   {"capabilities", described.value("capabilities", json::object())},
                   {"_meta", {{protocol::kMetaServerInfo, server_info}}}};
    if (described.contains("instructions")) result["instructions"] = described["instructions"];
    return result;
}

bool UpstreamSession::relay(const json& request, const MessageSink& on_message) {
    if (core_.state().era != Era::modern) return relay_to_legacy(request, on_message);
    const json answer = core_.forward(request, on_message);
    if (answer.is_null()) return false;
    if (on_message) on_message(answer);
    return true;
}

bool UpstreamSession::request(const json& request, const MessageSink& on_message) {
    if (core_.state().era == Era::modern) {  // a 2025 host's, or --all's on behalf of either
        const std::string method = request.value("method", std::string());
        if (method == "resources/subscribe" || method == "resources/unsubscribe") return subscribe(request, on_message);
    }
    const json answer = core_.request(request, on_message);
    if (answer.is_null()) return false;
    if (on_message) on_message(answer);
    return true;
}

// ---------------------------------------------------------------------------------------------
// A 2025 host's standalone stream from a 2026-07-28 server

json UpstreamSession::listen_filter() {
    const json described = core_.description();
    const json capabilities = described.is_object() ? described.value("capabilities", json::object()) : json::object();
    json filter = json::object();
    for (const auto& change : kListChanges)
        if (server_offers(capabilities, change.capability, "listChanged")) filter[change.flag] = true;
    std::lock_guard<std::mutex> lock(subscribed_mutex_);
    if (!subscribed_.empty()) filter["resourceSubscriptions"] = subscribed_;
    return filter;
}

void UpstreamSession::start_listening(MessageSink on_message) {
    if (core_.state().era == Era::modern) core_.listen_for(listen_filter());
    core_.start_listening(std::move(on_message));
}

// 2026-07-28 has no resources/subscribe: a subscription is a URI in the listen filter.
bool UpstreamSession::subscribe(const json& request, const MessageSink& on_message) {
    const json& id = request["id"];
    const json params = request.value("params", json::object());
    const auto answer = [&](json message) {
        message["jsonrpc"] = "2.0";
        message["id"] = id;
        if (on_message) on_message(message);
        return true;
    };
    if (!params.is_object() || !params.contains("uri") || !params["uri"].is_string())
        return answer({{"error", {{"code", -32602}, {"message", "params.uri must be the resource's URI (a string)"}}}});
    const json described = core_.description();
    if (!server_offers(described.is_object() ? described.value("capabilities", json::object()) : json::object(), "resources", "subscribe"))
        return answer({{"error", {{"code", -32601}, {"message", name_ + " does not offer resource subscriptions"}}}});
    const std::string uri = params["uri"].get<std::string>();
    {
        std::lock_guard<std::mutex> lock(subscribed_mutex_);
        if (request["method"] == "resources/unsubscribe") {
            subscribed_.erase(uri);
        } else if (subscribed_.size() >= kMaxResourceSubscriptions && !subscribed_.count(uri)) {
            return answer({{"error", {{"code", -32602}, {"message", "at most " + std::to_string(kMaxResourceSubscriptions) + " resource subscriptions per server"}}}});
        } else {
            subscribed_.insert(uri);
        }
    }
    core_.listen_for(listen_filter());
    return answer({{"result", json::object()}});
}

}  // namespace mcpmtls::client
