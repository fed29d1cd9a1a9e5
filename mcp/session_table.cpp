#include "mcp/session_table.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"

#include <algorithm>
#include <mutex>
#include <openssl/rand.h>
#include <stdexcept>

namespace mcpmtls::mcp {
namespace {

// Idle sessions are swept at most this often (and whenever the table is full), not per request.
constexpr int64_t kSweepIntervalMs = 10000;
// At most one eviction line per reason this often; the metric counts every eviction.
constexpr int64_t kEvictionLogIntervalMs = 10000;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string random_session_id() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a session id");
    return to_hex(bytes, sizeof bytes);
}

}  // namespace

const char* eviction_reason_name(EvictionReason reason) {
    switch (reason) {
    case EvictionReason::idle_timeout: return "idle_timeout";
    case EvictionReason::client_cap: return "client_cap";
    case EvictionReason::table_full: return "table_full";
    }
    return "unknown";
}

SessionTable::SessionTable(SessionLimits limits) : limits_(limits) {}

SessionTable::~SessionTable() { close_all(); }

void SessionTable::close_all() {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    for (auto& [id, entry] : sessions_) entry.session->close();
    sessions_.clear();
    per_identity_.clear();
}

size_t SessionTable::size() const {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    return sessions_.size();
}

std::string SessionTable::open(std::shared_ptr<Session> session, const std::string& identity) {
    const int64_t now = now_ms();
    session->last_used_ms = now;
    std::unique_lock<std::shared_mutex> lock(mutex_);
    if (sessions_.size() >= limits_.max_sessions || now - last_sweep_ms_ > kSweepIntervalMs) expire_idle_locked(now);
    const auto held = per_identity_.find(identity);
    const size_t holds = held == per_identity_.end() ? 0 : held->second.size();
    if (holds >= limits_.max_sessions_per_client) {
        evict_locked(least_recent_locked(identity), EvictionReason::client_cap, now);
    } else if (sessions_.size() >= limits_.max_sessions) {
        // Full of sessions that are in use: the largest holder gives way, if it holds more than
        // this identity will once served; between equals the newcomer is refused.
        auto largest = std::max_element(per_identity_.begin(), per_identity_.end(),
                                        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
        if (largest == per_identity_.end() || largest->second.size() <= holds + 1) return "";
        evict_locked(least_recent_locked(largest->first), EvictionReason::table_full, now);
    }
    std::string id = random_session_id();
    sessions_.emplace(id, Entry{std::move(session), identity});
    per_identity_[identity].push_back(id);
    return id;
}

std::shared_ptr<Session> SessionTable::find(const std::string& id, const std::string& fingerprint) {
    std::shared_ptr<Session> session;
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return nullptr;
        session = it->second.session;
    }
    const int64_t now = now_ms();
    if (now - session->last_used_ms.load(std::memory_order_relaxed) > limits_.idle_timeout.count()) return nullptr;
    // A session belongs to the certificate that opened it: another client cannot ride on it.
    if (session->client_fingerprint() != fingerprint) return nullptr;
    session->last_used_ms.store(now, std::memory_order_relaxed);
    return session;
}

bool SessionTable::end(const std::string& id, const std::string& fingerprint) {
    std::shared_ptr<Session> session;
    {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || it->second.session->client_fingerprint() != fingerprint) return false;
        session = it->second.session;
        forget_locked(it);
    }
    session->close();
    return true;
}

SessionTable::Census SessionTable::census(size_t top) const {
    Census census;
    std::shared_lock<std::shared_mutex> lock(mutex_);
    std::vector<std::pair<std::string, size_t>> holders;
    holders.reserve(per_identity_.size());
    for (const auto& [identity, ids] : per_identity_) holders.emplace_back(identity, ids.size());
    const size_t named = std::min(top, holders.size());
    std::partial_sort(holders.begin(), holders.begin() + static_cast<std::ptrdiff_t>(named), holders.end(),
                      [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    size_t others = 0;
    for (size_t i = named; i < holders.size(); ++i) others += holders[i].second;
    holders.resize(named);
    if (others) holders.emplace_back("other", others);
    census.by_client = std::move(holders);
    for (size_t i = 0; i < evictions_.size(); ++i) census.evicted[i] = evictions_[i].total;
    return census;
}

void SessionTable::expire_idle_locked(int64_t now) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        auto next = std::next(it);
        if (now - it->second.session->last_used_ms.load(std::memory_order_relaxed) > limits_.idle_timeout.count())
            evict_locked(it, EvictionReason::idle_timeout, now);
        it = next;
    }
    last_sweep_ms_ = now;
}

SessionTable::Sessions::iterator SessionTable::least_recent_locked(const std::string& identity) {
    auto oldest = sessions_.end();
    auto held = per_identity_.find(identity);
    if (held == per_identity_.end()) return oldest;
    for (const auto& id : held->second) {
        auto it = sessions_.find(id);
        if (oldest == sessions_.end() || it->second.session->last_used_ms < oldest->second.session->last_used_ms) oldest = it;
    }
    return oldest;
}

void SessionTable::evict_locked(Sessions::iterator it, EvictionReason reason, int64_t now) {
    if (it == sessions_.end()) return;
    const std::string identity = it->second.identity;
    it->second.session->close();
    forget_locked(it);
    EvictionLog& log = evictions_[static_cast<size_t>(reason)];
    ++log.total;
    ++log.unlogged;
    if (now - log.last_line_ms < kEvictionLogIntervalMs && log.last_line_ms != 0) return;
    log_event(spdlog::level::info, "sessions_evicted",
              {{"reason", eviction_reason_name(reason)}, {"count", log.unlogged}, {"last_client", identity},
               {"sessions_open", sessions_.size()}});
    log.unlogged = 0;
    log.last_line_ms = now;
}

void SessionTable::forget_locked(Sessions::iterator it) {
    auto held = per_identity_.find(it->second.identity);
    if (held != per_identity_.end()) {
        auto& ids = held->second;
        ids.erase(std::find(ids.begin(), ids.end(), it->first));
        if (ids.empty()) per_identity_.erase(held);
    }
    sessions_.erase(it);
}

}  // namespace mcpmtls::mcp
