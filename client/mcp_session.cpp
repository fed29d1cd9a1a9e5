#include "client/mcp_session.hpp"

#include "common/strings.hpp"
#include "common/version.hpp"

namespace mcpmtls::client {

McpSession::McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts)
    : name_(std::move(server_name)), connection_(std::move(url), std::move(tls), timeouts) {}

McpSession::~McpSession() {
    try {
        close();
    } catch (...) {
        // closing is a courtesy to the server; never throw from a destructor
    }
}

std::vector<std::pair<std::string, std::string>> McpSession::headers(bool with_session) const {
    std::vector<std::pair<std::string, std::string>> h = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json, text/event-stream"},
        {"User-Agent", std::string("mcp-mtls-client/") + kVersion},
    };
    if (with_session && !protocol_version_.empty()) h.emplace_back("MCP-Protocol-Version", protocol_version_);
    if (with_session && !session_id_.empty()) h.emplace_back("Mcp-Session-Id", session_id_);
    return h;
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

json McpSession::request(const std::string& method, const json& params) {
    if (!initialized_ && method != "initialize") initialize();
    const long id = next_id_++;
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    auto stop_at_answer = [id](const std::string& data) {
        json event = json::parse(data, nullptr, false);
        return is_response_to(event, id);
    };
    HttpResponse response = connection_.request("POST", headers(method != "initialize"), message.dump(), stop_at_answer);
    if (response.status == 404 && !session_id_.empty() && method != "initialize") {
        // The server forgot our session (restart or expiry): start a new one, once.
        session_id_.clear();
        initialized_ = false;
        initialize();
        message["id"] = next_id_++;
        const long retry_id = message["id"];
        response = connection_.request("POST", headers(true), message.dump(), [retry_id](const std::string& data) {
            return is_response_to(json::parse(data, nullptr, false), retry_id);
        });
        if (response.status >= 400) throw RpcError(0, name_ + ": HTTP " + std::to_string(response.status) + " " + trim(response.body.substr(0, 200)));
        json answer = find_rpc_response(response, retry_id);
        if (answer.contains("error"))
            throw RpcError(answer["error"].value("code", 0), answer["error"].value("message", std::string("unknown error")));
        return answer["result"];
    }
    if (response.status >= 400 && response.header("Content-Type").find("json") == std::string::npos)
        throw RpcError(0, "HTTP " + std::to_string(response.status) + (response.body.empty() ? "" : ": " + trim(response.body.substr(0, 200))));
    json answer = find_rpc_response(response, id);
    if (answer.contains("error")) {
        const auto& error = answer["error"];
        throw RpcError(error.value("code", 0), error.value("message", std::string("unknown error")));
    }
    if (method == "initialize") {
        session_id_ = response.header("Mcp-Session-Id");
    }
    return answer["result"];
}

void McpSession::notify(const std::string& method, const json& params) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    HttpResponse response = connection_.request("POST", headers(true), message.dump());
    if (response.status >= 400) throw RpcError(0, "notification " + method + " refused with HTTP " + std::to_string(response.status));
}

const json& McpSession::initialize() {
    if (initialized_) return init_result_;
    json params = {{"protocolVersion", kClientProtocolVersion},
                   {"capabilities", json::object()},
                   {"clientInfo", {{"name", "mcp-mtls-client"}, {"version", kVersion}}}};
    init_result_ = request("initialize", params);
    protocol_version_ = init_result_.value("protocolVersion", std::string(kClientProtocolVersion));
    initialized_ = true;
    notify("notifications/initialized", nullptr);
    return init_result_;
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

void McpSession::close() {
    if (session_id_.empty() || !connection_.connected()) {
        session_id_.clear();
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
