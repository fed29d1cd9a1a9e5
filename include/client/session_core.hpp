#pragma once
// What every MCP client session over Streamable HTTP does, whoever uses it: agree on the era
// (server/discover, else the 2025 initialize handshake), send a request and follow its answer's
// event stream (resumed with GET and Last-Event-ID when it ends early), open the session again
// when the server has forgotten it (404), keep the standalone GET stream open, answer a
// 2026-07-28 input-required result and retry the request, and DELETE the session at the end.
// The coordinator's McpSession and the bridge's UpstreamSession differ only in their policy:
// how they reach the server (one connection per use, or a pool shared by many threads), what
// they fail with, who answers a server's input requests (the client itself, or the host), and
// what a re-opened session is opened with (its own initialize, or the host's).
#include "client/http_connection.hpp"
#include "client/stream_position.hpp"
#include "client/wire_protocol.hpp"
#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace mcpmtls::client {

using MessageSink = std::function<void(const nlohmann::json& message)>;

// Which of a session's uses an exchange serves: a policy with a single connection per use keeps
// them apart (a call's stream is still being read while the server's request in it is answered).
enum class Lane { call, answer, stream };

// What a session's user decides; the core calls it, from any of the threads it runs.
class SessionPolicy {
public:
    virtual ~SessionPolicy() = default;
    // One HTTP exchange. Throws ConnectionError (or a kind of it) when the server cannot be reached.
    virtual HttpResponse send(Lane lane, const std::string& method, const HeaderList& headers, const std::string& body,
                              const SseEventHandler& on_event, const std::function<void(const HttpResponse&)>& on_headers) = 0;
    // From another thread: ends the standalone stream's read (shutdown).
    virtual void interrupt() = 0;
    // From another thread: ends the standalone stream's read and nothing else (its filter
    // changed, and it is opened again at once).
    virtual void interrupt_stream() { interrupt(); }
    // Throws the user's own error for a failure the core found (an HTTP error without an answer...).
    [[noreturn]] virtual void fail(const std::string& reason) = 0;
    // A new id for a request the core makes up (a retry, a schema lookup).
    virtual nlohmann::json fresh_id() = 0;
    // The answer to one input request of an input-required result: {"result": ...} or {"error": ...}.
    virtual nlohmann::json answer_input(const std::string& method, const nlohmann::json& params) = 0;
    // Opens the session again (the server forgot it, or it was never opened): whatever the user
    // opened it with the first time (open(), not notifications/initialized: the core sends that).
    virtual void reopen() = 0;
    // A 2026-07-28 tools/call of a tool not listed yet: list the tools now (their schemas give the
    // call's Mcp-Param-* headers), or leave the call without them.
    virtual void learn_tools() {}
};

struct SessionOptions {
    // Reading an answer's stream stops at the answer (the connection is closed) instead of going
    // on to its end (the connection stays reusable).
    bool stop_at_answer = false;
    // A forgotten session is opened again wherever that is noticed, the standalone stream
    // included; otherwise the standalone stream ends with its session.
    bool heal = false;
    // A server/discover refused outright (401, 403, 5xx) leads to the 2025 handshake instead of
    // failing the session.
    bool legacy_after_failed_discover = false;
    // Sessions opened, renewed and closed are logged at info (an operator's log) or debug.
    bool log_sessions = false;
};

class SessionCore {
public:
    struct State {
        std::string session_id;
        std::string protocol_version;
        uint64_t epoch = 0;  // bumped by every new session
        Era era = Era::legacy;
        bool established = false;
    };

    SessionCore(std::string name, SessionPolicy& policy, SessionOptions options);
    ~SessionCore();  // stops listening; the policy must still be alive

    // Opens the session with an initialize request: 2026-07-28 when server/discover offers it and
    // `choice` allows it (unless the server also offers `keep_version`: then the 2025 session),
    // else the 2025 handshake (notifications/initialized is the user's to send). Returns the
    // JSON-RPC answer: initialize's, or {"result": the discover result} in the 2026 era; null
    // when the server ended its streams without answering. Messages before it go to `on_message`.
    nlohmann::json open(const nlohmann::json& initialize, const VersionChoice& choice, const std::string& keep_version,
                        const MessageSink& on_message);
    // Sends a request in the session's era and returns its answer (its id the request's), null
    // when the server ended every stream without one. The server's other messages in between go to
    // `on_message`. A forgotten session is opened again and the request sent once more.
    nlohmann::json request(const nlohmann::json& message, const MessageSink& on_message);
    // A request of a 2026-07-28 peer (the bridge's host), in the 2026 era: sent as it is, its own
    // _meta included, with the headers that must match it; an input-required result is returned
    // as it is, for that peer to answer. In a 2025 session, the same as request().
    nlohmann::json forward(const nlohmann::json& message, const MessageSink& on_message);
    // Sends a notification or an answer to a server's request.
    void post(const nlohmann::json& message, Lane lane = Lane::call);

