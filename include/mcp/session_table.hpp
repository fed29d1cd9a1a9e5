#pragma once
// The 2025-era MCP sessions a server holds, and the limits that keep one client from taking them
// all. A session costs memory until the client ends it with DELETE; a client that crashes in a
// loop, or a script, never does. So each client identity has a cap: at its cap, a new session
// ends that identity's least recently used one (which then answers 404, as an expired session
// does) instead of being refused, and another identity's sessions are never touched for it.
// When the whole table is full, the identity holding the most sessions gives up its least
// recently used one to an identity holding fewer; only a table shared evenly by many
// identities answers 503. Idle sessions expire after the idle timeout.
//
// Identities are the certificate's name (as the rate limiter keys them), so a client that
// rotates its certificate keeps its count; a session itself stays bound to the certificate
// fingerprint that opened it (with an OAuth token, and to its subject: mcp/oauth.hpp owner_key).
// Thread-safe.
#include "mcp/session.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcpmtls::mcp {

struct SessionLimits {
    size_t max_sessions = 10000;                    // the whole table
    size_t max_sessions_per_client = 100;           // one identity
    std::chrono::milliseconds idle_timeout{1800 * 1000};
};

// Why a session was ended by the server rather than by its client.
enum class EvictionReason { idle_timeout, client_cap, table_full };
const char* eviction_reason_name(EvictionReason reason);

class SessionTable {
public:
    explicit SessionTable(SessionLimits limits);
    ~SessionTable();  // closes every session
    // Closes every session (running calls are cancelled) and forgets them.
    void close_all();
    SessionTable(const SessionTable&) = delete;
    SessionTable& operator=(const SessionTable&) = delete;

    // Adds `session`, owned by `identity`, making room as the header says; returns its new id,
    // or "" when the table is full of sessions of identities holding no more than this one (503).
    std::string open(std::shared_ptr<Session> session, const std::string& identity);
    // The session `id` if it exists, has not been idle too long and was opened by the certificate
    // `fingerprint`; marks it used. Null otherwise.
    std::shared_ptr<Session> find(const std::string& id, const std::string& fingerprint);
    // DELETE: removes and closes the session `id` if `fingerprint` opened it.
    bool end(const std::string& id, const std::string& fingerprint);
    // Every open session for which `wanted` is true.
    template <typename Predicate>
    std::vector<std::shared_ptr<Session>> select(Predicate wanted) const {
        std::vector<std::shared_ptr<Session>> out;
        std::shared_lock<std::shared_mutex> lock(mutex_);
        for (const auto& [id, entry] : sessions_)
            if (wanted(*entry.session)) out.push_back(entry.session);
        return out;
    }
    size_t size() const;

    // For metrics: sessions per identity, the `top` largest holders by name and the rest summed
    // as "other" (identities are clients' names: unbounded as labels), and evictions so far.
    struct Census {
        std::vector<std::pair<std::string, size_t>> by_client;
        std::array<uint64_t, 3> evicted{};  // indexed by EvictionReason
    };
    Census census(size_t top = 10) const;

private:
    struct Entry {
        std::shared_ptr<Session> session;
        std::string identity;
    };
    using Sessions = std::unordered_map<std::string, Entry>;

    void expire_idle_locked(int64_t now_ms);
    // The least recently used session of `identity`, or end() when it holds none.
    Sessions::iterator least_recent_locked(const std::string& identity);
    void evict_locked(Sessions::iterator it, EvictionReason reason, int64_t now_ms);
    void forget_locked(Sessions::iterator it);

    const SessionLimits limits_;
    mutable std::shared_mutex mutex_;
    Sessions sessions_;
    std::unordered_map<std::string, std::vector<std::string>> per_identity_;  // each identity's session ids
    int64_t last_sweep_ms_ = 0;
    // Evictions come in bursts (a flood, a sweep): one log line per reason per interval, carrying
    // the count since the previous line; the metric counts every one.
    struct EvictionLog {
        uint64_t total = 0;
        uint64_t unlogged = 0;
        int64_t last_line_ms = 0;
    };
    std::array<EvictionLog, 3> evictions_{};
};

}  // namespace mcpmtls::mcp
