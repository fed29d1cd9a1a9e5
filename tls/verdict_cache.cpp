#include "tls/verdict_cache.hpp"

namespace mcpmtls::tls {

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
