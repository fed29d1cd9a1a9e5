#pragma once
// One remote MCP server as the bridge forwards to it: a policy of client/session_core.hpp that
// carries somebody else's messages, unchanged, from many threads at once (McpSession makes its
// own requests and answers the server itself). The host's requests, notifications and answers go
// out as they came; every message the server sends back goes to a sink. It adds what a host
// cannot do over stdio: mutual TLS with credentials that follow their files, kept-alive
// connections, and a session that heals itself when the server has forgotten it (404): a new one
// is opened with the host's initialize parameters and the request sent again, unnoticed.
// A server that speaks only 2026-07-28 gets the host's 2025 messages translated: initialize is
// answered from server/discover, and an input-required result becomes requests to the host
// (elicitation, sampling, roots) whose answers go back with the retried request.
// A host that speaks 2026-07-28 itself (no initialize: server/discover and a _meta envelope on
// every request) reaches either kind of server: a 2026 server gets its requests as they are, and
// a 2025-only one a session opened with the envelope's capabilities, the envelope taken out of
// each request and "resultType":"complete" put into each result. Such a server's request in the
// middle of a call (elicitation, sampling, roots) becomes an input-required result for the host:
// the call stays open upstream, parked under an opaque requestState of the bridge's own, until
// the host's retry brings the answer, which goes to the server as the answer to its request.
// Its standalone stream's notifications reach the host through subscriptions/listen.
#include "client/http_connection.hpp"
#include "client/reloading_tls.hpp"
#include "client/session_core.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace mcpmtls::client {

// Sends a request to the host and returns its answer (the JSON-RPC message, result or error).
using HostAsker = std::function<nlohmann::json(const std::string& method, const nlohmann::json& params)>;

// A message that could not be delivered to a server: unreachable, TLS refused either way, an
// HTTP error without a JSON-RPC answer. Carries what the host is told and what the log says.
class UpstreamError : public ConnectionError {
public:
    UpstreamError(std::string server, FailureKind kind, const std::string& reason, nlohmann::json peer = nlohmann::json::object());
    const std::string& server() const { return server_; }
    // The JSON-RPC error object for the host: code -32000, "SERVER: REASON", data with the kind.
    nlohmann::json rpc_error() const;
    // Fields of the one log line a failure gets: server, reason, and the certificate seen if any.
    nlohmann::json log_fields() const;

private:
    std::string server_;
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
                      const SseEventHandler& on_event = nullptr, const std::function<void(const HttpResponse&)>& on_headers = nullptr);
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

class UpstreamSession : private SessionPolicy {
public:
    UpstreamSession(std::string name, Url url, std::shared_ptr<ReloadingTlsContext> tls, Timeouts timeouts);
    ~UpstreamSession() override;  // close()
    UpstreamSession(const UpstreamSession&) = delete;
    UpstreamSession& operator=(const UpstreamSession&) = delete;

    // Forwards an initialize request and keeps its params for healing. The answer goes to
    // `on_message` like every other message. Throws UpstreamError.
    void initialize(const nlohmann::json& request, const MessageSink& on_message);
    // Forwards a request; the server's messages, its answer last, go to `on_message`. Returns
    // false when the server ended every stream without answering. Throws UpstreamError.
    // resources/(un)subscribe to a 2026-07-28 server (which no longer has them) changes the
    // stream's filter instead.
    bool request(const nlohmann::json& request, const MessageSink& on_message);
    // A 2026-07-28 host: opens the server's session (unless it is open) in the era the client's
    // negotiation picks, with the capabilities and client info of `request`'s _meta envelope.
    // Throws UpstreamError.
    void open_for_modern_host(const nlohmann::json& request);
    // A 2026-07-28 host: the server/discover result the bridge answers it with, made of what the
    // server described (its discover or initialize result) in the shape our servers answer.
    nlohmann::json modern_discover_result() const { return discover_result(core_.description()); }
    // The same made of any description: capabilities, serverInfo, instructions (what an
    // initialize result holds), for a server the bridge is itself (--all).
    static nlohmann::json discover_result(nlohmann::json described);
    // A 2026-07-28 host's request, as request() does for a 2025 host (see the header's paragraph).
    bool relay(const nlohmann::json& request, const MessageSink& on_message);
    // A 2026-07-28 host's notification (notifications/cancelled), without its envelope: the
    // session's own goes with it. Throws UpstreamError.
    void relay_notification(const nlohmann::json& message);
    // Forwards a notification or an answer to a server's request. Throws UpstreamError.
    void post(const nlohmann::json& message) { core_.post(message); }
    // Keeps the server's standalone event stream open on a thread of its own (when the server
    // offers one), its messages to `on_message`; reopened with Last-Event-ID when it drops, on
    // the new session when the session was renewed.
    // A 2026-07-28 server: the stream is a subscriptions/listen for the list changes the server
    // announces and the resources subscribed to (request()).
    void start_listening(MessageSink on_message);
    // Ends every exchange in progress (shutdown by signal); they fail with UpstreamError.
    void abort() {
        forget_host();
        core_.abort();
    }
    // How input-required results of a 2026-07-28 server are put to the host. Set before use.
    void set_host_asker(HostAsker asker) { ask_host_ = std::move(asker); }
    // The server speaks 2026-07-28 and the host 2025.
    bool translating() const { return !host_modern_ && core_.state().era == Era::modern; }
    // The host is gone (its stdin closed): calls parked until it answers end now, their server
    // told that no answer comes.
    void forget_host();
    // Stops listening and ends the session (DELETE). Best effort, never throws.
    void close() {
        forget_host();
        core_.close();
    }

