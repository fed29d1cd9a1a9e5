#include "client/mcp_session.hpp"

#include "client/stream_position.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"
#include "mcp/protocol.hpp"

#include <future>
#include <thread>

namespace mcpmtls::client {

McpSession::McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts)
    : name_(std::move(server_name)), connection_(std::move(url), tls, timeouts), tls_(std::move(tls)), timeouts_(timeouts) {}

McpSession::~McpSession() {
    try {
        close();
    } catch (...) {
        // closing is a courtesy to the server; never throw from a destructor
    }
}

std::vector<std::pair<std::string, std::string>> McpSession::headers(bool with_session) const {
    return with_session ? session_headers(protocol_version_, session_id_) : session_headers("", "");
}

namespace {

bool is_response_to(const json& message, long id) {
    return message.is_object() && message.contains("id") && message["id"].is_number_integer() &&
           message["id"].get<long>() == id && (message.contains("result") || message.contains("error"));
}

}  // namespace

json find_rpc_response(const HttpResponse& response, long id) {
    const std::string type = to_lower(response.header("Content-Type"));
    if (type.find("text/event-stream") != std::string::npos) {
        for (const auto& event : split(response.body, '\n')) {
            std::string line = event;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("data:", 0) != 0) continue;
            json message = json::parse(trim(line.substr(5)), nullptr, false);
            if (is_response_to(message, id)) return message;
        }
        throw ConnectionError(FailureKind::protocol, "the event stream ended without an answer to request " + std::to_string(id));
    }
    json message = json::parse(response.body, nullptr, false);
    if (message.is_discarded()) throw ConnectionError(FailureKind::protocol, "the server answered with invalid JSON");
    if (message.is_array())
        for (const auto& item : message)
            if (is_response_to(item, id)) return item;
    if (is_response_to(message, id)) return message;
    throw ConnectionError(FailureKind::protocol, "no JSON-RPC answer to request " + std::to_string(id));
}

json McpSession::request(const std::string& method, const json& params) { return exchange(method, params, nullptr); }

