// pki/jose: which JWKs and JWSs it refuses (the accepting side is exercised end to end against a
// real authorization server in test/oauth/).
#include "pki/jose.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mcpmtls::pki;
using json = nlohmann::json;

namespace {

// A P-256 public key (RFC 7515 appendix A.3's).
json p256_jwk() {
    return {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "a3"},
            {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}, {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
}

json with(const std::string& key, const std::string& value) {
    json jwk = p256_jwk();
    jwk[key] = value;
    return jwk;
}

std::string token(const json& header, const json& claims, const std::string& signature = "AAAA") {
    return base64url_encode(header.dump()) + "." + base64url_encode(claims.dump()) + "." + signature;
}

}  // namespace

TEST_CASE("JWKs of unsupported or contradictory kinds are refused by name", "[jose][oauth-rs]") {
    const auto key = JwsPublicKey::from_jwk(p256_jwk());
    CHECK(key.algorithm() == "ES256");
    CHECK(key.key_id() == "a3");

    auto refused = [](json jwk, const std::string& why) {
        INFO(jwk.dump());
        try {
            JwsPublicKey::from_jwk(jwk);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find(why) != std::string::npos);
        }
    };
    refused({{"kty", "oct"}, {"k", "c2VjcmV0"}}, "key type 'oct'");
    refused(with("crv", "P-384"), "P-256 only");
    refused(with("alg", "RS256"), "does not fit");
    refused(with("use", "enc"), "use is not sig");
    refused(with("y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"), "not on P-256");
    refused({{"kty", "RSA"}, {"n", base64url_encode(std::string(128, '\xff'))}, {"e", "AQAB"}}, "2048 bits");
    refused({{"kty", "OKP"}, {"crv", "X25519"}, {"x", base64url_encode(std::string(32, 'x'))}}, "Ed25519 only");
}

TEST_CASE("a JWS naming another algorithm than its key's never verifies, and bad compact forms are refused", "[jose][oauth-rs]") {
    const auto key = JwsPublicKey::from_jwk(p256_jwk());
    for (const char* alg : {"none", "HS256", "RS256", "EdDSA"})
        CHECK_FALSE(key.verify(parse_compact_jws(token({{"alg", alg}}, {{"sub", "x"}}))));
    CHECK_FALSE(key.verify(parse_compact_jws(token({{"alg", "ES256"}}, {{"sub", "x"}}, base64url_encode(std::string(64, 'x'))))));
    CHECK_THROWS_AS(parse_compact_jws("a.b"), std::invalid_argument);
    CHECK_THROWS_AS(parse_compact_jws(token({{"alg", "ES256"}, {"crit", {"exp"}}}, json::object())), std::invalid_argument);
    CHECK_THROWS_AS(parse_compact_jws("e30.W10.AAAA"), std::invalid_argument);  // claims not an object
    CHECK_THROWS_AS(parse_compact_jws(std::string(20000, 'a')), std::invalid_argument);
    CHECK_THROWS_AS(base64url_decode("ab+/"), std::invalid_argument);
    CHECK(certificate_thumbprint_s256({}) == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
}
