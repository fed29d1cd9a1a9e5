#pragma once
// The MCP Streamable HTTP transport (POST/GET/DELETE on one endpoint) and JSON-RPC 2.0
// dispatch, independent of any HTTP library: handle() takes a request and the verified client
// identity and returns the response, whose body may be streamed (Server-Sent Events) by the
// HTTP layer. Thread-safe; called from many worker threads at once.
//
// A request is answered with JSON, or with an SSE body when the client accepts one and the
// server has messages for it first (logging, progress). A tool call that talks to the client
// while it runs (Tool::streams, or a request carrying _meta.progressToken) is answered on a live
// stream: the handler runs on a thread of its own while the worker writes its messages, so it
// can wait for the client's answer to a request (sampling, elicitation) that the client POSTs.
#include "common/version.hpp"
#include "mcp/event_stream.hpp"
#include "mcp/modern_protocol.hpp"
#include "mcp/oauth.hpp"
#include "mcp/prompts.hpp"
#include "mcp/rate_limiter.hpp"
#include "mcp/request_state.hpp"
#include "mcp/resources.hpp"
#include "mcp/session.hpp"
#include "mcp/session_table.hpp"
#include "mcp/tool.hpp"
#include "mcp/tool_policy.hpp"
#include "tls/peer_identity.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
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
    size_t max_sessions = 10000;             // the whole session table (see mcp/session_table.hpp)
    size_t max_sessions_per_client = 100;    // one client identity; at it, its least recently used session ends
    ToolPolicy policy;                       // per-tool authorization; empty: all tools for all
    double rate_limit = 0;                   // requests per second per client identity; 0: unlimited
    double rate_burst = 0;                   // bucket size; 0: twice the rate (at least 1)
    ResourceRegistry resources;              // empty: the server offers no resources
    PromptRegistry prompts;                  // empty: no prompts
    std::chrono::seconds sse_heartbeat{15};  // comment line on an open event stream idle this long
    std::chrono::milliseconds sse_retry{1000};  // reconnection delay told to clients (SSE retry field)
    size_t sse_replay_events = 256;          // events kept per stream for Last-Event-ID
    size_t max_streamed_calls = 64;          // tool calls on live streams at once (a thread each)
    // Optional: told of every tools/call as its audit line is written (the tool's name, and the
    // outcome: ok, tool_error, cancelled, not_authorized, unknown_tool, invalid_params), for
    // the server's metrics. Called on request threads: quick, and never throwing.
    std::function<void(const std::string& tool, const std::string& outcome)> on_tool_call;
    // MCP 2026-07-28: the key sealing requestState (--state-key-file, the same for every replica);
    // null: a random key of this process, so a multi-round call must come back to this replica.
    std::shared_ptr<const pki::SealedBox::Key> state_key;
    std::chrono::seconds request_state_lifetime{600};  // how long a client may take between rounds
    // OAuth (--oauth-issuer): every request needs a valid bearer token; null: certificates only.
    std::shared_ptr<ResourceServer> oauth;
    // Optional: told of every token check (the result: accepted, missing, invalid_token,
    // insufficient_scope, unavailable; and the identity, with the token's subject when accepted),
    // for the server's metrics. Called on request threads: quick, and never throwing.
    std::function<void(const std::string& result, const tls::PeerIdentity& client)> on_token;
};

// Protocol versions served with initialize and sessions (the 2025 era); the stateless revision's
// are in mcp/modern_protocol.hpp.
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
    // Set for an event stream, instead of `body`: the HTTP layer calls it again and again (each
    // call writes what is ready and waits a fraction of a second at most) until it returns done
    // or abort; the connection is busy until then.
    std::function<StreamStep(BodySink& sink)> stream;
};

// JSON-RPC 2.0 error codes.
enum RpcErrorCode : int {
    kParseError = -32700,
    kInvalidRequest = -32600,
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,
    kNotAuthorized = -32003,     // server-defined: the client's identity may not use this tool
    kResourceNotFound = -32002,  // MCP: resources/read or subscribe of an unknown URI
    kRequestCancelled = -32800,  // the client cancelled the request (notifications/cancelled)
};