json McpSession::exchange(const std::string& method, const json& params, const ProgressHandler& on_progress) {
    if (!initialized_ && method != "initialize") initialize();
    if (era_ == Era::legacy) return send_request(method, params, on_progress);
    // 2026-07-28: an input-required result is answered and the request sent again, on a new id,
    // with the answers and the server's requestState; never carried over to another request.
    json current = params;
    for (int round = 0;; ++round) {
        json result = send_request(method, current, on_progress);
        if (!is_input_required(result)) return result;
        if (round >= kMaxInputRounds)
            throw RpcError(0, name_ + ": " + method + " still required input after " + std::to_string(kMaxInputRounds) + " rounds");
        json responses = json::object();
        const json requests = result.value("inputRequests", json::object());
        if (requests.is_object())
            for (const auto& [key, input] : requests.items())
                responses[key] = answer_input_request(input.value("method", std::string()), input.value("params", json::object()));
        // A requestState alone asks the client to come back later: pace it.
        if (responses.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
        current = retry_params(params, responses, result.value("requestState", json()));
    }
}

json McpSession::send_request(const std::string& method, const json& params, const ProgressHandler& on_progress) {
    const bool modern = era_ == Era::modern;
    long id = next_id_++;
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (modern) message["params"] = with_meta(params, protocol_version_, capabilities());
    else if (!params.is_null()) message["params"] = params;
    json progress_token;
    if (on_progress && message["params"].is_object()) {
        progress_token = name_ + "-" + std::to_string(id);
        message["params"]["_meta"]["progressToken"] = progress_token;
    }
    json schema;
    if (modern && method == "tools/call") {
        const std::string tool = params.value("name", std::string());
        if (!tool_schemas_.count(tool)) list_tools();
        if (tool_schemas_.count(tool)) schema = tool_schemas_[tool];
    }
    auto headers_now = [&] { return modern ? modern_headers(protocol_version_, message, schema) : headers(method != "initialize"); };
    json answer;
    StreamPosition position;
    auto on_event = [&](const SseEvent& event) {
        position.advance(event);
        if (event.data.empty() || (!event.type.empty() && event.type != "message")) return false;
        json received = json::parse(event.data, nullptr, false);
        if (is_response_to(received, id)) {
            answer = std::move(received);
            return true;
        }
        if (received.is_object()) handle_server_message(received, progress_token, on_progress);
        return false;
    };
    HttpResponse response = connection_.request_events("POST", headers_now(), message.dump(), on_event);
    if (!modern && response.status == 404 && !session_id_.empty() && method != "initialize") {
        // The server forgot our session (restart or expiry): start a new one, once.
        session_id_.clear();
        initialized_ = false;
        initialize();
        message["id"] = id = next_id_++;
        response = connection_.request_events("POST", headers(true), message.dump(), on_event);
        if (response.status >= 400) throw RpcError(0, name_ + ": HTTP " + std::to_string(response.status) + " " + trim(response.body.substr(0, 200)));
    }
    if (response.status >= 400 && response.header("Content-Type").find("json") == std::string::npos)
        throw RpcError(0, "HTTP " + std::to_string(response.status) + (response.body.empty() ? "" : ": " + trim(response.body.substr(0, 200))));
    // The stream ended before the answer (the server closed it on purpose, or the connection
    // dropped): come back for the rest after the server's retry delay. (2026-07-28 has no GET.)
    for (int attempt = 0; !modern && answer.is_null() && is_event_stream(response) && !position.last_event_id.empty() &&
                          attempt < kMaxStreamResumes;
         ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(position.retry_ms));
        try {
            response = connection_.request_events("GET", stream_headers(headers(true), position.last_event_id), "", on_event);
        } catch (const ConnectionError& e) {
            if (e.code() == kExitVerification) throw;
            continue;  // dropped again: try again
        }
        if (response.status >= 400)
            throw RpcError(0, name_ + ": resuming the answer's event stream failed with HTTP " + std::to_string(response.status));
    }
    if (answer.is_null()) answer = find_rpc_response(response, id);
    if (answer.contains("error")) {
        const auto& error = answer["error"];
        throw RpcError(error.value("code", 0), error.value("message", std::string("unknown error")));
    }
    if (method == "initialize") session_id_ = response.header(mcp::protocol::kHeaderSessionId);
    return answer["result"];
}

json McpSession::capabilities() const {
    json capabilities = json::object();
    if (handlers_.elicit) capabilities["elicitation"] = json::object();
    if (handlers_.roots.is_array()) capabilities["roots"] = json::object();
    return capabilities;
}

json McpSession::answer_input_request(const std::string& method, const json& params) {
    if (method == "elicitation/create") return handlers_.elicit ? handlers_.elicit(params) : json{{"action", "decline"}};
    if (method == "roots/list") return {{"roots", handlers_.roots.is_array() ? handlers_.roots : json::array()}};
    if (method == "ping" && era_ == Era::legacy) return json::object();
    if (method == "sampling/createMessage")
        throw RpcError(mcp::protocol::kUserRejected, name_ + " asked for sampling (sampling/createMessage): declined, this client has no model");
    throw RpcError(-32601, "this client does not handle " + (method.empty() ? std::string("an input request without a method") : method));
}

void McpSession::handle_server_message(const json& message, const json& progress_token, const ProgressHandler& on_progress) {
    if (!message.contains("method") || !message["method"].is_string()) return;  // an answer to nothing we asked
    const std::string method = message["method"].get<std::string>();
    const json params = message.value("params", json::object());
    if (message.contains("id")) {
        // A request from the server: answer it on the side connection (this one is busy reading).
        const json& id = message["id"];
        try {
            json answer;
            try {
                answer = answer_input_request(method, params);
            } catch (const RpcError& e) {
                answer_server(id, {{"code", e.rpc_code()}, {"message", e.what()}}, true);
                return;
            }
            answer_server(id, answer, false);
        } catch (const ConnectionError&) {
            throw;
        } catch (const std::exception& e) {
            answer_server(id, {{"code", -32603}, {"message", e.what()}}, true);
        }
        return;
    }
    if (method == "notifications/progress") {
        if (on_progress && params.value("progressToken", json()) == progress_token) on_progress(params);
        return;
    }
    if (handlers_.notify) handlers_.notify(message);
}

