#pragma once
// How a server judges the certificate chain a client presents: a decision from the credential
// snapshot current at the handshake and the chain alone, kept apart from logging it and from
// attaching the identity to the connection (the handshake callback does both with the verdict).
#include "tls/credential_snapshot.hpp"
#include "tls/peer_identity.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <memory>
#include <openssl/x509.h>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::tls {

// What to do while the CRL is past its nextUpdate (or a --crl-url CRL has not arrived yet).
enum class StaleCrl {
    fail_closed,  // refuse every new handshake until a fresh CRL is in
    fail_open,    // judge clients without the stale CRL, with a WARNING when it goes stale
};

struct ClientPolicy {
    // Demos only: accept a chain whose only failures are ones --relaxed may skip (unknown or
    // self-signed issuer, expiry), naming them in the verdict.
    bool relaxed = false;
    // Identity patterns (PeerIdentity::matches) and SPIFFE trust domains ("prod.acme"): a
    // client matching any of them is admitted; none of either: any verified client.
    std::vector<std::string> allowed_clients;
    std::vector<std::string> allowed_trust_domains;
    StaleCrl stale_crl = StaleCrl::fail_closed;

    struct Refusal {
        std::string code;     // short and from a fixed set, for metrics: "not_allowed", "multiple_uri_sans"
        std::string message;  // for the log
    };
    // Why this verified identity may not connect, if it may not. With a SPIFFE rule in force
    // (--allow-trust-domain, or an --allow-client spiffe:// ID) a certificate with more than one
    // URI SAN is no X.509-SVID and is refused, whatever else it matches.
    std::optional<Refusal> refusal(const PeerIdentity& identity) const;
    bool spiffe_rules() const;
};

struct ClientVerdict {
    enum class Outcome { accepted, accepted_relaxed, rejected };
    Outcome outcome = Outcome::rejected;
    bool from_cache = false;
    std::shared_ptr<const PeerIdentity> identity;  // null when no certificate could be read
    std::string reason;                            // why rejected; when relaxed, what was accepted despite
    // The reason from a fixed set, for metrics: "verified", "relaxed", a verifier check name
    // ("issuer", "expiry", "revocation", ...), "not_allowed", "multiple_uri_sans", "crl_stale".
    std::string reason_code;
    bool accepted() const { return outcome != Outcome::rejected; }
};

// `leaf` and `presented` as OpenSSL received them (the leaf may be listed in `presented` too).
ClientVerdict judge_client(X509* leaf, STACK_OF(X509)* presented, const CredentialSnapshot& snapshot,
                           const ClientPolicy& policy, std::chrono::system_clock::time_point now);

// One tls_handshake event: INFO when accepted (DEBUG for a cached verdict), WARNING when
// accepted in relaxed mode or rejected.
void log_client_verdict(const ClientVerdict& verdict, const std::string& peer_address);
// That event's fields: the peer, what its certificate says, the verdict and why.
nlohmann::json client_verdict_fields(const ClientVerdict& verdict, const std::string& peer_address);

}  // namespace mcpmtls::tls
