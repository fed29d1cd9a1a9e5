#pragma once
// One MCP session, shared by the requests that use it, each on its own worker thread: what the
// client declared at initialize, its log level and resource subscriptions, its event streams,
// the tool calls running for it (so that notifications/cancelled reaches them) and the requests
// the server sent it that wait for an answer (sampling, elicitation), matched by id.
#include "mcp/event_stream.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace mcpmtls::mcp {

class Session {
public:
    // The id of the standalone stream (HTTP GET without Last-Event-ID); request streams count from 1.
    static constexpr const char* kStandaloneStream = "0";

    Session(std::string client_fingerprint, std::string protocol_version, nlohmann::json client_capabilities,
            size_t replay_events);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const std::string& client_fingerprint() const { return client_fingerprint_; }
    const std::string& protocol_version() const { return protocol_version_; }
    // Whether the client declared `capability` ("sampling", "elicitation", "roots") at initialize.
    bool client_supports(const std::string& capability) const;
    // MCP 2025-11-25 and later: priming events and SSE polling.
    bool primes_streams() const { return protocol_version_ >= "2025-11-25"; }

    std::atomic<int> log_level{1};  // index of an mcp::LogLevel; info
    std::atomic<int64_t> last_used_ms{0};

    std::shared_ptr<EventStream> standalone_stream() const { return standalone_; }
    // True for the first GET that opens the standalone stream: it gets what was sent before it
    // came (a resource updated between subscribe and the client's GET); a later GET without
    // Last-Event-ID starts from now, since the client has seen the rest.
    bool first_standalone_open() { return !standalone_opened_.exchange(true); }
    // A new stream for one request's answer. Finished streams beyond a few are forgotten.
    std::shared_ptr<EventStream> open_stream();
    std::shared_ptr<EventStream> find_stream(const std::string& id) const;

    // A tool call in progress, by its JSON-RPC request id.
    struct RunningCall {
        std::atomic<bool> cancelled{false};
    };
    // Null when a call with the same id is already running (ids must be unique while in flight).
    std::shared_ptr<RunningCall> begin_call(const nlohmann::json& request_id);
    void end_call(const nlohmann::json& request_id);
    // notifications/cancelled: true when the call was running (its flag is now set).
    bool cancel_call(const nlohmann::json& request_id);
    // Waits `duration`, returning false early when `call` is cancelled or the session closes.
    bool wait_unless_cancelled(const RunningCall& call, std::chrono::milliseconds duration);

    // Sends a JSON-RPC request to the client on `via` and waits for the answer's result; throws
    // ClientRequestError on an error answer, a timeout, a cancelled call or a closed session
    // (telling the client with notifications/cancelled when it gives up waiting).
    nlohmann::json ask_client(EventStream& via, const std::string& method, const nlohmann::json& params,
                              std::chrono::milliseconds timeout, const RunningCall* call);
    // A JSON-RPC response the client POSTed: false when no request of ours waits for it.
    bool deliver_answer(const nlohmann::json& message);

    // Subscriptions; false when nothing changed. At most kMaxSubscriptions: templates match
    // without end, and each subscription is memory a client could otherwise grow at will.
    static constexpr size_t kMaxSubscriptions = 1024;
    bool subscribe(const std::string& uri);
    size_t subscription_count() const;
    bool unsubscribe(const std::string& uri);
    bool subscribed(const std::string& uri) const;

    // The session is deleted or expired: running calls are cancelled, waiting requests fail and
    // every stream finishes.
    void close();
    bool closed() const;

private:
    const std::string client_fingerprint_;
    const std::string protocol_version_;
    const nlohmann::json client_capabilities_;
    const size_t replay_events_;
    const std::shared_ptr<EventStream> standalone_;
    std::atomic<bool> standalone_opened_{false};
    mutable std::mutex mutex_;
    std::condition_variable changed_;  // an answer arrived, a call was cancelled, the session closed
    bool closed_ = false;
    uint64_t next_stream_ = 1;
    std::map<uint64_t, std::shared_ptr<EventStream>> streams_;
    std::map<std::string, std::shared_ptr<RunningCall>> running_;  // by request id as JSON text
    int64_t next_request_id_ = 1;
    std::map<int64_t, nlohmann::json> answers_;  // request id -> answer (null while waiting)
    std::set<std::string> subscriptions_;
};

}  // namespace mcpmtls::mcp
