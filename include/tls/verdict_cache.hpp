#pragma once
// Remembers which client chains the verifier accepted, so a client that reconnects does not
// cost a full Botan path validation (about 1 ms) per handshake. Exactness is kept by
// construction: one cache per trust generation (a new trust bundle or CRL starts an empty
// cache), and an entry never outlives the earliest notAfter in its chain or the CRL's
// nextUpdate. Only full acceptances are cached; rejections are always re-judged.
//
// Single flight: when many clients present the same chain at once (a fleet reconnecting after
// a restart), one handshake verifies it and the others wait for its result instead of each
// running the same path validation.
#include "tls/peer_identity.hpp"

#include <array>
#include <cstring>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace mcpmtls::tls {

using ChainDigest = std::array<uint8_t, 32>;

class VerdictCache {
public:
    explicit VerdictCache(size_t capacity = 10000) : capacity_(capacity) {}

    // The identity verified for this chain, if cached and not expired at `now`.
    std::shared_ptr<const PeerIdentity> find(const ChainDigest& chain, std::chrono::system_clock::time_point now);
    void remember(const ChainDigest& chain, std::shared_ptr<const PeerIdentity> identity,
                  std::chrono::system_clock::time_point expires);

    // What a verification found: the identity of a fully valid chain and until when that
    // holds, or no identity (not cacheable: each caller then judges the chain itself).
    struct Verified {
        std::shared_ptr<const PeerIdentity> identity;
        std::chrono::system_clock::time_point expires;
    };
    // The cached identity for `chain`, else the one `verify` finds, with at most one `verify`
    // running per chain at a time: concurrent callers for the same chain wait for it. Null when
    // the chain is not fully valid. `verify` must not throw.
    std::shared_ptr<const PeerIdentity> find_or_verify(const ChainDigest& chain, std::chrono::system_clock::time_point now,
                                                       const std::function<Verified()>& verify);
    size_t size() const;

private:
    struct DigestHash {
        size_t operator()(const ChainDigest& d) const noexcept {
            size_t h;
            static_assert(sizeof h <= sizeof(ChainDigest), "digest too short");
            std::memcpy(&h, d.data(), sizeof h);  // already uniformly distributed
            return h;
        }
    };
    struct Entry {
        std::shared_ptr<const PeerIdentity> identity;
        std::chrono::system_clock::time_point expires;
        std::list<ChainDigest>::iterator lru;
    };

    struct Flight;  // a verification in progress, which later callers wait for

    size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<ChainDigest, std::shared_ptr<Flight>, DigestHash> flights_;
    std::list<ChainDigest> lru_;  // most recent first
    std::unordered_map<ChainDigest, Entry, DigestHash> entries_;
};

}  // namespace mcpmtls::tls
