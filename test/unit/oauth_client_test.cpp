// The OAuth client's rules without a network: challenges, PKCE (the openssl CLI as second
// opinion), where metadata is looked for and in what order, which scopes and which token
// endpoint authentication are chosen, and the token file (0600, atomic, keyed by server).
#include "client/oauth.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace mcpmtls::client;
using namespace mcpmtls::client::oauth;
using nlohmann::json;
using namespace mcpmtls::testing;

TEST_CASE("a Bearer challenge gives its resource_metadata, scope and error", "[oauth-client]") {
    const Challenge c = parse_challenge(
        R"(Bearer error="insufficient_scope", scope="mcp:basic mcp:write", resource_metadata="https://h:1/.well-known/oauth-protected-resource/mcp")");
    CHECK(c.bearer);
    CHECK(c.error == "insufficient_scope");
    CHECK(c.scope == "mcp:basic mcp:write");
    CHECK(c.resource_metadata == "https://h:1/.well-known/oauth-protected-resource/mcp");
    const Challenge among = parse_challenge(R"(Basic realm="x", Bearer scope=read)");
    CHECK(among.bearer);
    CHECK(among.scope == "read");
    CHECK_FALSE(parse_challenge(R"(Basic realm="x")").bearer);
    CHECK_FALSE(parse_challenge("").bearer);
}

TEST_CASE("PKCE S256: a 43-character verifier whose challenge the openssl CLI computes alike", "[oauth-client]") {
    const Pkce pkce = make_pkce();
    CHECK(pkce.verifier.size() == 43);
    CHECK(pkce.verifier.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
    CHECK(make_pkce().verifier != pkce.verifier);
    const auto openssl = run_shell("printf '%s' '" + pkce.verifier +
                                   "' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\\n'");
    REQUIRE(openssl.exit_code == 0);
    CHECK(pkce.challenge == openssl.out);
}

TEST_CASE("form encoding keeps only unreserved characters; queries decode back, repeats kept", "[oauth-client]") {
    CHECK(form({{"redirect_uri", "http://127.0.0.1:5/callback"}, {"scope", "a b"}}) ==
          "redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcallback&scope=a%20b");
    const auto query = parse_query("code=x%2By&state=s&iss=a&iss=b&scope=a+b");
    CHECK(query.at("code") == std::vector<std::string>{"x+y"});
    CHECK(query.at("iss").size() == 2);
    CHECK(query.at("scope").front() == "a b");
}

TEST_CASE("protected resource metadata: the path-based well-known URL first, then the root one", "[oauth-client]") {
    CHECK(resource_metadata_urls(Url::parse("https://h:8443/mcp")) ==
          std::vector<std::string>{"https://h:8443/.well-known/oauth-protected-resource/mcp",
                                   "https://h:8443/.well-known/oauth-protected-resource"});
    CHECK(resource_metadata_urls(Url::parse("https://h/")) == std::vector<std::string>{"https://h/.well-known/oauth-protected-resource"});
}

TEST_CASE("authorization server metadata: RFC 8414, then OpenID with the path inserted, then appended", "[oauth-client]") {
    CHECK(authorization_server_metadata_urls("https://as.example") ==
          std::vector<std::string>{"https://as.example/.well-known/oauth-authorization-server",
                                   "https://as.example/.well-known/openid-configuration"});
    CHECK(authorization_server_metadata_urls("https://as.example:9/tenant1/") ==
          std::vector<std::string>{"https://as.example:9/.well-known/oauth-authorization-server/tenant1",
                                   "https://as.example:9/.well-known/openid-configuration/tenant1",
                                   "https://as.example:9/tenant1/.well-known/openid-configuration"});
}

TEST_CASE("a protected resource must be this server: same origin, path a prefix", "[oauth-client]") {
    const Url server = Url::parse("https://h:8443/mcp");
    CHECK(resource_matches("https://h:8443/mcp", server));
    CHECK(resource_matches("https://h:8443", server));
    CHECK(resource_matches("https://H:8443/", server));
    CHECK_FALSE(resource_matches("https://evil.example.com/mcp", server));
    CHECK_FALSE(resource_matches("https://h:8444/mcp", server));
    CHECK_FALSE(resource_matches("https://h:8443/mcp2", server));
    CHECK_FALSE(resource_matches("not a url", server));
}

TEST_CASE("scopes: the challenge's, else scopes_supported, else none; step-up keeps the earlier ones", "[oauth-client]") {
    const json prm = {{"scopes_supported", {"a", "b"}}};
    const json as_plain = {{"scopes_supported", {"a", "b"}}};
    const json as_offline = {{"scopes_supported", {"a", "offline_access"}}};
    CHECK(choose_scopes(parse_challenge("Bearer scope=\"x\""), prm, as_plain, {}) == std::vector<std::string>{"x"});
    CHECK(choose_scopes(parse_challenge("Bearer"), prm, as_plain, {}) == std::vector<std::string>{"a", "b"});
    CHECK(choose_scopes(parse_challenge("Bearer"), json::object(), as_offline, {}).empty());
    CHECK(choose_scopes(parse_challenge("Bearer scope=\"w\""), prm, as_offline, {"x"}) ==
          std::vector<std::string>{"x", "w", "offline_access"});
}

TEST_CASE("token endpoint authentication: certificate, then secret (basic, post), then none", "[oauth-client]") {
    const json all = {{"token_endpoint_auth_methods_supported", {"none", "client_secret_post", "client_secret_basic", "tls_client_auth"}}};
    CHECK(choose_token_auth("auto", all, true, true) == "tls_client_auth");
    CHECK(choose_token_auth("auto", all, true, false) == "client_secret_basic");
    CHECK(choose_token_auth("auto", {{"token_endpoint_auth_methods_supported", {"client_secret_post"}}}, true, false) ==
          "client_secret_post");
    CHECK(choose_token_auth("auto", all, false, false) == "none");
    CHECK(choose_token_auth("auto", json::object(), true, false) == "client_secret_basic");  // RFC 8414 default
    CHECK(choose_token_auth("client_secret_post", all, true, true) == "client_secret_post");
}

TEST_CASE("the token file is 0600 in a 0700 directory, keyed by server, replaced whole", "[oauth-client]") {
    TempDir dir;
    const std::string path = dir.file("state/mcp-mtls/tokens.json");
    TokenStore store(path);
    CHECK_FALSE(store.find("https://h/mcp"));
    TokenEntry entry;
    entry.server = "https://h/mcp";
    entry.resource = "https://h/mcp";
    entry.issuer = "https://as";
    entry.access_token = "secret-access";
    entry.refresh_token = "secret-refresh";
    entry.requested = {"a"};
    store.put(entry);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat(dir.file("state/mcp-mtls").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(store.find("https://h/mcp")->access_token == "secret-access");
    CHECK(store.load()["tokens"].contains("https://h/mcp https://as"));

    // A token from another issuer for the same server replaces the old one.
    entry.issuer = "https://as2";
    entry.access_token = "second";
    store.put(entry);
    CHECK(store.load()["tokens"].size() == 1);
    CHECK(store.find("https://h/mcp")->issuer == "https://as2");

    store.put_registration("https://as2", {"id", "shh", "client_secret_basic"});
    CHECK(store.registration("https://as2")->client_secret == "shh");
    CHECK_FALSE(store.registration("https://as"));

    // No temporary file is left beside it.
    const auto listing = run_shell("ls -A '" + dir.file("state/mcp-mtls") + "'");
    CHECK(listing.out == "tokens.json\ntokens.json.lock\n");
    store.forget("https://h/mcp");
    CHECK_FALSE(store.find("https://h/mcp"));
    store.clear();
    CHECK_FALSE(store.registration("https://as2"));
}
