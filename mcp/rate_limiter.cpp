#include "mcp/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace mcpmtls::mcp {
namespace {
constexpr size_t kShards = 16;
}

RateLimiter::RateLimiter(double per_second, double burst, size_t max_tracked)
    : per_second_(per_second),
      burst_(std::max(1.0, burst)),
      max_per_shard_(std::max<size_t>(1, max_tracked / kShards)),
      shards_(kShards) {}

size_t RateLimiter::tracked() const {
    size_t total = 0;
    for (const auto& shard : shards_) {
        std::lock_guard<std::mutex> lock(shard.mutex);
        total += shard.buckets.size();
    }
    return total;
}

void RateLimiter::forget_full_buckets_locked(Shard& shard, Clock::time_point now) {
    // A bucket that has refilled to the burst is indistinguishable from a new one.
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
        const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
        if (it->second.tokens + elapsed * per_second_ >= burst_) it = shard.buckets.erase(it);
        else ++it;
    }
}

RateLimiter::Decision RateLimiter::acquire(const std::string& identity, Clock::time_point now) {
    Decision decision;
    if (!enabled()) return decision;
    Shard& shard = shards_[std::hash<std::string>{}(identity) % shards_.size()];
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.buckets.find(identity);
    if (it == shard.buckets.end()) {
        if (shard.buckets.size() >= max_per_shard_) forget_full_buckets_locked(shard, now);
        // Still full of clients that are all mid-burst: admit without tracking rather than
        // refusing a newcomer for others' traffic.
        if (shard.buckets.size() >= max_per_shard_) return decision;
        it = shard.buckets.emplace(identity, Bucket{burst_, now, false}).first;
    }
    Bucket& bucket = it->second;
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
    bucket.updated = now;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        bucket.refusing = false;
        return decision;
    }
    decision.allowed = false;
    decision.retry_after = std::chrono::milliseconds(
        static_cast<long long>(std::ceil((1.0 - bucket.tokens) / per_second_ * 1000.0)));
    decision.first_refusal = !bucket.refusing;
    bucket.refusing = true;
    return decision;
}

}  // namespace mcpmtls::mcp
