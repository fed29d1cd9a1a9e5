#pragma once
// Who holds the server's worker threads, and how much a connection may send.
//
// Workers: the HTTP server gives each connection a thread for its whole life, from the first
// byte of its handshake to its close, so a pool full of idle keep-alive connections or of
// stalled handshakes would make a new client wait. Handshakes get `handshake_timeout` in all,
// however slowly their bytes arrive. When a connection is waiting for a worker, a connection
// that just got its answer is told "Connection: close", and failing that the connection idle
// longest is closed (HTTP lets a server close an idle keep-alive connection at any time; nginx
// does the same when it runs out of connections).
//
// Bytes: cpp-httplib bounds each header line but not how many there are, so a client could
// stream headers until the server runs out of memory. Every connection's socket reads are
// counted; before a request's headers are complete it may send at most `max_header_bytes`;
// beyond that the stream ends for the server, which closes the connection.
#include "tls/handshake_observer.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace mcpmtls::server {

class ConnectionGovernor final : public tls::HandshakeObserver {
public:
    using Clock = std::chrono::steady_clock;
    struct Limits {
        size_t max_header_bytes = 64 * 1024;  // cpp-httplib allows 8 KiB per line; this, in all
        std::chrono::milliseconds handshake_timeout{5000};
    };

    explicit ConnectionGovernor(Limits limits);
    ConnectionGovernor(const ConnectionGovernor&) = delete;
    ConnectionGovernor& operator=(const ConnectionGovernor&) = delete;

    // From the TLS context: a connection's handshake starts (it is tracked from now until its
    // SSL is freed), and completes (it is idle until its first request). Repeated completions
    // (TLS 1.3 post-handshake messages) change nothing.
    void handshake_started(SSL* ssl) noexcept override;
    void handshake_finished(SSL* ssl) noexcept override;
    // The request's headers are in: its body may now be read.
    void request_started(const SSL* ssl);
    // Its answer is ready. A connection whose answer says "Connection: close" stays a candidate
    // too: a client that ignores the header is closed like any idle connection.
    void request_finished(const SSL* ssl);

    // A connection that has not sent its first request within this time after its handshake
    // may be closed too (it would otherwise hold a worker for the keep-alive timeout).
    static constexpr std::chrono::milliseconds kFirstRequestGrace{1000};
    // Shutting a socket down while its worker still writes the response would lose the answer
    // (the HTTP library checks the socket is alive before writing), so only connections idle
    // this long are closed: well after any response to a reading client has gone out.
    static constexpr std::chrono::milliseconds kIdleBeforeClose{200};

    // Closes up to `wanted` idle connections, longest idle first, by shutting the socket down
    // (the client sees the close; its worker sees end of stream in its keep-alive wait and
    // moves on to a waiting connection). Returns how many were closed.
    size_t make_room(size_t wanted);
    // Closes every connection whose handshake has taken longer than the handshake timeout.
    size_t close_overdue_handshakes();

    size_t closed_to_make_room() const;  // since start, for the shutdown log

    struct Connection;

private:
    static void forget(void* parent, void* ptr, void* ex_data, int index, long argl, void* argp);
    static int ex_index();
    Connection* track(SSL* ssl);
    void set_phase(Connection& connection, bool reading_body);

    const Limits limits_;
    const size_t header_budget_;
    mutable std::mutex mutex_;
    // Owned by the SSL (its ex_data), listed here while it lives.
    std::unordered_map<const SSL*, Connection*> connections_;
    size_t closed_to_make_room_ = 0;
};

}  // namespace mcpmtls::server