// Threads of tool calls answered on live streams; joined when they end and on destruction.
class CallThreads {
public:
    CallThreads() = default;
    CallThreads(const CallThreads&) = delete;
    CallThreads& operator=(const CallThreads&) = delete;
    ~CallThreads();
    void start(std::function<void()> work);
    size_t running() const;

private:
    struct Entry {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    void join_finished_locked();
    mutable std::mutex mutex_;
    std::list<Entry> entries_;
};

class StreamableHttpServer {
public:
    StreamableHttpServer(ServerOptions options, ToolRegistry tools);
    // Cancels running calls, closes every session and waits for the calls' threads.
    ~StreamableHttpServer();
    StreamableHttpServer(const StreamableHttpServer&) = delete;
    StreamableHttpServer& operator=(const StreamableHttpServer&) = delete;

    HttpResponse handle(const HttpRequest& request, const tls::PeerIdentity& client);
    // A request the server must refuse from its headers alone, before any byte of its body is
    // read (a Content-Length beyond max_body_bytes: 413, and the connection ends); else nullopt.
    std::optional<HttpResponse> refuse_before_body(const HttpRequest& head) const;
    // GET /.well-known/oauth-protected-resource[/mcp] (RFC 9728) when OAuth is on; else nullopt.
    std::optional<HttpResponse> protected_resource_metadata(const HttpRequest& request) const;
    size_t session_count() const;
    SessionTable::Census session_census() const { return sessions_.census(); }
    const ServerOptions& options() const { return options_; }
    // Sends notifications/resources/updated to every session subscribed to `uri` (on its
    // standalone stream, the one a client opens with GET).
    void resource_updated(const std::string& uri);

private:
    // Where a request's messages to the client go while it is handled: its live stream, or a
    // list sent ahead of its answer.
    struct Outbox {
        std::shared_ptr<EventStream> live;
        std::vector<std::string> buffered;
        void send(const nlohmann::json& message);
    };

    // What a stateless (2026-07-28) request brings besides its params: its envelope, and the
    // answers to input requests collected over its rounds (requestState and inputResponses). The
    // call's channel records which answers the handler used, so the next round's state holds them.
    struct ModernRound {
        modern::Envelope envelope;
        nlohmann::json answers = nlohmann::json::object();
        nlohmann::json used = nlohmann::json::object();
        int next_key = 1;
    };

    // A JSON-RPC request, as a method handler sees it: within a session (2025 era), or
    // stateless (2026-07-28: `session` null, `modern` set).
    struct Call {
        const nlohmann::json& params;
        const tls::PeerIdentity& client;
        const std::shared_ptr<Session>& session;
        const std::string& session_id;
        const nlohmann::json& id;
        Outbox& outbox;
        std::shared_ptr<Session::RunningCall> running;  // tools/call only
        ModernRound* modern = nullptr;
    };
    // What a method handler answers: a result, a JSON-RPC error, or a result already
    // serialised (a fixed tools/list is rendered once).
    struct Reply {
        nlohmann::json result;
        int error_code = 0;
        std::string error_message;
        std::string rendered_result;
        nlohmann::json error_data;  // null: none
        static Reply ok(nlohmann::json result);
        static Reply error(int code, std::string message, nlohmann::json data = nullptr);
    };
    using Method = Reply (StreamableHttpServer::*)(const Call&);
    // The one method table of both eras: each method says in which it exists (initialize, ping,
    // logging/setLevel and resources/(un)subscribe are gone from 2026-07-28; server/discover and
    // subscriptions/listen are new in it).
    enum Era : unsigned { kLegacy = 1, kModern = 2, kBoth = 3 };
    struct MethodEntry {
        Method handler;
        unsigned eras;
    };

    class ToolCallChannel;
    class StatelessChannel;
    static std::unordered_map<std::string, MethodEntry> method_table(const ServerOptions& options);
    const Method* find_method(const std::string& name, Era era) const;
    std::unique_ptr<CallChannel> channel_for(const Call& call);
    Reply input_required(const nlohmann::json& requests) const;

