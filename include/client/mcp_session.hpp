#pragma once
// The coordinator's own MCP session (client tools, call, ask, check, bench): it makes its own
// requests, one at a time, and gets their results or a thrown error. The session itself (the era,
// initialize, the 404 re-initialisation, answer streams resumed, the standalone stream, DELETE)
// is client/session_core.hpp's; what this one decides is that it answers the server itself:
// elicitation by its handler, roots from --root, sampling declined (it has no model), ping; in
// the 2025 era on a side connection while the call's stream is still read, in 2026-07-28 as the
// input a retried request carries.
#include "client/http_connection.hpp"
#include "client/session_core.hpp"
#include "client/wire_protocol.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
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

class McpSession : private SessionPolicy {
public:
    McpSession(std::string server_name, Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts = {});
    ~McpSession() override;  // DELETEs the session (best effort)

    // Agrees on the era and version (server/discover, else initialize + notifications/initialized).
    // Returns the server's description: the discover result, or the initialize result.
    nlohmann::json initialize();
    // The 2025 handshake without asking server/discover, at the version the server answers
    // (client bench's session runs: a 2025 session even against a server that speaks both eras).
    nlohmann::json initialize_session();
    json list_tools();  // all pages
    json call_tool(const std::string& name, const json& arguments);
    // The same, asking for progress (_meta.progressToken): `on_progress` gets each notification.
    json call_tool(const std::string& name, const json& arguments, const ProgressHandler& on_progress);
    // Set before initialize (the declared capabilities follow from them). A session whose
    // handlers can answer the server keeps the standalone stream (GET) open from initialize() to
    // close(): a server may ask outside any request, on that stream.
    void set_handlers(ServerMessageHandlers handlers) { handlers_ = std::move(handlers); }
    // Set before initialize: which protocol version to speak (default: auto).
    void set_protocol(VersionChoice choice) { choice_ = std::move(choice); }
    json request(const std::string& method, const json& params);
    void notify(const std::string& method, const json& params);
    void close();  // DELETE /mcp when a session id was issued

    const std::string& name() const { return name_; }
    std::string session_id() const { return core_.state().session_id; }
    std::string protocol_version() const { return core_.state().protocol_version; }
    Era era() const { return core_.state().era; }
    json server_info() const { return core_.description(); }
    HttpConnection& connection() { return connection_; }

private:
    // SessionPolicy: the call on connection_, answers to the server on a side connection (the
    // call's stream is still being read), the standalone stream on a connection of its own.
    HttpResponse send(Lane lane, const std::string& method, const HeaderList& headers, const std::string& body,
                      const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) override;
    void interrupt() override;
    [[noreturn]] void fail(const std::string& reason) override;
    json fresh_id() override { return next_id_++; }
    // What the client answers to a server's request (elicitation, roots, sampling, ping), in either era.
    json answer_input(const std::string& method, const json& params) override;
    void reopen() override { open(choice_); }
    void learn_tools() override { list_tools(); }

    json initialize_with(const VersionChoice& choice);
    void open(const VersionChoice& choice);
    json exchange(const std::string& method, const json& params, const ProgressHandler& on_progress);
    json capabilities() const;
    // A message from the server that is not the answer we wait for.
    void handle_server_message(const json& message, const json& progress_token, const ProgressHandler& on_progress);

    std::string name_;
    HttpConnection connection_;
    std::shared_ptr<const tls::ClientTlsContext> tls_;
    Timeouts timeouts_;
    std::mutex side_mutex_;                            // the answering threads share the side connection
    std::unique_ptr<HttpConnection> side_connection_;  // answers to the server while a stream is read
    std::mutex listen_mutex_;
    std::unique_ptr<HttpConnection> listen_connection_;  // the standalone stream's
    ServerMessageHandlers handlers_;
    VersionChoice choice_;
    std::atomic<long> next_id_{1};
    bool initialized_ = false;
    SessionCore core_;  // last: stopped before the connections it uses go
};

}  // namespace mcpmtls::client
