#pragma once
// What a server serves with at one moment: its certificate chain and key, the trust bundle and
// CRLs that judge clients, and the verdict cache of that trust. Immutable once built: a reload
// builds a new snapshot and swaps it in, and a handshake keeps the one it started with.
#include "pki/verifier.hpp"
#include "tls/credentials.hpp"
#include "tls/verdict_cache.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace mcpmtls::tls {

struct ServerFiles {
    std::string cert_path;
    std::string key_path;
    std::string ca_path;        // trust bundle for client certificates
    std::string crl_path;       // optional
    bool crl_optional = false;  // a missing crl_path means "no CRL yet" (the default certs/ca.crl)
};

struct CredentialSnapshot {
    uint64_t generation = 0;        // every successful load
    uint64_t trust_generation = 0;  // only when the trust bundle or CRL content changed
    std::string trust_digest;       // SHA-256 of bundle + CRL bytes
    KeyPair credentials;
    std::shared_ptr<const pki::TrustStore> trust;
    // Shared by snapshots of one trust generation; a trust or CRL change starts a new one.
    std::shared_ptr<VerdictCache> verdicts;
};

// Reads and checks every file; throws InputError. With `previous`, an unchanged trust keeps its
// generation and verdict cache.
std::shared_ptr<const CredentialSnapshot> load_snapshot(const ServerFiles& files, uint64_t generation,
                                                        const CredentialSnapshot* previous);

}  // namespace mcpmtls::tls
