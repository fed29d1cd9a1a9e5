// The authorization server the OAuth tests run (test/support/oidc_provider.*): checked on its own,
// so that a failing OAuth test is about our code, not about the fixture.
#include "test/support/fixtures.hpp"
#include "test/support/oidc_provider.hpp"

#include "common/strings.hpp"
#include "pki/jose.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mcpmtls::testing;
using json = nlohmann::json;

namespace {

const std::string kResource = "https://localhost:8445/mcp";

json get_json(const OidcProviderProcess& as, const std::string& path) {
    const CommandResult got = run_command({"curl", "-sS", "--fail", "--cacert", as.ca(), as.issuer() + path});
    REQUIRE(got.exit_code == 0);
    return json::parse(got.out);
}

}  // namespace

TEST_CASE("oidc-provider issues JWT access tokens bound to the client certificate, and rotates its keys", "[oauth-as][oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);

    const json metadata = get_json(as, "/.well-known/openid-configuration");
    CHECK(metadata.at("issuer") == as.issuer());
    CHECK(metadata.at("tls_client_certificate_bound_access_tokens") == true);
    CHECK(metadata.at("mtls_endpoint_aliases").at("token_endpoint") == as.issuer() + "/token");

    const json bound = jwt_claims(as.bound_token("tools:read", kResource));
    CHECK(bound.at("iss") == as.issuer());
    CHECK(bound.at("aud") == kResource);
    CHECK(bound.at("scope") == "tools:read");
    CHECK(bound.at("cnf").at("x5t#S256") == certificate_thumbprint(pki.path("coordinator.crt")));

    const json plain = jwt_claims(as.plain_token("tools:call", kResource));
    CHECK(plain.at("sub") == "plain");
    CHECK_FALSE(plain.contains("cnf"));

    // tls_client_auth checks the registered SAN: another valid client certificate is not "bound".
    REQUIRE(pki.pki({"issue", "client", "intruder", "--uri", "spiffe://demo/intruder"}).exit_code == 0);
    const json refused = as.token_request({{"grant_type", "client_credentials"}, {"resource", kResource}}, pki.path("intruder.crt"),
                                          pki.path("intruder.key"), "bound");
    CHECK(refused.value("error", "") == "invalid_client");

    const auto kids = [&] {
        std::vector<std::string> out;
        const json jwks = get_json(as, "/jwks");  // kept: a range over a member of a temporary would dangle
        for (const auto& key : jwks.at("keys")) out.push_back(key.at("kid"));
        return out;
    };
    const auto before = kids();
    as.rotate_keys();
    const auto after = kids();
    CHECK(before.size() == 3);  // ES256, RS256, EdDSA
    CHECK(after.size() == before.size() * 2);
    const std::string new_kid = mcpmtls::pki::parse_compact_jws(as.plain_token("tools:call", kResource)).key_id();
    CHECK(std::find(before.begin(), before.end(), new_kid) == before.end());
    CHECK(std::find(after.begin(), after.end(), new_kid) != after.end());

    // Dynamic registration (RFC 7591) is open, as MCP clients expect.
    const CommandResult registered = run_command(
        {"curl", "-sS", "--fail", "--cacert", as.ca(), "-H", "Content-Type: application/json", "-d",
         json{{"redirect_uris", {"http://127.0.0.1/callback"}}, {"application_type", "native"}, {"token_endpoint_auth_method", "none"},
              {"grant_types", {"authorization_code", "refresh_token"}}, {"response_types", {"code"}}}.dump(),
         as.issuer() + "/reg"});
    REQUIRE(registered.exit_code == 0);
    CHECK_FALSE(json::parse(registered.out).value("client_id", "").empty());

    // A restart keeps the issuer and the keys.
    as.restart();
    CHECK(kids() == after);
}

TEST_CASE("oidc-provider's authorization-code flow completes without a human: PKCE, a refresh token with offline_access",
          "[oauth-as][oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    const std::string verifier = "a-verifier-of-forty-three-characters-or-more-0123";
    const CommandResult challenge =
        run_shell("printf %s '" + verifier + "' | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='");
    REQUIRE(challenge.exit_code == 0);
    // Any loopback port is the registered redirect's (RFC 8252); nobody listens on this one.
    const std::string redirect = "http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/callback";
    const std::string landed = as.browse(as.issuer() + "/auth?client_id=web&response_type=code&state=s1&prompt=consent" +
                                         "&scope=" + mcpmtls::percent_encode("tools:call offline_access") + "&code_challenge_method=S256" +
                                         "&code_challenge=" + mcpmtls::trim(challenge.out) + "&resource=" + mcpmtls::percent_encode(kResource) +
                                         "&redirect_uri=" + mcpmtls::percent_encode(redirect));
    INFO(landed << "\n" << as.log());
    REQUIRE(landed.rfind(redirect + "?", 0) == 0);
    CHECK(landed.find("state=s1") != std::string::npos);
    CHECK(landed.find("iss=" + mcpmtls::percent_encode(as.issuer())) != std::string::npos);
    std::smatch code;
    REQUIRE(std::regex_search(landed, code, std::regex("[?&]code=([^&]+)")));

    const json tokens = as.token_request({{"grant_type", "authorization_code"}, {"code", code[1].str()}, {"code_verifier", verifier},
                                          {"redirect_uri", redirect}, {"resource", kResource}},
                                         "", "", "web");
    REQUIRE(tokens.contains("access_token"));
    REQUIRE(tokens.contains("refresh_token"));
    const json claims = jwt_claims(tokens["access_token"]);
    CHECK(claims["sub"] == "test-user");
    CHECK(claims["aud"] == kResource);
    CHECK(claims["scope"] == "tools:call");  // offline_access is the refresh token's, not the resource's

    const json refreshed = as.token_request({{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}, {"resource", kResource}},
                                            "", "", "web");
    REQUIRE(refreshed.contains("access_token"));
    CHECK(jwt_claims(refreshed["access_token"])["sub"] == "test-user");
}
