#pragma once
// One remote MCP server as the bridge forwards to it. Unlike McpSession (the coordinator's own
// session: it makes its own requests one at a time and answers the server itself), this session
// carries somebody else's messages, unchanged, from many threads at once: the host's requests,
// notifications and answers go out as they came, and every message the server sends back (inside
// an answer's event stream, or on the standalone GET stream) goes to a sink. What it adds is what
// a host cannot do over stdio: mutual TLS with credentials that follow their files, kept-alive
// connections, answer streams resumed with Last-Event-ID, and a session that heals itself when
// the server has forgotten it (404): a new one is opened with the host's original initialize
// parameters and the request is sent again, once, without the host noticing.
// A server that speaks only 2026-07-28 (server/discover says so) gets the host's 2025 messages
// translated: initialize is answered from server/discover, every request carries _meta and the
// standard headers, and an input-required result becomes requests to the host (elicitation,
// sampling, roots) whose answers go back with the retried request; the host sees one answer.
#include "client/http_connection.hpp"
#include "client/wire_protocol.hpp"
#include "client/reloading_tls.hpp"
#include "client/stream_position.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mcpmtls::client {

using MessageSink = std::function<void(const nlohmann::json& message)>;
// Sends a request to the host and returns its answer (the JSON-RPC message, result or error).
using HostAsker = std::function<nlohmann::json(const std::string& method, const nlohmann::json& params)>;

// A message that could not be delivered to a server: unreachable, TLS refused either way, an
// HTTP error without a JSON-RPC answer. Carries what the host is told and what the log says.
class UpstreamError : public Error {
public:
    UpstreamError(std::string server, FailureKind kind, const std::string& reason, nlohmann::json peer = nlohmann::json::object());
    const std::string& server() const { return server_; }
    FailureKind kind() const { return kind_; }
    // The JSON-RPC error object for the host: code -32000, "SERVER: REASON", data with the kind.
    nlohmann::json rpc_error() const;
    // Fields of the one log line a failure gets: server, reason, and the certificate seen if any.
    nlohmann::json log_fields() const;

private:
    std::string server_;
    FailureKind kind_;
    nlohmann::json peer_;
};

// JSON-RPC error code of every failure to reach a server (the implementation-defined range).
constexpr int kUpstreamErrorCode = -32000;

// Kept-alive connections to one server, shared by the threads that forward to it. A connection
// made with credentials that have been reloaded since is closed instead of reused.
class ConnectionPool {
public:
    ConnectionPool(std::string server, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // One exchange on an idle connection (or a new one). Throws UpstreamError.
    HttpResponse send(const std::string& method, const HeaderList& headers, const std::string& body,
                      const SseEventHandler& on_event = nullptr);
    // From another thread: ends every exchange that is reading now (shutdown).
    void abort_all();
    const Url& url() const { return url_; }

private:
    struct Idle {
        std::unique_ptr<HttpConnection> connection;
        std::shared_ptr<const tls::ClientTlsContext> context;  // what it was made with
    };
    Idle take();
    void give_back(Idle idle);
    void log_new_handshake(const HttpConnection& connection);

    const std::string server_;
    const Url url_;
    const std::shared_ptr<ReloadingTlsContext> tls_;
    const Timeouts timeouts_;
    std::mutex mutex_;
    std::vector<Idle> idle_;
    std::set<HttpConnection*> busy_;
    std::set<std::string> warned_fingerprints_;  // relaxed-mode WARNINGs, once per certificate
};

class UpstreamSession {
public:
    UpstreamSession(std::string name, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts);
    ~UpstreamSession();  // close()
    UpstreamSession(const UpstreamSession&) = delete;
    UpstreamSession& operator=(const UpstreamSession&) = delete;

    // Forwards an initialize request and keeps its params for healing. The answer goes to
    // `on_message` like every other message. Throws UpstreamError.
    void initialize(const nlohmann::json& request, const MessageSink& on_message);
    // Forwards a request; the server's messages, its answer last, go to `on_message`. Returns
    // false when the server ended every stream without answering. Throws UpstreamError.
    bool request(const nlohmann::json& request, const MessageSink& on_message);
    // Forwards a notification or an answer to a server's request. Throws UpstreamError.
    void post(const nlohmann::json& message);
    // Keeps the server's standalone event stream open on a thread of its own (when the server
    // offers one), its messages to `on_message`; reopened with Last-Event-ID when it drops, on
    // the new session when the session was renewed.
    void start_listening(MessageSink on_message);
    // Ends every exchange in progress (shutdown by signal); they fail with UpstreamError.
    void abort();
    // How input-required results of a 2026-07-28 server are put to the host. Set before use.
    void set_host_asker(HostAsker asker) { ask_host_ = std::move(asker); }
    bool translating() const;  // the server speaks 2026-07-28 and the host 2025
    // Stops listening and ends the session (DELETE). Best effort, never throws.
    void close();

    const std::string& name() const { return name_; }
    bool established() const;             // an initialize has been answered with a result
    nlohmann::json initialize_result() const;  // the server's latest initialize result (null before)

private:
    struct State {
        std::string session_id;
        std::string protocol_version;
        uint64_t epoch = 0;  // bumped by every new session
        Era era = Era::legacy;
    };
    State state() const;
    // One message out, its answer stream followed (and resumed) to the end. Returns the status.
    int exchange(const nlohmann::json& message, const State& state, const MessageSink& on_message, bool& answered,
                 HttpResponse* head = nullptr);
    // A new session with the host's initialize params, unless one newer than `stale` exists.
    void renew(const State& stale);
    void open_session(const nlohmann::json& request, const MessageSink& on_message);
    // server/discover first: a 2026-07-28 server gets no session, and the host's initialize is
    // answered from what it offers (true); otherwise the 2025 handshake (false).
    bool open_modern(const nlohmann::json& request, const MessageSink& on_message);
    bool modern_request(const nlohmann::json& request, const MessageSink& on_message);
    void modern_post(const nlohmann::json& message);
    nlohmann::json modern_params(const nlohmann::json& params) const;
    void listen(const MessageSink& on_message);
    bool wait_or_stop(long milliseconds);

    const std::string name_;
    ConnectionPool pool_;
    mutable std::mutex state_mutex_;
    State state_;
    bool established_ = false;
    nlohmann::json initialize_params_;  // the host's, for renewals
    nlohmann::json initialize_result_;
    std::map<std::string, nlohmann::json> tool_schemas_;  // 2026: inputSchema by tool name, for Mcp-Param-*
    HostAsker ask_host_;
    std::atomic<uint64_t> retries_{0};
    std::mutex renew_mutex_;  // one renewal at a time
    uint64_t renewals_ = 0;
    // The standalone stream.
    std::thread listener_;
    std::mutex stop_mutex_;
    std::condition_variable stop_wake_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> listener_done_{true};
    std::atomic<bool> closed_{false};
};

// True if `message` is a JSON-RPC answer (result or error) to the request with this id.
bool is_answer_to(const nlohmann::json& message, const nlohmann::json& id);

}  // namespace mcpmtls::client
