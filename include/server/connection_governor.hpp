#pragma once
// Who holds the server's worker threads, and how much a connection may send.
//
// Workers: the HTTP server gives each connection a thread for its whole life, from the first
// byte of its handshake to its close, so a pool full of stalled handshakes or of idle keep-alive
// connections would make a new client wait. The governor follows every connection from the start
// of its handshake and keeps unauthenticated ones from holding workers:
//   - a handshake gets `handshake_timeout` in all, however slowly its bytes arrive;
//   - one source address holds at most `max_handshakes_per_source` silent handshakes (connected,
//     but not a byte of a ClientHello sent): a new one beyond that closes the oldest of that
//     address, while real clients, whose ClientHello comes with the connection, are not held
//     back however many connect at once;
//   - when a connection waits for a worker, the oldest unfinished handshake is closed first,
//     and only then the longest-idle keep-alive connection (HTTP lets a server close an idle
//     keep-alive connection at any time; nginx does the same when it runs out of connections).
//     A connection counts as idle only when it is between requests with no byte of a next
//     request waiting, so a busy client is never cut off.
//
// Bytes: cpp-httplib bounds each header line but not how many there are, so a client could
// stream headers until the server runs out of memory. Every connection's socket reads are
// counted; before a request's headers are complete it may send at most `max_header_bytes`;
// beyond that the stream ends for the server, which closes the connection.
//
// Every close is logged as what it is (connection_closed: peer, client identity, requests
// served, why). A connection that ends before its client is authenticated is not: anyone can
// open one, so each is logged at DEBUG only and summed up at INFO and above, by its true reason
// (the peer closed before sending anything, it stayed silent past --handshake-timeout, it spoke
// no TLS, a TLS alert and which, no certificate, the verifier's refusal and its class): the
// first of a reason is logged at once with its details, the rest at most once per
// kFailureSummaryInterval with their count (and when the server stops). Every one of them is
// counted by the verdict observer (mcp_mtls_handshakes_total).
#include "tls/handshake_observer.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace mcpmtls::server {

class ConnectionGovernor final : public tls::HandshakeObserver {
public:
    using Clock = std::chrono::steady_clock;
    struct Limits {
        size_t max_header_bytes = 64 * 1024;  // cpp-httplib allows 8 KiB per line; this, in all
        std::chrono::milliseconds handshake_timeout{5000};
        size_t max_handshakes_per_source = 16;
        std::chrono::seconds keep_alive_timeout{0};  // only to tell a keep-alive close in the log
    };

    // Why the governor itself ended a connection.
    enum class Closing { none, handshake_timeout, handshakes_per_source, make_room_handshake, make_room_idle, cut_after_answer, server_stopping };

    // `verdicts` (may be null) counts the handshakes that fail before the verifier judged them.
    ConnectionGovernor(Limits limits, tls::VerdictObserver* verdicts = nullptr);
    ConnectionGovernor(const ConnectionGovernor&) = delete;
    ConnectionGovernor& operator=(const ConnectionGovernor&) = delete;

    // From the TLS context: a connection's handshake starts (it is tracked from now until its
    // SSL is freed), and completes (it is idle until its first request). Repeated completions
    // (TLS 1.3 post-handshake messages) change nothing.
    void handshake_started(SSL* ssl) noexcept override;
    void handshake_finished(SSL* ssl) noexcept override;
    bool alert(SSL* ssl, bool sent, int description) noexcept override;
    bool handshake_failed(SSL* ssl, const tls::HandshakeFailure& failure) noexcept override;
    // The request's headers are in: its body may now be read.
    void request_started(const SSL* ssl);
    // Its answer is ready (`complete`: the request was read whole; else its body never came).
    // A connection whose answer says "Connection: close" stays a candidate too: a client that
    // ignores the header is closed like any idle connection.
    void request_finished(const SSL* ssl, bool complete = true);
    // The answer being written must be the last: whatever the client sends next (an unread body
    // after a 413) is not read but ends the connection.
    void end_after_answer(const SSL* ssl);

    // A connection that has not sent its first request within this time after its handshake
    // may be closed too (it would otherwise hold a worker for the keep-alive timeout).
    static constexpr std::chrono::milliseconds kFirstRequestGrace{1000};
    // Shutting a socket down while its worker still writes the response would lose the answer
    // (the HTTP library checks the socket is alive before writing), so only connections idle
    // this long are closed: well after any response to a reading client has gone out.
    static constexpr std::chrono::milliseconds kIdleBeforeClose{200};
    // An unfinished handshake younger than this is not closed to make room: a real client
    // finishes its handshake in a few round trips.
    static constexpr std::chrono::milliseconds kHandshakeBeforeClose{250};
    // How long a handshake may wait for its first byte before it counts as silent.
    static constexpr std::chrono::milliseconds kSilentHandshakeGrace{1000};
    // How often, at most, one reason for unauthenticated connections failing is logged.
    static constexpr std::chrono::seconds kFailureSummaryInterval{10};

    // Closes up to `wanted` connections for connections waiting for a worker: the oldest
    // unfinished handshakes first, then idle keep-alive connections, longest idle first, by
    // shutting the socket down (the worker sees the end of the stream and moves on). Returns how
    // many were closed.
    size_t make_room(size_t wanted);
    // Closes every connection whose handshake has taken longer than the handshake timeout, and
    // the oldest silent handshakes of an address holding more than --max-handshakes-per-source;
    // logs the failure summaries whose interval is over.
    size_t close_overdue_handshakes();
    // Logs every failure summary with a count now (the server stops).
    void flush_failure_summaries();
    // When the server stops: closes every connection not in the middle of a request (idle
    // keep-alive connections and unfinished handshakes), so that no worker waits out its
    // keep-alive wait; requests in progress finish.
    size_t close_idle();

    size_t closed_to_make_room() const;  // idle connections, since start, for the shutdown log

    // The connections open now, by what they are doing (for the metrics).
    struct Census {
        size_t handshaking = 0;
        size_t idle = 0;
        size_t busy = 0;
    };
    Census census() const;

    struct Connection;

private:
    static void forget(void* parent, void* ptr, void* ex_data, int index, long argl, void* argp);
    static int ex_index();
    Connection* track(SSL* ssl);
    void set_phase(Connection& connection, bool reading_body);
    void close_locked(Connection& connection, Closing why);
    void log_close(const Connection& connection);
    void report_failure_locked(const Connection& connection);
    void summarize_failures_locked(Clock::time_point now, bool all);

    const Limits limits_;
    const size_t header_budget_;
    mutable std::mutex mutex_;
    // Owned by the SSL (its ex_data), listed here while it lives.
    std::unordered_map<const SSL*, Connection*> connections_;
    size_t closed_to_make_room_ = 0;
    tls::VerdictObserver* const verdicts_;
    // Per reason of failed handshakes: since when its summary runs, and how many it holds.
    struct Tally {
        Clock::time_point since;
        size_t count = 0;  // not logged yet
        tls::HandshakeFailure first;
        bool warning = true;  // else INFO: health checks and stops, not attacks
    };
    std::map<std::string, Tally> failures_;
};

}  // namespace mcpmtls::server
