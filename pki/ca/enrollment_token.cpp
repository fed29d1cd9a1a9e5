#include "pki/ca/enrollment_token.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/ca_signing.hpp"
#include "pki/ca/online_ca.hpp"
#include "pki/jose.hpp"
#include "pki/names.hpp"

#include <botan/system_rng.h>
#include <botan/x509_key.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>

namespace mcpmtls::pki {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

long epoch_seconds(system_clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

system_clock::time_point from_epoch(long seconds) { return system_clock::time_point(std::chrono::seconds(seconds)); }

std::string random_jti() {
    Botan::System_RNG rng;
    uint8_t bytes[16];
    rng.randomize(bytes, sizeof bytes);
    return to_hex(bytes, sizeof bytes);
}

OnlineCaRefusal invalid(const std::string& why) { return OnlineCaRefusal("token_invalid", 401, "enrollment token refused: " + why); }

std::vector<std::string> string_array(const json& claims, const char* key) {
    if (!claims.contains(key)) return {};
    const auto& value = claims.at(key);
    if (!value.is_array()) throw invalid(std::string("claim '") + key + "' is not an array");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (!item.is_string()) throw invalid(std::string("claim '") + key + "' holds a non-string");
        out.push_back(item.get<std::string>());
    }
    return out;
}

long number_claim(const json& claims, const char* key) {
    if (!claims.contains(key) || !claims.at(key).is_number_integer())
        throw invalid(std::string("claim '") + key + "' is missing or not a whole number");
    return claims.at(key).get<long>();
}

std::string string_claim(const json& claims, const char* key) {
    if (!claims.contains(key) || !claims.at(key).is_string()) throw invalid(std::string("claim '") + key + "' is missing or not a string");
    return claims.at(key).get<std::string>();
}

}  // namespace

std::string provisioner_passphrase_from(const std::string& passphrase_file) {
    return passphrase_from(passphrase_file, "PKI_PROVISIONER_PASSPHRASE");
}

std::string sign_enrollment_token(const PrivateKey& key, const EnrollmentGrant& grant) {
    json claims = {{"iss", kTokenIssuer},
                   {"aud", kTokenAudience},
                   {"jti", grant.jti},
                   {"iat", epoch_seconds(grant.issued_at)},
                   {"nbf", epoch_seconds(grant.not_before)},
                   {"exp", epoch_seconds(grant.expires_at)},
                   {"sub", grant.subject},
                   {"kind", leaf_kind_name(grant.kind)},
                   {"max_ttl", static_cast<long>(grant.max_ttl.count())}};
    if (!grant.names.dns.empty()) claims["dns"] = grant.names.dns;
    if (!grant.names.ips.empty()) claims["ip"] = grant.names.ips;
    if (!grant.names.uris.empty()) claims["uri"] = grant.names.uris;
    try {
        return sign_es256(key, {{"typ", "JWT"}}, claims);
    } catch (const InputError&) {
        throw InputError("the provisioner key must be an ECDSA P-256 key (ES256)");
    }
}

namespace {

// The provisioner key of DIR, made (provisioner.key 0600, then provisioner.pub) when it has none.
PrivateKey provisioner_key(const CaDirectory& dir, const std::string& passphrase, bool* created) {
    FileLock lock(dir.lock());
    if (file_exists(dir.provisioner_key())) {
        const std::string pem = read_file(dir.provisioner_key());
        if (is_encrypted_key_pem(pem) && passphrase.empty())
            throw InputError(dir.provisioner_key() + " is encrypted: set PKI_PROVISIONER_PASSPHRASE or use --passphrase-file");
        PrivateKey key = PrivateKey::from_pem(pem, passphrase, dir.provisioner_key());
        if (!file_exists(dir.provisioner_pub()))
            throw InputError(dir.provisioner_pub() + " is missing beside " + dir.provisioner_key() + "; pki serve verifies tokens with it");
        return key;
    }
    if (file_exists(dir.provisioner_pub()))
        throw InputError(dir.provisioner_pub() + " exists without " + dir.provisioner_key() + "; remove it to make a new pair");
    PrivateKey key = PrivateKey::generate(KeyType::ecdsa_p256);
    // The key first: a public key without its private half would make serve accept tokens
    // nobody can sign.
    write_key_file(dir.provisioner_key(), key, passphrase);
    write_file_atomic(dir.provisioner_pub(), Botan::X509::PEM_encode(*key.impl().key), 0644);
    if (created) *created = true;
    return key;
}

}  // namespace

bool ensure_provisioner_key(const CaDirectory& dir, const std::string& passphrase) {
    if (file_exists(dir.provisioner_pub())) return false;
    if (!file_exists(dir.ca_cert())) throw InputError("no CA in " + dir.dir() + " (run: pki init)");
    bool created = false;
    (void)provisioner_key(dir, passphrase, &created);
    return created;
}

IssuedToken create_enrollment_token(const CaDirectory& dir, const TokenRequest& request, const std::string& passphrase) {
    validate_certificate_name(request.name);
    if (request.names.emails.size()) throw InputError("a token grants --dns, --ip and --uri names only");
    check_lifetime(request.max_ttl);
    if (request.token_ttl < std::chrono::seconds(1) || request.token_ttl > std::chrono::hours(24 * 30))
        throw InputError("--token-ttl must be between 1 second and 30 days");
    if (!file_exists(dir.ca_cert())) throw InputError("no CA in " + dir.dir() + " (run: pki init)");

    IssuedToken result;
    EnrollmentGrant& grant = result.grant;
    grant.subject = request.name;
    grant.kind = request.kind;
    grant.names = checked_sans(request.kind, request.names);
    grant.max_ttl = request.max_ttl;

    std::optional<PrivateKey> key = provisioner_key(dir, passphrase, &result.provisioner_created);
    const auto now = system_clock::now();
    grant.jti = random_jti();
    grant.issued_at = now;
    grant.not_before = now;
    grant.expires_at = now + request.token_ttl;
    // A token the CA would refuse anyway is no use: check it with provisioner.pub as serve will.
    EnrollmentTokenVerifier verifier(read_file(dir.provisioner_pub()));
    result.token = sign_enrollment_token(*key, grant);
    verifier.verify(result.token, now);
    return result;
}

