// The authorization server the OAuth tests run (test/support/oidc_provider.*): checked on its own,
// so that a failing OAuth test is about our code, not about the fixture.
#include "test/support/fixtures.hpp"
#include "test/support/oidc_provider.hpp"

#include "pki/jose.hpp"

#include <algorithm>
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
        for (const auto& key : get_json(as, "/jwks").at("keys")) out.push_back(key.at("kid"));
        return out;
    };
    const auto before = kids();
    as.rotate_keys();
    const auto after = kids();
    CHECK(after.size() == before.size() * 2);
    const std::string new_kid = mcpmtls::pki::parse_compact_jws(as.plain_token("tools:call", kResource)).key_id();
    CHECK(std::find(before.begin(), before.end(), new_kid) == before.end());
    CHECK(std::find(after.begin(), after.end(), new_kid) != after.end());

    // A restart keeps the issuer and the keys.
    as.restart();
    CHECK(kids() == after);
}