HttpConnection& McpSession::side_connection() {
    if (!side_connection_) side_connection_ = std::make_unique<HttpConnection>(connection_.url(), tls_, timeouts_);
    return *side_connection_;
}

void McpSession::answer_server(const json& id, const json& result_or_error, bool is_error) {
    const json message = {{"jsonrpc", "2.0"}, {"id", id}, {is_error ? "error" : "result", result_or_error}};
    std::lock_guard<std::mutex> lock(side_mutex_);
    const HttpResponse response = side_connection().request("POST", headers(true), message.dump());
    if (response.status >= 400)
        log_event(spdlog::level::warn, "answer_refused", {{"server", name_}, {"status", response.status}});
}

bool McpSession::listen(const std::atomic<bool>& stop, const std::function<void(bool)>& opened) {
    if (!initialized_) initialize();
    if (era_ == Era::modern) {  // 2026-07-28 has no standalone stream
        if (opened) opened(false);
        return false;
    }
    HttpConnection* stream;
    {
        std::lock_guard<std::mutex> lock(listen_mutex_);
        listen_connection_ = std::make_unique<HttpConnection>(connection_.url(), tls_, timeouts_);
        stream = listen_connection_.get();
    }
    std::function<void(bool)> tell = opened;
    auto report = [&tell](bool ok) {
        if (tell) tell(ok);
        tell = nullptr;
    };
    StreamPosition position;
    bool offered = true;
    while (!stop.load()) {
        try {
            const HttpResponse response = stream->request_events(
                "GET", stream_headers(headers(true), position.last_event_id), "",
                [&](const SseEvent& event) {
                    position.advance(event);
                    json received = event.data.empty() ? json() : json::parse(event.data, nullptr, false);
                    if (received.is_object()) handle_server_message(received, nullptr, nullptr);
                    return stop.load();
                },
                [&](const HttpResponse& head) { report(head.status == 200); });
            if (response.status == 405) {
                offered = false;
                break;
            }
            if (response.status == 404 || response.status == 400) break;  // the session is gone
        } catch (const ConnectionError& e) {
            report(false);
            if (e.code() == kExitVerification) break;
            log_event(spdlog::level::debug, "event_stream_dropped", {{"server", name_}, {"reason", e.what()}, {"last_event_id", position.last_event_id}});
        }
        // Dropped or ended: reopen after the server's retry delay, resuming after the last event.
        for (long waited = 0; waited < position.retry_ms && !stop.load(); waited += 50) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    report(false);
    return offered;
}

void McpSession::start_listening() {
    if (listener_.joinable()) return;
    stop_listening_ = false;
    listener_done_ = false;
    auto opened = std::make_shared<std::promise<bool>>();
    std::future<bool> ready = opened->get_future();
    listener_ = std::thread([this, opened] {
        try {
            listen(stop_listening_, [opened](bool ok) { opened->set_value(ok); });
        } catch (const std::exception& e) {
            log_event(spdlog::level::debug, "event_stream_failed", {{"server", name_}, {"reason", e.what()}});
        }
        listener_done_ = true;
    });
    // A server's request on that stream would be lost if it came before the stream is open.
    ready.wait_for(std::chrono::seconds(2));
}

void McpSession::stop_listening() {
    if (!listener_.joinable()) return;
    stop_listening_ = true;
    // Repeated: a stream being reconnected right now has no socket to shut down yet.
    while (!listener_done_.load()) {
        {
            std::lock_guard<std::mutex> lock(listen_mutex_);
            if (listen_connection_) listen_connection_->abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    listener_.join();
    std::lock_guard<std::mutex> lock(listen_mutex_);
    listen_connection_.reset();
}

void McpSession::notify(const std::string& method, const json& params) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (era_ == Era::modern) message["params"] = with_meta(params, protocol_version_, capabilities());
    else if (!params.is_null()) message["params"] = params;
    const HeaderList sent = era_ == Era::modern ? modern_headers(protocol_version_, message) : headers(true);
    HttpResponse response = connection_.request("POST", sent, message.dump());
    if (response.status >= 400) throw RpcError(0, "notification " + method + " refused with HTTP " + std::to_string(response.status));
}

const json& McpSession::initialize() {
    if (initialized_) return init_result_;
    if (choice_.forces_legacy()) {
        initialize_legacy(choice_.version);
        return init_result_;
    }
    const DiscoverVerdict verdict = probe_discover(
        [this](const HeaderList& headers, const std::string& body) { return connection_.request("POST", headers, body); }, capabilities(),
        choice_.automatic());
    switch (verdict.kind) {
        case DiscoverVerdict::modern:
            era_ = Era::modern;
            protocol_version_ = verdict.version;
            init_result_ = verdict.discover;
            // 2026-07-28 servers name themselves in every result's _meta; callers read serverInfo.
            if (!init_result_.contains("serverInfo"))
                init_result_["serverInfo"] = init_result_.value("_meta", json::object()).value("io.modelcontextprotocol/serverInfo", json::object());
            initialized_ = true;
            log_event(spdlog::level::debug, "protocol_agreed", {{"server", name_}, {"era", "2026"}, {"version", protocol_version_}});
            return init_result_;
        case DiscoverVerdict::legacy:
            initialize_legacy(kClientProtocolVersion);
            return init_result_;
        default:
            throw RpcError(0, name_ + ": the server does not speak protocol version " +
                                  (choice_.forces_modern() ? choice_.version : std::string(mcp::protocol::kModernVersion)) + " (" +
                                  verdict.reason + ")");
    }
}

const json& McpSession::initialize_session() {
    initialize_legacy(kClientProtocolVersion);
    return init_result_;
}

void McpSession::initialize_legacy(const std::string& version) {
    era_ = Era::legacy;
    json params = {{"protocolVersion", version},
                   {"capabilities", capabilities()},
                   {"clientInfo", {{"name", "mcp-mtls-client"}, {"version", kVersion}}}};
    init_result_ = send_request("initialize", params, nullptr);
    protocol_version_ = init_result_.value("protocolVersion", version);
    if (choice_.forces_legacy() && protocol_version_ != choice_.version) {
        const std::string offered = protocol_version_;
        close();
        throw RpcError(0, name_ + ": the server answered initialize with protocol version " + offered + ", not the forced " + choice_.version);
    }
    initialized_ = true;
    notify("notifications/initialized", nullptr);
    if (handlers_.elicit || handlers_.roots.is_array()) start_listening();
}

json McpSession::list_tools() {
    json tools = json::array();
    json params = json::object();
    for (int page = 0; page < 100; ++page) {
        json result = request("tools/list", params);
        for (auto& tool : result.value("tools", json::array())) {
            const json schema = tool.value("inputSchema", json::object());
            if (era_ == Era::modern) {
                // 2026-07-28: a tool whose x-mcp-header annotations are invalid must not be used.
                if (auto fault = header_annotation_fault(schema)) {
                    log_event(spdlog::level::warn, "tool_refused", {{"server", name_}, {"tool", tool.value("name", "")}, {"reason", *fault}});
                    continue;
                }
            }
            tool_schemas_[tool.value("name", std::string())] = schema;
            tools.push_back(tool);
        }
        if (!result.contains("nextCursor") || result["nextCursor"].is_null()) break;
        params["cursor"] = result["nextCursor"];
    }
    return tools;
}

json McpSession::call_tool(const std::string& name, const json& arguments) {
    return request("tools/call", {{"name", name}, {"arguments", arguments}});
}

json McpSession::call_tool(const std::string& name, const json& arguments, const ProgressHandler& on_progress) {
    return exchange("tools/call", {{"name", name}, {"arguments", arguments}}, on_progress);
}

void McpSession::close() {
    stop_listening();
    // The session is the server's resource (a --max-sessions slot) until it is DELETEd or expires,
    // so it is ended even when the connection has gone meanwhile: on a new one, resumed.
    if (session_id_.empty()) {
        connection_.close();
        return;
    }
    auto h = headers(true);
    session_id_.clear();
    try {
        connection_.request("DELETE", h, "");
    } catch (const std::exception&) {
    }
    connection_.close();
}

}  // namespace mcpmtls::client
