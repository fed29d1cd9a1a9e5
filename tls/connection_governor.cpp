#include "tls/connection_governor.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

namespace mcpmtls::tls {

// OpenSSL calls this while freeing the SSL, before the HTTP server closes the socket: the
// descriptor is still ours while the entry exists, so make_room() never shuts down a reused fd.
void ConnectionGovernor::forget(void* parent, void* ptr, void*, int, long, void*) {
    if (!ptr) return;
    auto* self = static_cast<ConnectionGovernor*>(ptr);
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->connections_.erase(static_cast<const SSL*>(parent));
}

int ConnectionGovernor::ex_index() {
    static const int index = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void* parent, void* ptr, CRYPTO_EX_DATA* ad, int idx, long argl, void* argp) {
            forget(parent, ptr, ad, idx, argl, argp);
        });
    return index;
}

void ConnectionGovernor::track(SSL* ssl) {
    if (SSL_get_ex_data(ssl, ex_index()) != nullptr) return;
    const int fd = SSL_get_fd(ssl);
    if (fd < 0) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        Entry entry;
        entry.fd = fd;
        entry.idle_since = Clock::now();
        connections_[ssl] = entry;
    }
    SSL_set_ex_data(ssl, ex_index(), this);
}

void ConnectionGovernor::request_started(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it != connections_.end()) it->second.busy = true;
}

void ConnectionGovernor::request_finished(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    it->second.busy = false;
    it->second.served = true;
    it->second.idle_since = Clock::now();
}

size_t ConnectionGovernor::make_room(size_t wanted) {
    if (wanted == 0) return 0;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::pair<Clock::time_point, Entry*>> idle;
    for (auto& [ssl, entry] : connections_)
        if (!entry.busy && !entry.closing &&
            now - entry.idle_since >= (entry.served ? kIdleBeforeClose : kFirstRequestGrace))
            idle.emplace_back(entry.idle_since, &entry);
    const size_t count = std::min(wanted, idle.size());
    std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(count), idle.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < count; ++i) {
        ::shutdown(idle[i].second->fd, SHUT_RDWR);
        idle[i].second->closing = true;
    }
    closed_to_make_room_ += count;
    return count;
}

size_t ConnectionGovernor::open_connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return connections_.size();
}

size_t ConnectionGovernor::closed_to_make_room() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_to_make_room_;
}

}  // namespace mcpmtls::tls
