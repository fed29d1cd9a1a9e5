#pragma once
// Per-client request rate limits: one token bucket per client identity. A client over its rate
// gets told how long to wait (HTTP 429 with Retry-After) instead of starving the others.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mcpmtls::mcp {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // `per_second` tokens refill each second up to `burst`; per_second <= 0 disables limiting.
    // At most `max_tracked` identities are remembered; full buckets are forgotten first.
    RateLimiter(double per_second, double burst, size_t max_tracked = 100000);

    struct Decision {
        bool allowed = true;
        std::chrono::milliseconds retry_after{0};  // when refused: until one token is back
        bool first_refusal = false;                // the first refusal since the client was last allowed
    };
    Decision acquire(const std::string& identity, Clock::time_point now = Clock::now());

    bool enabled() const { return per_second_ > 0; }
    size_t tracked() const;

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
        bool refusing = false;
    };
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, Bucket> buckets;
    };
    void forget_full_buckets_locked(Shard& shard, Clock::time_point now);

    double per_second_;
    double burst_;
    size_t max_per_shard_;
    // Sharded so that many worker threads rarely wait on one another's clients.
    std::vector<Shard> shards_;
};

}  // namespace mcpmtls::mcp
