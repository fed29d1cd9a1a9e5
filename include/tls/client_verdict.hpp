#pragma once
// How a server judges the certificate chain a client presents: a decision from the credential
// snapshot current at the handshake and the chain alone, kept apart from logging it and from
// attaching the identity to the connection (the handshake callback does both with the verdict).
#include "tls/credential_snapshot.hpp"
#include "tls/peer_identity.hpp"

#include <chrono>
#include <memory>
#include <openssl/x509.h>
#include <string>
#include <vector>

namespace mcpmtls::tls {

struct ClientPolicy {
    // Demos only: accept a chain whose only failures are ones --relaxed may skip (unknown or
    // self-signed issuer, expiry), naming them in the verdict.
    bool relaxed = false;
    // Identity patterns (PeerIdentity::matches); empty: any verified client.
    std::vector<std::string> allowed_clients;
    bool allows(const PeerIdentity& identity) const;
};

struct ClientVerdict {
    enum class Outcome { accepted, accepted_relaxed, rejected };
    Outcome outcome = Outcome::rejected;
    bool from_cache = false;
    std::shared_ptr<const PeerIdentity> identity;  // null when no certificate could be read
    std::string reason;                            // why rejected; when relaxed, what was accepted despite
    bool accepted() const { return outcome != Outcome::rejected; }
};

// `leaf` and `presented` as OpenSSL received them (the leaf may be listed in `presented` too).
ClientVerdict judge_client(X509* leaf, STACK_OF(X509)* presented, const CredentialSnapshot& snapshot,
                           const ClientPolicy& policy, std::chrono::system_clock::time_point now);

// One tls_handshake event: INFO when accepted (DEBUG for a cached verdict), WARNING when
// accepted in relaxed mode or rejected.
void log_client_verdict(const ClientVerdict& verdict, const std::string& peer_address);

}  // namespace mcpmtls::tls
