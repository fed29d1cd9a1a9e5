#pragma once
// An MCP client session over Streamable HTTP: initialize, notifications/initialized, requests
// carrying Mcp-Session-Id and MCP-Protocol-Version, JSON or SSE answers, DELETE on close.
#include "client/http_connection.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace mcpmtls::client {

using json = nlohmann::json;

// A JSON-RPC error answer from the server (exit 1 at the edge).
class RpcError : public Error {
public:
    RpcError(int rpc_code, const std::string& message) : Error(kExitFailed, message), rpc_code_(rpc_code) {}
    int rpc_code() const { return rpc_code_; }

private:
    int rpc_code_;
};

constexpr const char* kClientProtocolVersion = "2025-06-18";

class McpSession {
public:
    McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts = {});
    ~McpSession();  // DELETEs the session (best effort)

    // initialize + notifications/initialized. Returns the initialize result.
    const json& initialize();
    json list_tools();  // all pages
    json call_tool(const std::string& name, const json& arguments);
    json request(const std::string& method, const json& params);
    void notify(const std::string& method, const json& params);
    void close();  // DELETE /mcp when a session id was issued

    const std::string& name() const { return name_; }
    const std::string& session_id() const { return session_id_; }
    const std::string& protocol_version() const { return protocol_version_; }
    const json& server_info() const { return init_result_; }
    HttpConnection& connection() { return connection_; }

private:
    std::vector<std::pair<std::string, std::string>> headers(bool with_session) const;

    std::string name_;
    HttpConnection connection_;
    std::string session_id_;
    std::string protocol_version_;
    json init_result_;
    long next_id_ = 1;
    bool initialized_ = false;
};

// Extracts the JSON-RPC message with `id` from a response body (JSON or SSE).
json find_rpc_response(const HttpResponse& response, long id);

}  // namespace mcpmtls::client