    const std::string& name() const { return name_; }
    // Resource subscriptions a host may hold with one server (each a request, or a filter entry).
    static constexpr size_t kMaxResourceSubscriptions = 64;

private:
    // SessionPolicy: every exchange on the pool.
    HttpResponse send(Lane lane, const std::string& method, const HeaderList& headers, const std::string& body,
                      const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) override;
    void interrupt() override {
        stream_pool_.abort_all();
        pool_.abort_all();
    }
    void interrupt_stream() override { stream_pool_.abort_all(); }
    [[noreturn]] void fail(const std::string& reason) override;
    nlohmann::json fresh_id() override { return "mcp-mtls-bridge-" + std::to_string(++made_ids_); }
    nlohmann::json answer_input(const std::string& method, const nlohmann::json& params) override;
    void reopen() override;

    // Opens the session with the host's initialize: the answer for the host (made from
    // server/discover when the server speaks only 2026-07-28 and the host 2025).
    nlohmann::json open(const nlohmann::json& request, const MessageSink& on_message);
    // A request a 2025 server makes of a 2026-07-28 host while a call runs, that the host cannot
    // be asked (input rounds are all taken, or it is not elicitation, sampling or roots): answered
    // here.
    void refuse_server_request(const nlohmann::json& message, const std::string& reason);

    // resources/subscribe or resources/unsubscribe to a 2026-07-28 server.
    bool subscribe(const nlohmann::json& request, const MessageSink& on_message);
    nlohmann::json listen_filter();  // what the stream of a 2026 server listens for
    // client/modern_host.cpp: a 2026-07-28 host's call to a 2025 server, as input rounds.
    struct HeldCall;
    // A new call (its answer to the host, after as many rounds as the server asks), or the
    // host's retry of one that is parked (params.requestState).
    bool relay_to_legacy(const nlohmann::json& request, const MessageSink& on_message);
    bool resume(const nlohmann::json& request, const MessageSink& on_message);
    // The server's request during `call`: put to the host as an input-required result, then
    // waits (on the thread that reads the server's stream) for the host's retry and answers the
    // server with what it brought.
    void put_to_host(const std::shared_ptr<HeldCall>& call, const nlohmann::json& server_request);
    // A retry of a round in progress names the round's own id: a cancellation of it is meant for
    // the call's first id, the one the server knows.
    nlohmann::json upstream_id_of(const nlohmann::json& host_id);
    // subscriptions/listen: the server's standalone stream, opened for it, its notifications
    // filtered for each listen request of the host and tagged with that request's id; resource
    // subscriptions become resources/subscribe in the session.
    struct HostListener {
        nlohmann::json id;      // the listen request's
        nlohmann::json filter;  // what the server can send of what the host asked for
        MessageSink to_host;
    };
    bool listen_for_host(const nlohmann::json& request, const MessageSink& on_message);
    void dispatch_standalone(const nlohmann::json& message);
    // A cancelled listen request: forgotten here (the server never knew its id). True if it was one.
    bool end_listener(const nlohmann::json& id);

    const std::string name_;
    ConnectionPool pool_;
    ConnectionPool stream_pool_;  // the standalone stream's (GET, or subscriptions/listen): cut alone when its filter changes
    HostAsker ask_host_;
    std::atomic<bool> host_modern_{false};  // the host speaks 2026-07-28 (open_for_modern_host)
    std::atomic<uint64_t> made_ids_{0};
    std::mutex held_mutex_;  // before a HeldCall's own
    std::map<std::string, std::shared_ptr<HeldCall>> held_;  // parked calls by their requestState
    std::map<std::string, nlohmann::json> retried_ids_;      // a retry's id (JSON text) -> the call's first id
    bool host_gone_ = false;                                 // forget_host(): nothing is parked any more
    std::mutex subscribed_mutex_;
    std::set<std::string> subscribed_;  // a 2025 host's resource subscriptions to a 2026 server
    std::mutex listeners_mutex_;
    std::vector<HostListener> listeners_;
    SessionCore core_;  // last: stopped before the pool it uses goes
};

}  // namespace mcpmtls::client
