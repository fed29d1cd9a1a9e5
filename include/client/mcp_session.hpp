#pragma once
// An MCP client session over Streamable HTTP, in either era (client/wire_protocol.hpp decides
// which, from server/discover). 2026-07-28: every request stands alone, with _meta and the
// standard headers; an input-required result is answered (elicitation, roots; sampling declined)
// and the request retried. 2025: initialize, notifications/initialized, requests carrying
// Mcp-Session-Id and MCP-Protocol-Version, DELETE on close; while an answer streams in, the server
// may send requests (elicitation, roots, ping), answered on a second connection, and
// notifications (progress, log messages); a stream that ends before its answer is resumed with
// GET and Last-Event-ID after the server's retry delay.
#include "client/http_connection.hpp"
#include "client/wire_protocol.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

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

// What the client asks for at initialize; it speaks whatever older version a server answers with.
// 2025-11-25 because the client handles what that version added: priming events, streams the
// server ends early (SSE polling), elicitation defaults.
constexpr const char* kClientProtocolVersion = "2025-11-25";

// What the session does with the messages a server sends on its event streams.
struct ServerMessageHandlers {
    // elicitation/create params -> its result ({"action": ..., "content": {...}}). When set, the
    // session declares the elicitation capability; unset, such requests are declined.
    std::function<json(const json& params)> elicit;
    // Every notification but progress (which goes to the call that asked for it).
    std::function<void(const json& notification)> notify;
    // The roots offered to the server ([{"uri": "file://...", "name": ...}]); null: no roots capability.
    json roots;
};

// notifications/progress params of one call.
using ProgressHandler = std::function<void(const json& progress)>;

class McpSession {
public:
    McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts = {});
    ~McpSession();  // DELETEs the session (best effort)

    // Agrees on the era and version (server/discover, else initialize + notifications/initialized).
    // Returns the server's description: the discover result, or the initialize result.
    const json& initialize();
    // The 2025 handshake without asking server/discover, at the version the server answers
    // (client bench's session runs: a 2025 session even against a server that speaks both eras).
    const json& initialize_session();
    json list_tools();  // all pages
    json call_tool(const std::string& name, const json& arguments);
    // The same, asking for progress (_meta.progressToken): `on_progress` gets each notification.
    json call_tool(const std::string& name, const json& arguments, const ProgressHandler& on_progress);
    // Set before initialize (the declared capabilities follow from them).
    void set_handlers(ServerMessageHandlers handlers) { handlers_ = std::move(handlers); }
    // Set before initialize: which protocol version to speak (default: auto).
    void set_protocol(VersionChoice choice) { choice_ = std::move(choice); }
    // The standalone event stream (GET): hands its messages to the handlers until `stop` is set
    // (or close() is called) or the server ends the session; a dropped stream is reopened with
    // Last-Event-ID after the server's retry delay. Returns false when the server offers no such
    // stream (405). Uses a connection of its own. `opened` is told once whether the first GET
    // succeeded. A session whose handlers can answer elicitation runs it on a thread of its own
    // from initialize() to close(): a server may ask outside any request, on that stream.
    bool listen(const std::atomic<bool>& stop, const std::function<void(bool)>& opened = nullptr);
    json request(const std::string& method, const json& params);
    void notify(const std::string& method, const json& params);
    void close();  // DELETE /mcp when a session id was issued

    const std::string& name() const { return name_; }
    const std::string& session_id() const { return session_id_; }
    const std::string& protocol_version() const { return protocol_version_; }
    Era era() const { return era_; }
    const json& server_info() const { return init_result_; }
    HttpConnection& connection() { return connection_; }

private:
    std::vector<std::pair<std::string, std::string>> headers(bool with_session) const;
    // Sends one request and returns its answer, following its event stream (and resuming it).
    json exchange(const std::string& method, const json& params, const ProgressHandler& on_progress);
    // One request and its answer (one leg of a 2026 input-required exchange).
    json send_request(const std::string& method, const json& params, const ProgressHandler& on_progress);
    void initialize_legacy(const std::string& version);
    // What the client answers to a server's request (elicitation, roots, sampling, ping), in either
    // era. Throws RpcError for what it does not answer.
    json answer_input_request(const std::string& method, const json& params);
    json capabilities() const;
    // A message from the server that is not the answer we wait for.
    void handle_server_message(const json& message, const json& progress_token, const ProgressHandler& on_progress);
    void answer_server(const json& id, const json& result_or_error, bool is_error);
    HttpConnection& side_connection();
    void start_listening();
    void stop_listening();

    std::string name_;
    HttpConnection connection_;
    std::shared_ptr<const tls::ClientTlsContext> tls_;
    Timeouts timeouts_;
    std::mutex side_mutex_;                            // the answering threads share the side connection
    std::unique_ptr<HttpConnection> side_connection_;  // answers to the server while a stream is read
    ServerMessageHandlers handlers_;
    std::mutex listen_mutex_;
    std::unique_ptr<HttpConnection> listen_connection_;  // the standalone stream's, while listening
    std::atomic<bool> stop_listening_{false};
    std::atomic<bool> listener_done_{true};
    std::thread listener_;
    std::string session_id_;
    std::string protocol_version_;
    json init_result_;
    VersionChoice choice_;
    Era era_ = Era::legacy;
    std::map<std::string, json> tool_schemas_;  // inputSchema by tool name (Mcp-Param-* headers)
    long next_id_ = 1;
    bool initialized_ = false;
};

// Extracts the JSON-RPC message with `id` from a response body (JSON or SSE).
json find_rpc_response(const HttpResponse& response, long id);

}  // namespace mcpmtls::client