struct EnrollmentTokenVerifier::Impl {
    JwsPublicKey key;
};

EnrollmentTokenVerifier::EnrollmentTokenVerifier(const std::string& public_key_pem) {
    std::optional<JwsPublicKey> key;
    try {
        key = JwsPublicKey::from_pem(public_key_pem);
    } catch (const std::invalid_argument& e) {
        throw InputError("the provisioner public key: " + std::string(e.what()));
    }
    if (!key->is_p256()) throw InputError("the provisioner public key is not an ECDSA P-256 key");
    impl_ = std::make_unique<Impl>(Impl{*key});
}

EnrollmentTokenVerifier::~EnrollmentTokenVerifier() = default;
EnrollmentTokenVerifier::EnrollmentTokenVerifier(EnrollmentTokenVerifier&&) noexcept = default;
EnrollmentTokenVerifier& EnrollmentTokenVerifier::operator=(EnrollmentTokenVerifier&&) noexcept = default;

EnrollmentGrant EnrollmentTokenVerifier::verify(const std::string& token, system_clock::time_point now) const {
    if (token.size() > 8192) throw invalid("longer than any token pki token makes");
    CompactJws jws;
    try {
        jws = parse_compact_jws(token);
    } catch (const std::invalid_argument& e) {
        throw invalid(e.what());
    }
    // The algorithm is ours to choose, not the token's: "none", HS256 and the rest are refused.
    if (jws.algorithm() != "ES256") throw invalid("alg must be ES256");
    if (jws.signature.size() != 64) throw invalid("an ES256 signature is 64 bytes (r || s)");
    if (!impl_->key.verify(jws)) throw invalid("not signed by this CA's provisioner key");
    const json& claims = jws.claims;

    if (string_claim(claims, "iss") != kTokenIssuer) throw invalid(std::string("iss is not ") + kTokenIssuer);
    if (string_claim(claims, "aud") != kTokenAudience) throw invalid(std::string("aud is not ") + kTokenAudience);
    EnrollmentGrant grant;
    grant.jti = string_claim(claims, "jti");
    if (grant.jti.empty() || grant.jti.size() > 128) throw invalid("jti is empty or too long");
    grant.issued_at = from_epoch(number_claim(claims, "iat"));
    grant.not_before = from_epoch(number_claim(claims, "nbf"));
    grant.expires_at = from_epoch(number_claim(claims, "exp"));
    if (now > grant.expires_at + kTokenClockSkew)
        throw OnlineCaRefusal("token_expired", 401, "enrollment token expired at " + format_rfc3339(grant.expires_at) +
                                                        "; ask for a new one (pki token)");
    if (now + kTokenClockSkew < grant.not_before)
        throw OnlineCaRefusal("token_expired", 401, "enrollment token is not valid before " + format_rfc3339(grant.not_before) +
                                                        " (check the clocks)");
    grant.subject = string_claim(claims, "sub");
    try {
        validate_certificate_name(grant.subject);
    } catch (const Error&) {
        throw invalid("sub is not a certificate name");
    }
    const std::string kind = string_claim(claims, "kind");
    if (kind == "server") grant.kind = LeafKind::server;
    else if (kind == "client") grant.kind = LeafKind::client;
    else throw invalid("kind must be server or client");
    grant.names.dns = string_array(claims, "dns");
    grant.names.ips = string_array(claims, "ip");
    grant.names.uris = string_array(claims, "uri");
    const long max_ttl = number_claim(claims, "max_ttl");
    if (max_ttl < 60) throw invalid("max_ttl is below a minute");
    grant.max_ttl = std::chrono::seconds(max_ttl);
    return grant;
}

bool token_was_used(const CaDirectory& dir, const std::string& jti) {
    if (!file_exists(dir.used_tokens())) return false;
    try {
        return json::parse(read_file(dir.used_tokens())).contains(jti);
    } catch (const json::exception& e) {
        throw OperationError(dir.used_tokens() + " is corrupt (" + std::string(e.what()) + "); restore it from a backup");
    }
}

void record_used_token(const CaDirectory& dir, const std::string& jti, system_clock::time_point expires_at) {
    json ledger = json::object();
    if (file_exists(dir.used_tokens())) {
        try {
            ledger = json::parse(read_file(dir.used_tokens()));
        } catch (const json::exception& e) {
            throw OperationError(dir.used_tokens() + " is corrupt (" + std::string(e.what()) + "); restore it from a backup");
        }
    }
    const long horizon = epoch_seconds(system_clock::now() - kTokenClockSkew);
    json kept = json::object();
    for (const auto& [id, expiry] : ledger.items())
        if (!expiry.is_number_integer() || expiry.get<long>() >= horizon) kept[id] = expiry;
    kept[jti] = epoch_seconds(expires_at);
    write_file_atomic(dir.used_tokens(), kept.dump(1) + "\n", 0600);
}

}  // namespace mcpmtls::pki