    // Keeps the standalone event stream open on a thread of its own, its messages to
    // `on_message`; reopened with Last-Event-ID after the server's retry delay. Waits up to
    // `wait_open` for the first GET to be answered: a server's request sent before would be lost.
    // In the 2026-07-28 era the stream is a subscriptions/listen request with the filter last
    // given to listen_for() (none given: no stream, as the revision has no standalone GET).
    void start_listening(MessageSink on_message, std::chrono::milliseconds wait_open = {});
    // The 2026-07-28 era's subscriptions/listen filter ({toolsListChanged, promptsListChanged,
    // resourcesListChanged, resourceSubscriptions}); a stream open with another one is opened
    // again with this one. An empty filter holds the stream closed until the next. While the
    // stream runs, returns once the server has acknowledged the new filter (or after 5 s), so
    // that a subscription is in effect when the caller says so.
    void listen_for(nlohmann::json filter);
    void stop_listening();
    // Ends every wait and read in progress (shutdown by signal).
    void abort();
    // Stops listening and DELETEs the session, if one was issued. Best effort, never throws.
    void close();

    State state() const;
    nlohmann::json description() const;         // the initialize or discover result (null before)
    nlohmann::json initialize_params() const;   // what the session was last opened with (null before)

private:
    // request() and post(): one message in the session's era, once more in a new session when
    // the server forgot this one.
    nlohmann::json deliver(const nlohmann::json& message, const MessageSink& on_message, Lane lane);
    void end(const State& session);  // DELETE
    spdlog::level::level_enum session_level() const { return options_.log_sessions ? spdlog::level::info : spdlog::level::debug; }
    // Opens a forgotten session again, unless one newer than `stale` exists already.
    void renew(const State& stale);
    // The request's params with the 2026-07-28 _meta envelope of this session.
    nlohmann::json modern_params(const nlohmann::json& params) const;
    // One message out, its answer stream followed (and resumed) to the end. Returns the answer
    // (null when there was none); `status` and `head` get the POST's.
    nlohmann::json exchange(const nlohmann::json& message, const HeaderList& headers, const MessageSink& on_message, Lane lane,
                            int& status, HttpResponse* head = nullptr);
    nlohmann::json modern_request(const nlohmann::json& request, const MessageSink& on_message);
    nlohmann::json schema_of(const std::string& tool);
    void keep_schemas(nlohmann::json& answer);
    void listen(const MessageSink& on_message, const std::function<void(bool)>& opened);
    bool wait_or_stop(long milliseconds);
    // The 2026-07-28 era's stream: one subscriptions/listen exchange with the current filter.
    // Returns false when the server does not take the request (no point asking again).
    bool listen_modern(const State& current, const MessageSink& on_message, const std::function<void(bool)>& report, int& failures);

    const std::string name_;
    SessionPolicy& policy_;
    const SessionOptions options_;
    mutable std::mutex state_mutex_;
    State state_;
    nlohmann::json initialize_params_;  // what the session was opened with: again on renewal, and in _meta
    nlohmann::json description_;
    std::map<std::string, nlohmann::json> tool_schemas_;  // 2026: inputSchema by tool name, for Mcp-Param-*
    std::mutex renew_mutex_;                              // one renewal at a time
    std::thread listener_;
    std::mutex stop_mutex_;
    std::condition_variable stop_wake_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> listener_done_{true};
    nlohmann::json listen_filter_;           // under stop_mutex_; null: never given
    std::atomic<uint64_t> filter_epoch_{0};    // bumped by every listen_for()
    std::atomic<uint64_t> listening_epoch_{0}; // the filter the stream thread has taken up
    uint64_t acknowledged_epoch_ = 0;          // under stop_mutex_: the filter the server acknowledged
};

// True if `message` is a JSON-RPC answer (result or error) to the request with this id.
bool is_answer_to(const nlohmann::json& message, const nlohmann::json& id);

}  // namespace mcpmtls::client
