#pragma once
// What a server serves with at one moment: its certificate chain and key, the trust bundle and
// CRLs that judge clients, and the verdict cache of that trust. Immutable once built: a reload
// (or a CRL fetched from --crl-url) builds a new snapshot and swaps it in, and a handshake keeps
// the one it started with.
#include "pki/verify/verifier.hpp"
#include "tls/credentials.hpp"
#include "tls/verdict_cache.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mcpmtls::tls {

struct ServerFiles {
    std::string cert_path;
    std::string key_path;
    std::string ca_path;        // trust bundle for client certificates
    std::string crl_path;       // optional
    bool crl_optional = false;  // a missing crl_path means "no CRL yet" (the default certs/ca.crl)
    // Non-empty: a CRL fetched from this URL is required besides (the fetched CRL itself
    // arrives through ServerTlsContext::install_crl, not from a file).
    std::string crl_url;
    Pkcs11Options pkcs11;  // where a key_path of pkcs11:... is found
};

struct CredentialSnapshot {
    uint64_t generation = 0;        // every successful load
    uint64_t credentials_generation = 0;  // the load that read the certificate and key
    uint64_t trust_generation = 0;  // only when the trust bundle or a CRL's content changed
    std::string trust_digest;       // SHA-256 of bundle + CRL bytes
    KeyPair credentials;
    std::shared_ptr<const pki::TrustStore> trust;
    // The same anchors without any CRL: how clients are judged while a CRL is stale and the
    // server was told to fail open.
    std::shared_ptr<const pki::TrustStore> trust_without_crls;
    // Shared by snapshots of one trust generation; a trust or CRL change starts a new one.
    std::shared_ptr<VerdictCache> verdicts;

    // The inputs of the trust, kept so that a fetched CRL can be added without reading files.
    std::string bundle_text;
    std::string file_crl;     // the --crl file's bytes; empty without one
    std::string fetched_crl;  // the last CRL from crl_url; empty before the first
    std::string crl_url;

    // Why revocation cannot be checked at `now`, if it cannot: a CRL past its nextUpdate, or
    // the CRL from --crl-url not fetched yet.
    std::optional<std::string> revocation_problem(std::chrono::system_clock::time_point now) const;
};

// Reads and checks every file; throws InputError (KeyMismatch when the key does not belong to
// the certificate). With `previous`, an unchanged trust keeps its generation and verdict cache,
// and the fetched CRL carries over.
std::shared_ptr<const CredentialSnapshot> load_snapshot(const ServerFiles& files, uint64_t generation,
                                                        const CredentialSnapshot* previous);

// `current` with `crl` (DER or PEM, as fetched from files.crl_url) in place of its fetched
// CRL. Throws InputError when the CRL does not parse, is not signed by a trusted CA (or one of
// our chain), or is older than the one it would replace (a replayed CRL).
std::shared_ptr<const CredentialSnapshot> with_fetched_crl(const ServerFiles& files, const CredentialSnapshot& current,
                                                           const std::string& crl, uint64_t generation);

}  // namespace mcpmtls::tls
