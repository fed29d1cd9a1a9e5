#pragma once
// MCP's stdio transport, the host's side of the bridge: newline-delimited JSON-RPC messages in
// on one file descriptor and out on another. Reading is bounded (a line longer than the limit is
// skipped as it streams in, never held whole) and can be woken by a second descriptor (the
// bridge passes a signalfd, so SIGTERM ends a blocked read). Writing takes one lock per
// message, so that threads answering at once (event streams, workers) never mix their lines.
#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace mcpmtls::client {

class LineReader {
public:
    struct Line {
        enum class Kind { message, oversized, end_of_input, woken };
        Kind kind = Kind::end_of_input;
        std::string text;  // a message's text, without its line end
    };

    // `wake_fd` (or -1): when it becomes readable, next() returns Kind::woken.
    LineReader(int fd, size_t max_line_bytes, int wake_fd = -1);
    // The next non-empty line. An oversized one is reported once, as soon as it passes the limit;
    // the rest of it is read and dropped as it comes.
    Line next();
    size_t max_line_bytes() const { return max_line_bytes_; }

private:
    bool fill();  // false at end of input; throws on a read error

    int fd_;
    size_t max_line_bytes_;
    int wake_fd_;
    std::string buffer_;     // bytes read and not yet returned: at most one line's worth
    bool skipping_ = false;  // inside an oversized line
    bool woken_ = false;
};

class MessageWriter {
public:
    explicit MessageWriter(int fd) : fd_(fd) {}
    // One message on one line (compact JSON escapes every newline; invalid UTF-8 from a server is
    // replaced, never a reason to drop a message). False once the reader has gone (EPIPE).
    bool write(const nlohmann::json& message);
    bool broken() const;

private:
    int fd_;
    mutable std::mutex mutex_;
    bool broken_ = false;
};

// Parses one message's text, refusing documents nested deeper than `max_depth` before they are
// built (the server's rule: depth is a stack to exhaust). Returns a discarded value on failure and
// says why in `error`.
nlohmann::json parse_message(const std::string& text, std::string& error, int max_depth = 64);

}  // namespace mcpmtls::client
