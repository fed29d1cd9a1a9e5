#include "pki/jose.hpp"

#include "common/error.hpp"
#include "pki/botan_access.hpp"

#include <botan/base64.h>
#include <botan/bigint.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>

#include <cctype>
#include <stdexcept>

namespace mcpmtls::pki {

using nlohmann::json;

std::string base64url_encode(const uint8_t* data, size_t size) {
    std::string text = Botan::base64_encode(data, size);
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char& c : text) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return text;
}

std::string base64url_encode(const std::string& bytes) {
    return base64url_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

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

namespace {

std::string string_member(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string CompactJws::algorithm() const { return string_member(header, "alg"); }
std::string CompactJws::key_id() const { return string_member(header, "kid"); }

CompactJws parse_compact_jws(const std::string& token, size_t max_size) {
    if (token.size() > max_size) throw std::invalid_argument("longer than " + std::to_string(max_size) + " bytes");
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
        throw std::invalid_argument("not a compact JWS (three base64url parts separated by dots)");
    CompactJws jws;
    try {
        const auto header_bytes = base64url_decode(token.substr(0, first));
        const auto claim_bytes = base64url_decode(token.substr(first + 1, second - first - 1));
        jws.signature = base64url_decode(token.substr(second + 1));
        jws.header = json::parse(header_bytes.begin(), header_bytes.end());
        jws.claims = json::parse(claim_bytes.begin(), claim_bytes.end());
    } catch (const std::exception&) {
        throw std::invalid_argument("not a compact JWS (its parts are not base64url JSON)");
    }
    if (!jws.header.is_object() || !jws.claims.is_object()) throw std::invalid_argument("its header or claims are not JSON objects");
    if (jws.header.contains("crit")) throw std::invalid_argument("critical header parameters are not supported");
    jws.signing_input = token.substr(0, second);
    return jws;
}

struct JwsPublicKey::Impl {
    std::unique_ptr<Botan::Public_Key> key;
    std::string kid;
    std::string alg;
    std::string emsa;
    Botan::Signature_Format format = Botan::IEEE_1363;
    size_t signature_size = 0;  // fixed for ES256 (r || s) and EdDSA; 0: the modulus's (RS256)
};

namespace {

constexpr size_t kMinRsaBits = 2048;

bool curve_is_p256(const Botan::Public_Key& key) {
    const auto* ec = dynamic_cast<const Botan::ECDSA_PublicKey*>(&key);
    return ec && ec->domain().get_curve_oid() == Botan::OID::from_string("secp256r1");
}

// The algorithm a key type signs with here (one per type, so the token cannot choose).
std::shared_ptr<JwsPublicKey::Impl> impl_for(std::unique_ptr<Botan::Public_Key> key, const std::string& kid) {
    auto impl = std::make_shared<JwsPublicKey::Impl>();
    const std::string name = key->algo_name();
    if (name == "ECDSA") {
        if (!curve_is_p256(*key)) throw std::invalid_argument("an EC key must be on P-256 (ES256)");
        impl->alg = "ES256";
        impl->emsa = "EMSA1(SHA-256)";
        impl->signature_size = 64;
    } else if (name == "RSA") {
        if (key->key_length() < kMinRsaBits) throw std::invalid_argument("an RSA key must have 2048 bits or more");
        impl->alg = "RS256";
        impl->emsa = "EMSA3(SHA-256)";
    } else if (name == "Ed25519") {
        impl->alg = "EdDSA";
        impl->emsa = "Pure";
        impl->signature_size = 64;
    } else {
        throw std::invalid_argument("a " + name + " key signs no JWS algorithm supported here (ES256, RS256, EdDSA)");
    }
    impl->key = std::move(key);
    impl->kid = kid;
    return impl;
}

Botan::BigInt big_int_member(const json& jwk, const char* key) {
    const std::string text = string_member(jwk, key);
    if (text.empty()) throw std::invalid_argument(std::string("member '") + key + "' is missing");
    const auto bytes = base64url_decode(text);
    return Botan::BigInt(bytes.data(), bytes.size());
}

std::vector<uint8_t> bytes_member(const json& jwk, const char* key, size_t size) {
    const std::string text = string_member(jwk, key);
    if (text.empty()) throw std::invalid_argument(std::string("member '") + key + "' is missing");
    auto bytes = base64url_decode(text);
    if (bytes.size() != size) throw std::invalid_argument(std::string("member '") + key + "' is not " + std::to_string(size) + " bytes");
    return bytes;
}

}  // namespace

JwsPublicKey JwsPublicKey::from_jwk(const json& jwk) {
    if (!jwk.is_object()) throw std::invalid_argument("a JWK is a JSON object");
    const std::string kty = string_member(jwk, "kty");
    const std::string crv = string_member(jwk, "crv");
    if (jwk.contains("use") && jwk.at("use") != "sig") throw std::invalid_argument("its use is not sig");
    std::unique_ptr<Botan::Public_Key> key;
    try {
        if (kty == "EC") {
            if (crv != "P-256") throw std::invalid_argument("EC curve '" + crv + "' is not supported (P-256 only)");
            const Botan::EC_Group group("secp256r1");
            const auto x = bytes_member(jwk, "x", 32), y = bytes_member(jwk, "y", 32);
            Botan::PointGFp point;
            try {
                point = group.point(Botan::BigInt(x.data(), x.size()), Botan::BigInt(y.data(), y.size()));
            } catch (const std::exception&) {
                throw std::invalid_argument("its point is not on P-256");
            }
            if (!group.verify_public_element(point)) throw std::invalid_argument("its point is not on P-256");
            key = std::make_unique<Botan::ECDSA_PublicKey>(group, point);
        } else if (kty == "RSA") {
            key = std::make_unique<Botan::RSA_PublicKey>(big_int_member(jwk, "n"), big_int_member(jwk, "e"));
        } else if (kty == "OKP") {
            if (crv != "Ed25519") throw std::invalid_argument("OKP curve '" + crv + "' is not supported (Ed25519 only)");
            key = std::make_unique<Botan::Ed25519_PublicKey>(bytes_member(jwk, "x", 32));
        } else {
            throw std::invalid_argument("key type '" + kty + "' is not supported (EC, RSA, OKP)");
        }
    } catch (const std::invalid_argument&) {
        throw;
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("its key does not load (") + e.what() + ")");
    }
    auto impl = impl_for(std::move(key), string_member(jwk, "kid"));
    const std::string alg = string_member(jwk, "alg");
    if (!alg.empty() && alg != impl->alg) throw std::invalid_argument("its alg " + alg + " does not fit its key (" + impl->alg + ")");
    return JwsPublicKey(std::move(impl));
}

JwsPublicKey JwsPublicKey::from_pem(const std::string& pem, const std::string& kid) {
    std::unique_ptr<Botan::Public_Key> key;
    try {
        Botan::DataSource_Memory source(pem);
        key.reset(Botan::X509::load_key(source));
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("the public key does not parse (") + e.what() + ")");
    }
    if (!key) throw std::invalid_argument("the public key does not parse");
    return JwsPublicKey(impl_for(std::move(key), kid));
}

const std::string& JwsPublicKey::key_id() const { return impl_->kid; }
const std::string& JwsPublicKey::algorithm() const { return impl_->alg; }
bool JwsPublicKey::is_p256() const { return curve_is_p256(*impl_->key); }

bool JwsPublicKey::verify(const CompactJws& jws) const {
    if (jws.algorithm() != impl_->alg) return false;
    if (impl_->signature_size != 0 && jws.signature.size() != impl_->signature_size) return false;
    try {
        Botan::PK_Verifier verifier(*impl_->key, impl_->emsa, impl_->format);
        return verifier.verify_message(reinterpret_cast<const uint8_t*>(jws.signing_input.data()), jws.signing_input.size(),
                                       jws.signature.data(), jws.signature.size());
    } catch (const std::exception&) {
        return false;
    }
}

std::string sign_es256(const PrivateKey& key, json header, const json& claims) {
    if (!curve_is_p256(*key.impl().key)) throw InputError("the signing key must be an ECDSA P-256 key (ES256)");
    header["alg"] = "ES256";
    const std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    Botan::System_RNG rng;
    // JOSE's ES256 signature is r || s (32 bytes each), not DER.
    Botan::PK_Signer signer(*key.impl().key, rng, "EMSA1(SHA-256)", Botan::IEEE_1363);
    const auto signature = signer.sign_message(reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size(), rng);
    return signing_input + "." + base64url_encode(signature.data(), signature.size());
}

std::string certificate_thumbprint_s256(const std::vector<uint8_t>& der) {
    const auto digest = Botan::HashFunction::create_or_throw("SHA-256")->process(der);
    return base64url_encode(digest.data(), digest.size());
}

}  // namespace mcpmtls::pki
