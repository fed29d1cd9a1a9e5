#include "tls/verdict_cache.hpp"

#include <condition_variable>

namespace mcpmtls::tls {

struct VerdictCache::Flight {
    std::condition_variable done_cv;
    bool done = false;
    std::shared_ptr<const PeerIdentity> identity;
};

std::shared_ptr<const PeerIdentity> VerdictCache::find_or_verify(const ChainDigest& chain,
                                                                 std::chrono::system_clock::time_point now,
                                                                 const std::function<Verified()>& verify) {
    std::shared_ptr<Flight> flight;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto it = entries_.find(chain); it != entries_.end() && now < it->second.expires) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.identity;
        }
        if (auto it = flights_.find(chain); it != flights_.end()) {
            flight = it->second;  // another handshake is verifying this chain: wait for it
            flight->done_cv.wait(lock, [&] { return flight->done; });
            return flight->identity;
        }
        flight = std::make_shared<Flight>();
        flights_.emplace(chain, flight);
    }
    const Verified verified = verify();
    if (verified.identity) remember(chain, verified.identity, verified.expires);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        flight->identity = verified.identity;
        flight->done = true;
        flights_.erase(chain);
    }
    flight->done_cv.notify_all();
    return verified.identity;
}

std::shared_ptr<const PeerIdentity> VerdictCache::find(const ChainDigest& chain, std::chrono::system_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(chain);
    if (it == entries_.end()) return nullptr;
    if (now >= it->second.expires) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.identity;
}

void VerdictCache::remember(const ChainDigest& chain, std::shared_ptr<const PeerIdentity> identity,
                            std::chrono::system_clock::time_point expires) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(chain);
    if (it != entries_.end()) {
        it->second.identity = std::move(identity);
        it->second.expires = expires;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return;
    }
    while (entries_.size() >= capacity_ && !lru_.empty()) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(chain);
    entries_.emplace(chain, Entry{std::move(identity), expires, lru_.begin()});
}

size_t VerdictCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

}  // namespace mcpmtls::tls
