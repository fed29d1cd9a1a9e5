#include "client/mcp_session.hpp"

#include "common/log.hpp"
#include "common/version.hpp"
#include "mcp/protocol.hpp"

namespace mcpmtls::client {

namespace {

// The coordinator's own session: its answers are read up to the answer only, and a session the
// server forgot is opened again by the next request, not by the standalone stream.
SessionOptions coordinator_options() {
    SessionOptions options;
    options.stop_at_answer = true;
    return options;
}

}  // namespace

McpSession::McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts)
    : name_(std::move(server_name)),
      connection_(std::move(url), tls, timeouts),
      tls_(std::move(tls)),
      timeouts_(timeouts),
      core_(name_, *this, coordinator_options()) {}

McpSession::~McpSession() {
    try {
        close();
    } catch (...) {
        // closing is a courtesy to the server; never throw from a destructor
    }
}

HttpResponse McpSession::send(Lane lane, const std::string& method, const HeaderList& headers, const std::string& body,
                              const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) {
    if (lane == Lane::call) return connection_.request_events(method, headers, body, on_event, on_headers);
    // The answering threads share the side connection; interrupt() must get in while the stream reads.
    std::unique_lock<std::mutex> lock(lane == Lane::answer ? side_mutex_ : listen_mutex_);
    auto& connection = lane == Lane::answer ? side_connection_ : listen_connection_;
    if (!connection) connection = std::make_unique<HttpConnection>(connection_.url(), tls_, timeouts_);
    HttpConnection* made = connection.get();
    if (lane == Lane::stream) lock.unlock();
    return made->request_events(method, headers, body, on_event, on_headers);
}

void McpSession::interrupt() {
    std::lock_guard<std::mutex> lock(listen_mutex_);
    if (listen_connection_) listen_connection_->abort();
}

void McpSession::fail(const std::string& reason) { throw RpcError(0, name_ + ": " + reason); }

json McpSession::answer_input(const std::string& method, const json& params) {
    auto refuse = [](int code, const std::string& message) { return json{{"error", {{"code", code}, {"message", message}}}}; };
    try {
        if (method == "elicitation/create") return {{"result", handlers_.elicit ? handlers_.elicit(params) : json{{"action", "decline"}}}};
        if (method == "roots/list") return {{"result", {{"roots", handlers_.roots.is_array() ? handlers_.roots : json::array()}}}};
        if (method == "ping" && era() == Era::legacy) return {{"result", json::object()}};
    } catch (const ConnectionError&) {
        throw;
    } catch (const std::exception& e) {
        return refuse(-32603, e.what());
    }
    if (method == "sampling/createMessage")
        return refuse(mcp::protocol::kUserRejected, name_ + " asked for sampling (sampling/createMessage): declined, this client has no model");
    return refuse(-32601, "this client does not handle " + (method.empty() ? std::string("an input request without a method") : method));
}

namespace {

json result_of(const json& answer, const json& id) {
    if (answer.is_null()) throw ConnectionError(FailureKind::protocol, "the event stream ended without an answer to request " + id.dump());
    if (answer.contains("error")) {
        const auto& error = answer["error"];
        throw RpcError(error.value("code", 0), error.value("message", std::string("unknown error")));
    }
    return answer["result"];
}

}  // namespace

json McpSession::request(const std::string& method, const json& params) { return exchange(method, params, nullptr); }

json McpSession::exchange(const std::string& method, const json& params, const ProgressHandler& on_progress) {
    if (!initialized_) initialize();
    const json id = fresh_id();
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    json progress_token;
    if (on_progress && message["params"].is_object()) {
        progress_token = name_ + "-" + id.dump();
        message["params"]["_meta"]["progressToken"] = progress_token;
    }
    return result_of(core_.request(message, [&](const json& m) { handle_server_message(m, progress_token, on_progress); }), id);
}

json McpSession::capabilities() const {
    json capabilities = json::object();
    if (handlers_.elicit) capabilities["elicitation"] = json::object();
    if (handlers_.roots.is_array()) capabilities["roots"] = json::object();
    return capabilities;
}

void McpSession::handle_server_message(const json& message, const json& progress_token, const ProgressHandler& on_progress) {
    if (!message.contains("method") || !message["method"].is_string()) return;  // an answer to nothing we asked
    const std::string method = message["method"].get<std::string>();
    const json params = message.value("params", json::object());
    if (message.contains("id")) {
        // A request from the server: answered on the side connection (this one is busy reading).
        json reply = answer_input(method, params);
        reply["jsonrpc"] = "2.0";
        reply["id"] = message["id"];
        try {
            core_.post(reply, Lane::answer);
        } catch (const RpcError& e) {
            log_event(spdlog::level::warn, "answer_refused", {{"server", name_}, {"reason", e.what()}});
        }
        return;
    }
    if (method == "notifications/progress") {
        if (on_progress && params.value("progressToken", json()) == progress_token) on_progress(params);
        return;
    }
    if (handlers_.notify) handlers_.notify(message);
}

void McpSession::notify(const std::string& method, const json& params) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    core_.post(message);
}

json McpSession::initialize() { return initialized_ ? core_.description() : initialize_with(choice_); }

json McpSession::initialize_session() { return initialize_with(VersionChoice{kClientProtocolVersion}); }

json McpSession::initialize_with(const VersionChoice& choice) {
    open(choice);
    initialized_ = true;
    if (era() == Era::legacy) {
        notify("notifications/initialized", nullptr);
        if (handlers_.elicit || handlers_.roots.is_array())
            core_.start_listening([this](const json& m) { handle_server_message(m, nullptr, nullptr); }, std::chrono::seconds(2));
    }
    return core_.description();
}

void McpSession::open(const VersionChoice& choice) {
    const json id = fresh_id();
    const json initialize = {{"jsonrpc", "2.0"},
                             {"id", id},
                             {"method", "initialize"},
                             {"params",
                              {{"protocolVersion", choice.forces_legacy() ? choice.version : std::string(kClientProtocolVersion)},
                               {"capabilities", capabilities()},
                               {"clientInfo", {{"name", "mcp-mtls-client"}, {"version", kVersion}}}}}};
    result_of(core_.open(initialize, choice, "", [this](const json& m) { handle_server_message(m, nullptr, nullptr); }), id);
    const std::string agreed = protocol_version();
    if (choice_.forces_legacy() && agreed != choice_.version) {
        close();
        throw RpcError(0, name_ + ": the server answered initialize with protocol version " + agreed + ", not the forced " + choice_.version);
    }
}

json McpSession::list_tools() {
    json tools = json::array();
    json params = json::object();
    for (int page = 0; page < 100; ++page) {
        json result = request("tools/list", params);
        for (auto& tool : result.value("tools", json::array())) tools.push_back(tool);
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
    core_.close();
    connection_.close();
}

}  // namespace mcpmtls::client
