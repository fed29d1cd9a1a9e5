#pragma once
// One-time enrollment tokens (docs/enrollment.md "Tokens"): a compact JWS, ES256, signed by the
// provisioner key DIR/provisioner.key (never the CA key), granting one certificate: a NAME, a
// kind, names and a longest lifetime, until a short expiry. The CA records each token's id
// (jti) in DIR/tokens-used.json when it issues, so a second use is refused.
#include "pki/ca/authority.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace mcpmtls::pki {

constexpr const char* kTokenIssuer = "mcp-mtls-pki";
constexpr const char* kTokenAudience = "mcp-mtls-enroll";
// Clocks of the CA host and of the machine that made the token differ a little.
constexpr auto kTokenClockSkew = std::chrono::seconds(60);

// What a token grants, and when.
struct EnrollmentGrant {
    std::string jti;                      // 128 random bits, hex
    std::string subject;                  // the certificate's NAME (sub)
    LeafKind kind = LeafKind::client;
    SubjectAltNames names;                // dns, ip, uri
    std::chrono::seconds max_ttl{0};      // the longest certificate lifetime granted
    std::chrono::system_clock::time_point issued_at, not_before, expires_at;
};

struct TokenRequest {
    LeafKind kind = LeafKind::client;
    std::string name;
    SubjectAltNames names;  // --dns, --ip, --uri (a server with none: localhost, 127.0.0.1)
    std::chrono::seconds max_ttl = std::chrono::hours(24);     // --ttl
    std::chrono::seconds token_ttl = std::chrono::minutes(15);  // --token-ttl
};

struct IssuedToken {
    std::string token;  // the compact JWS
    EnrollmentGrant grant;
    bool provisioner_created = false;  // this call made provisioner.key and provisioner.pub
};

// pki token: checks the request (InputError), creates the provisioner key pair under the
// directory lock when DIR has none (provisioner.key 0600, encrypted with `passphrase` when one
// is given; provisioner.pub), and signs a token. Writes no token anywhere.
IssuedToken create_enrollment_token(const CaDirectory& dir, const TokenRequest& request, const std::string& passphrase);

// pki serve at start: makes the provisioner key pair as the first pki token would, when DIR has
// none yet (so that serve can start before any token was made). True when it made one.
bool ensure_provisioner_key(const CaDirectory& dir, const std::string& passphrase);
// The JWS itself, for a grant already checked: `key` must be an ECDSA P-256 key.
std::string sign_enrollment_token(const PrivateKey& key, const EnrollmentGrant& grant);

// Verifies tokens against one provisioner public key (PEM SubjectPublicKeyInfo, P-256).
class EnrollmentTokenVerifier {
public:
    // InputError when the PEM is not an ECDSA P-256 public key.
    explicit EnrollmentTokenVerifier(const std::string& public_key_pem);
    ~EnrollmentTokenVerifier();
    EnrollmentTokenVerifier(EnrollmentTokenVerifier&&) noexcept;
    EnrollmentTokenVerifier& operator=(EnrollmentTokenVerifier&&) noexcept;

    // The grant of a well-formed token that this key signed, with alg ES256, iss and aud ours,
    // a kind of server or client, and `now` within [nbf, exp] give or take kTokenClockSkew.
    // Throws OnlineCaRefusal: token_invalid (401) or token_expired (401). Whether it was used
    // before is the ledger's question (below), asked under the directory lock.
    EnrollmentGrant verify(const std::string& token, std::chrono::system_clock::time_point now) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// The used-token ledger, DIR/tokens-used.json (jti -> expiry). The caller holds the directory
// lock around a check and the record that follows it.
bool token_was_used(const CaDirectory& dir, const std::string& jti);
// Adds `jti` and drops the entries whose token expired more than kTokenClockSkew ago (they can
// no longer be presented). Atomic.
void record_used_token(const CaDirectory& dir, const std::string& jti, std::chrono::system_clock::time_point expires_at);

// The provisioner's passphrase: --passphrase-file F (first line), else PKI_PROVISIONER_PASSPHRASE.
std::string provisioner_passphrase_from(const std::string& passphrase_file);

}  // namespace mcpmtls::pki