    HttpResponse handle_post(const HttpRequest& request, const tls::PeerIdentity& client);
    HttpResponse body_too_large() const;
    HttpResponse handle_get(const HttpRequest& request, const tls::PeerIdentity& client);
    HttpResponse handle_delete(const HttpRequest& request, const tls::PeerIdentity& client);
    HttpResponse handle_batch(const nlohmann::json& batch, const tls::PeerIdentity& client, const std::shared_ptr<Session>& session,
                              const std::string& session_id);
    Reply run_in_place(Method handler, const std::string& method, const nlohmann::json& id, const nlohmann::json& params,
                       const tls::PeerIdentity& client, const std::shared_ptr<Session>& session, const std::string& session_id,
                       Outbox& outbox);
    // The 2026-07-28 face (mcp/modern_era.cpp): envelope and headers checked, one round of a
    // multi-round call, results decorated (resultType, caching hints, requestState).
    HttpResponse handle_modern(const HttpRequest& request, const tls::PeerIdentity& client, const nlohmann::json& id,
                               bool has_id, const std::string& method, const nlohmann::json& params);
    HttpResponse modern_answer(const nlohmann::json& id, const std::string& method, const nlohmann::json& params,
                               const Reply& reply, const ModernRound& round, const tls::PeerIdentity& client,
                               std::vector<std::string> before, bool sse) const;
    std::string modern_message(const nlohmann::json& id, const std::string& method, const nlohmann::json& params,
                               const Reply& reply, const ModernRound& round, const tls::PeerIdentity& client) const;
    HttpResponse listen(const nlohmann::json& id, const nlohmann::json& params);
    HttpResponse handle_client_message(const HttpRequest& request, const tls::PeerIdentity& client, const nlohmann::json& message);
    HttpResponse answer(const nlohmann::json& id, const Reply& reply, Outbox& outbox, Session& session, const std::string& accept);
    bool streams_call(const std::string& method, const nlohmann::json& params, const std::string& accept) const;
    HttpResponse stream_call(Method handler, const nlohmann::json& id, const nlohmann::json& params,
                             const tls::PeerIdentity& client, const std::shared_ptr<Session>& session,
                             const std::string& session_id);
    std::shared_ptr<StreamReader> reader_for(std::shared_ptr<EventStream> stream, uint64_t cursor, const Session& session) const;
    std::shared_ptr<StreamReader> reader_for(std::shared_ptr<EventStream> stream, uint64_t cursor, bool prime) const;
    static HttpResponse event_stream_response(std::shared_ptr<StreamReader> reader);
    std::optional<HttpResponse> refuse_rate_limited(const tls::PeerIdentity& client);
    // OAuth (mcp/oauth_gate.cpp): the request's token checked, `holder` the client with the
    // token's subject and scopes; or the 401/503 answer. A tools/call whose token lacks the
    // tool's scopes: the 403 answer.
    std::optional<HttpResponse> refuse_without_token(const HttpRequest& request, const tls::PeerIdentity& client,
                                                     std::optional<tls::PeerIdentity>& holder);
    std::optional<HttpResponse> refuse_without_scope(const HttpRequest& request, const tls::PeerIdentity& client,
                                                     const nlohmann::json& id, const std::string& method,
                                                     const nlohmann::json& params);
    std::string resource_url(const HttpRequest& request) const;
    HttpResponse oauth_challenge(const HttpRequest& request, int status, const std::string& error, const std::string& description,
                                 const std::vector<std::string>& scopes) const;
    bool host_allowed(const HttpRequest& request) const;
    std::shared_ptr<Session> find_session(const std::string& id, const tls::PeerIdentity& client);
    // "" when the table is full (503).
    std::string create_session(const tls::PeerIdentity& client, const std::string& protocol_version,
                               const nlohmann::json& client_capabilities);

    nlohmann::json initialize(const nlohmann::json& params, std::string& negotiated) const;
    // The method table's handlers (mcp/server_methods.cpp; tools/call in mcp/tool_call.cpp).
    Reply ping(const Call&), list_tools(const Call&), call_tool(const Call&), set_log_level(const Call&);
    Reply list_resources(const Call&), list_resource_templates(const Call&), read_resource(const Call&),
        subscribe_resource(const Call&), unsubscribe_resource(const Call&);
    Reply list_prompts(const Call&), get_prompt(const Call&), complete(const Call&);
    Reply discover(const Call&);
    nlohmann::json capabilities() const;

    ServerOptions options_;
    ToolRegistry tools_;
    // JSON-RPC dispatch: method name -> handler (initialize is answered before a session exists).
    const std::unordered_map<std::string, MethodEntry> methods_;
    RequestStateSeal state_seal_;
    // subscriptions/listen streams (2026-07-28): where resource_updated() also goes.
    struct Listener {
        std::weak_ptr<EventStream> stream;
        nlohmann::json id;
        std::set<std::string> uris;
    };
    mutable std::mutex listeners_mutex_;
    std::vector<Listener> listeners_;
    std::string tools_list_json_;  // the registry never changes: render tools/list once
    nlohmann::json tool_entries_;  // the same entries, filtered per client when a policy applies
    SessionTable sessions_;
    RateLimiter rate_limiter_;
    std::atomic<size_t> streamed_calls_{0};
    CallThreads call_threads_;  // last: joined before anything the calls use is destroyed
};

}  // namespace mcpmtls::mcp
