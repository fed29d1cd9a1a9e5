#pragma once
// The MCP Streamable HTTP transport (POST/GET/DELETE on one endpoint) and JSON-RPC 2.0
// dispatch, independent of any HTTP library: handle() takes a request and the verified client
// identity and returns the response. Thread-safe; called from many worker threads at once.
#include "common/version.hpp"
#include "mcp/rate_limiter.hpp"
#include "mcp/tool.hpp"
#include "mcp/tool_policy.hpp"
#include "tls/peer_identity.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace mcpmtls::mcp {

struct ServerOptions {
    std::string name = "mcp-server";
    std::string title;
    std::string version = kVersion;
    std::string instructions;
    std::vector<std::string> allowed_hosts;  // besides localhost, 127.0.0.1 and [::1]
    size_t max_body_bytes = 1024 * 1024;
    std::chrono::seconds session_idle_timeout{1800};
    size_t max_sessions = 10000;             // beyond it (after expiring idle ones) initialize gets 503
    ToolPolicy policy;                       // per-tool authorization; empty: all tools for all
    double rate_limit = 0;                   // requests per second per client identity; 0: unlimited
    double rate_burst = 0;                   // bucket size; 0: twice the rate (at least 1)
};

// Protocol versions this server speaks, preferred first.
const std::vector<std::string>& supported_protocol_versions();

struct HttpRequest {
    std::string method;  // "POST" | "GET" | "DELETE" | ...
    std::string body;
    std::string remote_address;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

struct HttpResponse {
    int status = 200;
    std::string content_type;  // empty: no body
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// JSON-RPC 2.0 error codes.
enum RpcErrorCode : int {
    kParseError = -32700,
    kInvalidRequest = -32600,
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,
    kNotAuthorized = -32003,  // server-defined: the client's identity may not use this tool
};

class StreamableHttpServer {
public:
    StreamableHttpServer(ServerOptions options, ToolRegistry tools);

    HttpResponse handle(const HttpRequest& request, const tls::PeerIdentity& client);
    // A request the server must refuse from its headers alone, before any byte of its body is
    // read (a Content-Length beyond max_body_bytes: 413, and the connection ends); else nullopt.
    std::optional<HttpResponse> refuse_before_body(const HttpRequest& head) const;
    size_t session_count() const;
    const ServerOptions& options() const { return options_; }

private:
    struct Session {
        std::string client_fingerprint;
        std::string protocol_version;
        std::atomic<int> log_level{1};  // index into the MCP level list; info
        std::atomic<int64_t> last_used_ms{0};
    };

    // A JSON-RPC request within a session, as a method handler sees it.
    struct Call {
        const nlohmann::json& params;
        const tls::PeerIdentity& client;
        Session& session;
        const std::string& session_id;
    };
    // What a method handler answers: a result, a JSON-RPC error, or a result already
    // serialised (a fixed tools/list is rendered once).
    struct Reply {
        nlohmann::json result;
        int error_code = 0;
        std::string error_message;
        std::string rendered_result;
        static Reply ok(nlohmann::json result);
        static Reply error(int code, std::string message);
    };
    using Method = Reply (StreamableHttpServer::*)(const Call&);

    HttpResponse handle_post(const HttpRequest& request, const tls::PeerIdentity& client);
    HttpResponse body_too_large() const;
    HttpResponse handle_delete(const HttpRequest& request, const tls::PeerIdentity& client);
    std::optional<HttpResponse> refuse_rate_limited(const tls::PeerIdentity& client);
    bool host_allowed(const HttpRequest& request) const;
    std::shared_ptr<Session> find_session(const std::string& id, const tls::PeerIdentity& client);
    std::string create_session(const tls::PeerIdentity& client, const std::string& protocol_version, bool& refused);
    void expire_idle_sessions_locked(int64_t now_ms);

    nlohmann::json initialize(const nlohmann::json& params, std::string& negotiated) const;
    Reply ping(const Call& call);
    Reply list_tools(const Call& call);
    Reply call_tool(const Call& call);
    Reply set_log_level(const Call& call);

    ServerOptions options_;
    ToolRegistry tools_;
    // JSON-RPC dispatch: method name -> handler (initialize is answered before a session exists).
    const std::unordered_map<std::string, Method> methods_;
    std::string tools_list_json_;  // the registry never changes: render tools/list once
    nlohmann::json tool_entries_;  // the same entries, filtered per client when a policy applies
    mutable std::shared_mutex sessions_mutex_;
    std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
    int64_t last_sweep_ms_ = 0;
    RateLimiter rate_limiter_;
};

}  // namespace mcpmtls::mcp
