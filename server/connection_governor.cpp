#include "server/connection_governor.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace mcpmtls::server {

struct ConnectionGovernor::Connection {
    ConnectionGovernor* governor = nullptr;
    int fd = -1;
    // Guarded by the governor's mutex.
    bool handshaking = true;
    bool busy = false;
    bool served = false;  // has answered a request: a new connection first gets its turn
    bool closing = false;
    Clock::time_point since;  // handshake start while handshaking, else idle since
    // Read by the BIO callback on the connection's worker thread, reset by the same thread
    // from the request hooks; atomics only so that make_room's thread may look too.
    std::atomic<size_t> received{0};
    std::atomic<size_t> allowed{SIZE_MAX};
    std::atomic<bool> cut_off{false};  // over budget once: the stream has ended for good
};

namespace {

// TLS records add up to a few dozen bytes per 16 KiB of payload; the budgets count raw bytes.
size_t with_record_overhead(size_t payload) { return payload + payload / 256 + 4096; }

long count_reads(BIO* bio, int operation, const char*, size_t, int, long, int ret, size_t* processed) {
    if (operation != (BIO_CB_READ | BIO_CB_RETURN) || ret <= 0 || !processed) return ret;
    auto* connection = reinterpret_cast<ConnectionGovernor::Connection*>(BIO_get_callback_arg(bio));
    if (!connection) return ret;
    const size_t total = connection->received.fetch_add(*processed, std::memory_order_relaxed) + *processed;
    if (connection->cut_off.load(std::memory_order_relaxed) || total > connection->allowed.load(std::memory_order_relaxed)) {
        // Reported as the end of the stream, for good (bytes dropped from the middle of a TLS
        // record must never be followed by more): the server stops reading and closes, with no
        // TLS alert that a client would take for a refusal of its certificate.
        connection->cut_off.store(true, std::memory_order_relaxed);
        *processed = 0;
        return 0;
    }
    return ret;
}

}  // namespace

ConnectionGovernor::ConnectionGovernor(Limits limits)
    : limits_(limits), header_budget_(with_record_overhead(limits.max_header_bytes)) {}

// OpenSSL calls this while freeing the SSL (before it frees the BIO, and before the HTTP server
// closes the socket): the descriptor is still ours while the entry exists, so the governor
// never shuts down a reused fd.
void ConnectionGovernor::forget(void* parent, void* ptr, void*, int, long, void*) {
    if (!ptr) return;
    auto* connection = static_cast<Connection*>(ptr);
    if (BIO* rbio = SSL_get_rbio(static_cast<SSL*>(parent)); rbio && BIO_get_callback_arg(rbio) == reinterpret_cast<char*>(connection)) {
        BIO_set_callback_ex(rbio, nullptr);
        BIO_set_callback_arg(rbio, nullptr);
    }
    {
        std::lock_guard<std::mutex> lock(connection->governor->mutex_);
        connection->governor->connections_.erase(static_cast<const SSL*>(parent));
    }
    delete connection;
}

int ConnectionGovernor::ex_index() {
    static const int index = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void* parent, void* ptr, CRYPTO_EX_DATA* ad, int idx, long argl, void* argp) {
            forget(parent, ptr, ad, idx, argl, argp);
        });
    return index;
}

// A body is not limited here: httplib reads at most its Content-Length (413 beyond --max-body)
// and bounds chunked bodies itself, so only header bytes can pile up in memory.
void ConnectionGovernor::set_phase(Connection& connection, bool reading_body) {
    connection.received.store(0, std::memory_order_relaxed);
    connection.allowed.store(reading_body ? SIZE_MAX : header_budget_, std::memory_order_relaxed);
}

ConnectionGovernor::Connection* ConnectionGovernor::track(SSL* ssl) {
    if (auto* existing = static_cast<Connection*>(SSL_get_ex_data(ssl, ex_index()))) return existing;
    const int fd = SSL_get_fd(ssl);
    BIO* rbio = SSL_get_rbio(ssl);
    if (fd < 0 || !rbio) return nullptr;
    auto* connection = new Connection;
    connection->governor = this;
    connection->fd = fd;
    connection->since = Clock::now();
    if (SSL_set_ex_data(ssl, ex_index(), connection) != 1) {
        delete connection;
        return nullptr;
    }
    BIO_set_callback_arg(rbio, reinterpret_cast<char*>(connection));
    BIO_set_callback_ex(rbio, count_reads);
    std::lock_guard<std::mutex> lock(mutex_);
    connections_[ssl] = connection;
    return connection;
}

void ConnectionGovernor::handshake_started(SSL* ssl) noexcept { track(ssl); }

void ConnectionGovernor::handshake_finished(SSL* ssl) noexcept {
    Connection* connection = track(ssl);
    if (!connection) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connection->handshaking) return;
    connection->handshaking = false;
    connection->since = Clock::now();
    set_phase(*connection, false);
}

void ConnectionGovernor::request_started(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    it->second->busy = true;
    set_phase(*it->second, true);
}

void ConnectionGovernor::request_finished(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    Connection& connection = *it->second;
    connection.busy = false;
    connection.served = true;
    connection.since = Clock::now();
    set_phase(connection, false);
}

size_t ConnectionGovernor::make_room(size_t wanted) {
    if (wanted == 0) return 0;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Connection*> idle;
    for (auto& [ssl, connection] : connections_)
        if (!connection->handshaking && !connection->busy && !connection->closing &&
            now - connection->since >= (connection->served ? kIdleBeforeClose : kFirstRequestGrace))
            idle.push_back(connection);
    const size_t count = std::min(wanted, idle.size());
    std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(count), idle.end(),
                      [](const Connection* a, const Connection* b) { return a->since < b->since; });
    for (size_t i = 0; i < count; ++i) {
        ::shutdown(idle[i]->fd, SHUT_RDWR);
        idle[i]->closing = true;
    }
    closed_to_make_room_ += count;
    return count;
}

size_t ConnectionGovernor::close_overdue_handshakes() {
    const auto deadline = Clock::now() - limits_.handshake_timeout;
    size_t closed = 0;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [ssl, connection] : connections_)
        if (connection->handshaking && !connection->closing && connection->since < deadline) {
            ::shutdown(connection->fd, SHUT_RDWR);
            connection->closing = true;
            ++closed;
        }
    return closed;
}

size_t ConnectionGovernor::closed_to_make_room() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_to_make_room_;
}

}  // namespace mcpmtls::server
