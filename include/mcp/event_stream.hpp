#pragma once
// Server-Sent Events for MCP's Streamable HTTP transport. A stream outlives the HTTP response
// that carries it: when the connection drops, or the server ends the response on purpose (SSE
// polling), the client reconnects with Last-Event-ID and gets the rest on a new response. So a
// stream is a numbered, bounded log of events (EventStream), and each HTTP response that reads
// it is a StreamReader: an optional priming event, the events after a cursor, a comment
// heartbeat while idle (proxies and load balancers cut connections that stay silent), and the
// retry field before an early close.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::mcp {

// The HTTP layer's end of a streamed response.
class BodySink {
public:
    virtual ~BodySink() = default;
    virtual bool write(const std::string& bytes) = 0;  // false: the client is gone
    virtual bool client_gone() const { return false; }  // the client closed its end of the connection
};

// What a streamed body tells the HTTP layer after each call: call me again, the body is
// complete, or drop the connection.
enum class StreamStep { more, done, abort };

struct SseSettings {
    std::chrono::milliseconds heartbeat{15000};
    std::chrono::milliseconds retry{1000};  // the reconnection delay a client is told
    size_t replay_events = 256;             // per stream, for Last-Event-ID
    // A reader returns at least this often, so that the HTTP layer can check for shutdown.
    std::chrono::milliseconds max_wait{250};
};

// "STREAM:SEQUENCE", the id of every event: which stream, and where in it.
struct EventId {
    std::string stream;
    uint64_t sequence = 0;
    static std::optional<EventId> parse(const std::string& text);
    std::string text() const;
};

class EventStream {
public:
    EventStream(std::string id, size_t replay_limit);
    const std::string& id() const { return id_; }

    // Appends one JSON-RPC message; false (dropped) once the stream has finished.
    bool push(const std::string& message);
    // No events after those pushed: readers end once they have sent them.
    void finish();
    // Ends the HTTP responses reading the stream now, not the stream itself (SSE polling).
    void end_responses();
    bool finished() const;
    uint64_t last_sequence() const;

    // For readers. attach() makes the caller the stream's only reader: older readers end
    // (a client that reconnected has given up on them).
    struct Reader {
        unsigned generation = 0;
        unsigned responses_ended = 0;
    };
    Reader attach();
    struct Batch {
        std::vector<std::pair<uint64_t, std::string>> events;  // sequence, message
        bool finished = false;        // and nothing after these
        bool end_response = false;    // end_responses() was called after the reader attached
        bool superseded = false;      // a newer reader attached
        bool lost_events = false;     // some events after the cursor were dropped from the log
    };
    Batch wait(const Reader& reader, uint64_t cursor, std::chrono::milliseconds timeout) const;

private:
    const std::string id_;
    const size_t replay_limit_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::deque<std::pair<uint64_t, std::string>> events_;
    uint64_t next_sequence_ = 1;
    bool finished_ = false;
    unsigned generation_ = 0;
    unsigned responses_ended_ = 0;
};

// One HTTP response reading an EventStream from a cursor.
class StreamReader {
public:
    // `prime`: start with an event that has an id and no data (MCP 2025-11-25), so that the
    // client can resume even if no message arrives before the connection drops.
    StreamReader(std::shared_ptr<EventStream> stream, uint64_t cursor, SseSettings settings, bool prime);
    // Writes what is ready (waiting at most settings.max_wait), a heartbeat when one is due.
    StreamStep pump(BodySink& sink);

private:
    std::shared_ptr<EventStream> stream_;
    uint64_t cursor_;
    const SseSettings settings_;
    bool prime_;
    EventStream::Reader reader_;
    std::chrono::steady_clock::time_point last_write_;
};

// One SSE message event: "event: message\ndata: MESSAGE\n\n" (with "id: ID\n" when id is given).
std::string sse_message_event(const std::string& message, const std::string& id = "");

}  // namespace mcpmtls::mcp
