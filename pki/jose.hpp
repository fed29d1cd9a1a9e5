#pragma once
// JOSE, as much as this project needs: compact JWS (RFC 7515) signed with ES256, RS256 or EdDSA
// (Ed25519), public keys from JWKs (RFC 7517, 8037) or PEM, and RFC 8705's certificate thumbprint.
// Two users: enrollment tokens (pki/ca/enrollment_token.*, ES256 both ways) and the OAuth access
// tokens that servers check (mcp/oauth). Botan stays behind this header. What a verified token
// means (issuer, audience, lifetime) is each caller's business; this module only says who signed.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::pki {

class PrivateKey;

std::string base64url_encode(const uint8_t* data, size_t size);
std::string base64url_encode(const std::string& bytes);
// Strict (RFC 7515 section 2): only the URL-safe alphabet, no padding. Throws std::invalid_argument.
std::vector<uint8_t> base64url_decode(const std::string& text);

// A compact JWS taken apart, its signature not yet checked.
struct CompactJws {
    nlohmann::json header;      // a JSON object
    nlohmann::json claims;      // a JSON object
    std::string signing_input;  // BASE64URL(header) "." BASE64URL(payload), as received
    std::vector<uint8_t> signature;
    std::string algorithm() const;  // header "alg", empty when absent or not a string
    std::string key_id() const;     // header "kid", empty when absent or not a string
};
// Throws std::invalid_argument with the reason (too long, not three parts, not base64url JSON
// objects, a "crit" header: no extension is understood here, so none may be required).
CompactJws parse_compact_jws(const std::string& token, size_t max_size = 16384);

// One public key that verifies JWS signatures of one algorithm. Copies share the key.
class JwsPublicKey {
public:
    // From a JWK: kty EC with crv P-256 (ES256), kty RSA of 2048 bits or more (RS256), kty OKP
    // with crv Ed25519 (EdDSA). A JWK's own "alg", when given, must agree; "use", when given, must
    // be "sig". Throws std::invalid_argument naming what is wrong.
    static JwsPublicKey from_jwk(const nlohmann::json& jwk);
    // From a PEM SubjectPublicKeyInfo of one of the same key types; `kid` may be empty.
    static JwsPublicKey from_pem(const std::string& pem, const std::string& kid = "");

    const std::string& key_id() const;
    const std::string& algorithm() const;  // "ES256", "RS256" or "EdDSA"
    bool is_p256() const;
    // True when the JWS names this key's algorithm and its signature verifies. The algorithm is
    // the key's, never the token's choice: "none", HS256 and mismatches are false.
    bool verify(const CompactJws& jws) const;

    struct Impl;

private:
    explicit JwsPublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// A compact JWS of `claims` signed with an ECDSA P-256 key; `header` gets "alg": "ES256".
// Throws InputError when the key is not P-256.
std::string sign_es256(const PrivateKey& key, nlohmann::json header, const nlohmann::json& claims);

// base64url(SHA-256(der)): RFC 8705's "x5t#S256" of a DER certificate.
std::string certificate_thumbprint_s256(const std::vector<uint8_t>& der);

}  // namespace mcpmtls::pki
