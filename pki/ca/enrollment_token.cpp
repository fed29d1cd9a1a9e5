#include "pki/ca/enrollment_token.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/ca_signing.hpp"
#include "pki/ca/online_ca.hpp"
#include "pki/names.hpp"

#include <botan/base64.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdlib>
#include <optional>

namespace mcpmtls::pki {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

// JOSE's ES256: ECDSA P-256 with SHA-256, the signature as r || s (32 bytes each), not DER.
constexpr const char* kEmsa = "EMSA1(SHA-256)";

std::string base64url(const uint8_t* data, size_t size) {
    std::string text = Botan::base64_encode(data, size);
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char& c : text) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return text;
}

std::string base64url(const std::string& text) { return base64url(reinterpret_cast<const uint8_t*>(text.data()), text.size()); }

// Strict: only the URL-safe alphabet, no padding (RFC 7515 section 2).
std::vector<uint8_t> base64url_decode(const std::string& text) {
    std::string standard = text;
    for (char& c : standard) {
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
        else if (c == '+' || c == '/' || c == '=' || !std::isalnum(static_cast<unsigned char>(c)))
            throw std::invalid_argument("not base64url");
    }
    if (standard.size() % 4 == 1) throw std::invalid_argument("not base64url");
    while (standard.size() % 4 != 0) standard.push_back('=');
    const auto bytes = Botan::base64_decode(standard);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

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

bool is_p256(const Botan::Public_Key& key) {
    const auto* ec = dynamic_cast<const Botan::ECDSA_PublicKey*>(&key);
    return ec && ec->domain().get_curve_oid() == Botan::OID::from_string("secp256r1");
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
    if (!is_p256(*key.impl().key)) throw InputError("the provisioner key must be an ECDSA P-256 key (ES256)");
    const json header = {{"alg", "ES256"}, {"typ", "JWT"}};
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
    const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    Botan::System_RNG rng;
    Botan::PK_Signer signer(*key.impl().key, rng, kEmsa, Botan::IEEE_1363);
    const auto signature = signer.sign_message(reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size(), rng);
    return signing_input + "." + base64url(signature.data(), signature.size());
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
    std::unique_ptr<Botan::Public_Key> key;
};

EnrollmentTokenVerifier::EnrollmentTokenVerifier(const std::string& public_key_pem) : impl_(std::make_unique<Impl>()) {
    try {
        Botan::DataSource_Memory source(public_key_pem);
        impl_->key.reset(Botan::X509::load_key(source));
    } catch (const std::exception& e) {
        throw InputError("the provisioner public key does not parse (" + std::string(e.what()) + ")");
    }
    if (!impl_->key || !is_p256(*impl_->key)) throw InputError("the provisioner public key is not an ECDSA P-256 key");
}

EnrollmentTokenVerifier::~EnrollmentTokenVerifier() = default;
EnrollmentTokenVerifier::EnrollmentTokenVerifier(EnrollmentTokenVerifier&&) noexcept = default;
EnrollmentTokenVerifier& EnrollmentTokenVerifier::operator=(EnrollmentTokenVerifier&&) noexcept = default;

EnrollmentGrant EnrollmentTokenVerifier::verify(const std::string& token, system_clock::time_point now) const {
    if (token.size() > 8192) throw invalid("longer than any token pki token makes");
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
        throw invalid("not a compact JWS (three base64url parts separated by dots)");
    json header, claims;
    std::vector<uint8_t> signature;
    try {
        const auto header_bytes = base64url_decode(token.substr(0, first));
        const auto claim_bytes = base64url_decode(token.substr(first + 1, second - first - 1));
        signature = base64url_decode(token.substr(second + 1));
        header = json::parse(header_bytes.begin(), header_bytes.end());
        claims = json::parse(claim_bytes.begin(), claim_bytes.end());
    } catch (const std::exception&) {
        throw invalid("not a compact JWS (its parts are not base64url JSON)");
    }
    if (!header.is_object() || !claims.is_object()) throw invalid("its header or claims are not JSON objects");
    // The algorithm is ours to choose, not the token's: "none", HS256 and the rest are refused.
    if (!header.contains("alg") || header.at("alg") != "ES256") throw invalid("alg must be ES256");
    if (header.contains("crit")) throw invalid("critical header parameters are not supported");
    if (signature.size() != 64) throw invalid("an ES256 signature is 64 bytes (r || s)");
    Botan::PK_Verifier verifier(*impl_->key, kEmsa, Botan::IEEE_1363);
    const std::string signing_input = token.substr(0, second);
    if (!verifier.verify_message(reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size(),
                                 signature.data(), signature.size()))
        throw invalid("not signed by this CA's provisioner key");

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
