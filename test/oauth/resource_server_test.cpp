// Our servers as OAuth resource servers (--oauth-issuer; docs/oauth.md) against a real,
// OpenID-certified authorization server (node-oidc-provider, test/support/oidc_provider.*): JWT
// access tokens bound to the client certificate (RFC 8705), audience, issuer, lifetime, key
// rotation, scopes per tool, the 401/403 challenges and the Protected Resource Metadata they point
// at (RFC 9728), and an authorization server that goes away. Both protocol eras.
#include "test/support/cluster.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/oidc_provider.hpp"

#include "pki/jose.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

using namespace mcpmtls::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using Reply = HttpReply;

Reply parse_reply(const CommandResult& r) {
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    return parse_http_reply(r.out);
}

// A client of the server: a certificate of the DemoPki (coordinator unless told) and a token.
struct Caller {
    const DemoPki& pki;
    std::string cert = "coordinator";

    std::vector<std::string> auth(const std::string& token) const {
        return token.empty() ? std::vector<std::string>{} : std::vector<std::string>{"-H", "Authorization: Bearer " + token};
    }
    Reply post(const ServerProcess& server, const json& body, std::vector<std::string> extra) const {
        return parse_reply(curl_mcp(server.url(), pki.path("ca.crt"), pki.path(cert + ".crt"), pki.path(cert + ".key"), body.dump(), extra));
    }
    // tools/call echo in a 2025-11-25 session (initialize with the same token first).
    Reply call_legacy(const ServerProcess& server, const std::string& token, const std::string& message = "hi") const {
        const json init = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
                           {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()},
                                       {"clientInfo", {{"name", "test"}, {"version", "1"}}}}}};
        const Reply opened = post(server, init, auth(token));
        if (opened.status != 200) return opened;
        auto extra = auth(token);
        extra.insert(extra.end(), {"-H", "Mcp-Session-Id: " + opened.header("mcp-session-id"), "-H", "MCP-Protocol-Version: 2025-11-25"});
        return post(server,
                    {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/call"}, {"params", {{"name", "echo"}, {"arguments", {{"message", message}}}}}},
                    extra);
    }
    // tools/call echo, stateless (2026-07-28).
    Reply call_modern(const ServerProcess& server, const std::string& token, const std::string& message = "hi") const {
        const json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                           {"io.modelcontextprotocol/clientCapabilities", json::object()},
                           {"io.modelcontextprotocol/clientInfo", {{"name", "curl"}, {"version", "1"}}}};
        auto extra = auth(token);
        extra.insert(extra.end(), {"-H", "MCP-Protocol-Version: 2026-07-28", "-H", "Mcp-Method: tools/call", "-H", "Mcp-Name: echo"});
        return post(server,
                    {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "tools/call"},
                     {"params", {{"name", "echo"}, {"arguments", {{"message", message}}}, {"_meta", meta}}}},
                    extra);
    }
};

std::string echoed(const Reply& reply) {
    if (!reply.body.contains("result")) return "";
    return reply.body["result"]["structuredContent"].value("message", "");
}

// Clients whose tokens the authorization server makes wrong on purpose, by their secret.
OidcProviderProcess::Options options_with_odd_clients() {
    OidcProviderProcess::Options options;
    const json none = json::array();
    for (const char* id : {"expired", "early", "foreign-iss", "rsa", "eddsa"})
        options.clients.push_back({{"client_id", id},
                                   {"client_secret", OidcProviderProcess::kPlainSecret},
                                   {"grant_types", {"client_credentials"}},
                                   {"response_types", none},
                                   {"redirect_uris", none}});
    options.token_tweaks = {{"expired", {{"exp_offset", -300}}},
                            {"early", {{"nbf_offset", 300}}},
                            {"foreign-iss", {{"iss", "https://impostor.example"}}},
                            {"rsa", {{"alg", "RS256"}}},
                            {"eddsa", {{"alg", "EdDSA"}}}};
    return options;
}

// The echo server taking tokens from `as`: every tool needs tools:read, echo also tools:call.
std::unique_ptr<ServerProcess> oauth_echo(const DemoPki& pki, const OidcProviderProcess& as, const TempDir& dir,
                                          std::vector<std::string> extra = {}, json config = json::object()) {
    config["authorization"] = {{{"tools", {"*"}}, {"scopes", {"tools:read"}}}, {{"tools", {"echo"}}, {"scopes", {"tools:call"}}}};
    write_text(dir.file("echo.json"), config.dump());
    std::vector<std::string> args = {"--oauth-issuer", as.issuer(), "--config", dir.file("echo.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = std::make_unique<ServerProcess>(pki, "echo", args);
    REQUIRE(server->process().wait_for_log("oauth_keys_fetched"));
    return server;
}

std::string secret_token(const OidcProviderProcess& as, const std::string& client, const std::string& resource,
                         const std::string& scope = "tools:read tools:call") {
    return as.client_credentials(client, scope, resource, "", "", OidcProviderProcess::kPlainSecret);
}

}  // namespace

TEST_CASE("a token bound to the client certificate calls a tool in both eras; a wrong token gets 401, a missing scope 403",
          "[oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki, options_with_odd_clients());
    TempDir dir;
    auto echo = oauth_echo(pki, as, dir);
    const std::string resource = echo->url();
    const Caller coordinator{pki};

    const std::string bound = as.bound_token("tools:read tools:call", resource);
    CHECK(echoed(coordinator.call_legacy(*echo, bound, "legacy")) == "legacy");
    CHECK(echoed(coordinator.call_modern(*echo, bound, "modern")) == "modern");
    // The audit line names both identities; the token itself is never written.
    CHECK(echo->process().wait_for_log("token_subject"));
    CHECK(contains(echo->log(), "spiffe://demo/coordinator"));
    CHECK_FALSE(contains(echo->log(), bound));
    CHECK_FALSE(contains(echo->log(), bound.substr(bound.rfind('.') + 1)));

    SECTION("the same token from another valid client certificate is refused (RFC 8705)") {
        REQUIRE(pki.pki({"issue", "client", "intruder", "--uri", "spiffe://demo/intruder"}).exit_code == 0);
        const Caller intruder{pki, "intruder"};
        for (const Reply& r : {intruder.call_legacy(*echo, bound), intruder.call_modern(*echo, bound)}) {
            CHECK(r.status == 401);
            CHECK(contains(r.header("www-authenticate"), "error=\"invalid_token\""));
            CHECK(contains(r.header("www-authenticate"), "bound to another client certificate"));
        }
    }

    SECTION("a session belongs to the token's subject too: another user's token on the same certificate cannot use it") {
        const json init = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
                           {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()},
                                       {"clientInfo", {{"name", "test"}, {"version", "1"}}}}}};
        const Reply opened = coordinator.post(*echo, init, coordinator.auth(bound));
        REQUIRE(opened.status == 200);
        const json call = {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/call"}, {"params", {{"name", "echo"}, {"arguments", {{"message", "x"}}}}}};
        auto with_session = [&](const std::string& token) {
            auto extra = coordinator.auth(token);
            extra.insert(extra.end(), {"-H", "Mcp-Session-Id: " + opened.header("mcp-session-id"), "-H", "MCP-Protocol-Version: 2025-11-25"});
            return coordinator.post(*echo, call, extra);
        };
        CHECK(with_session(as.plain_token("tools:read tools:call", resource)).status == 404);
        CHECK(echoed(with_session(bound)) == "x");
    }

    SECTION("no token: 401 pointing at the Protected Resource Metadata, which names the issuer") {
        for (const Reply& r : {coordinator.call_legacy(*echo, ""), coordinator.call_modern(*echo, "")}) {
            CHECK(r.status == 401);
            const std::string challenge = r.header("www-authenticate");
            const std::string metadata_url = "https://localhost:" + std::to_string(echo->port()) + "/.well-known/oauth-protected-resource/mcp";
            CHECK(contains(challenge, "Bearer resource_metadata=\"" + metadata_url + "\""));
            CHECK(contains(challenge, "scope=\"tools:read\""));
            CHECK_FALSE(contains(challenge, "error="));
        }
        for (const std::string path : {"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}) {
            const auto got = run_command({"curl", "-sS", "--fail", "--cacert", pki.path("ca.crt"), "--cert", pki.path("coordinator.crt"),
                                          "--key", pki.path("coordinator.key"), "https://localhost:" + std::to_string(echo->port()) + path});
            REQUIRE(got.exit_code == 0);
            const json document = json::parse(got.out);
            CHECK(document["resource"] == resource);
            CHECK(document["authorization_servers"] == json::array({as.issuer()}));
            CHECK(document["scopes_supported"] == json::array({"tools:call", "tools:read"}));
            CHECK(document["tls_client_certificate_bound_access_tokens"] == true);
        }
    }

    SECTION("a token without the tool's scope: 403 insufficient_scope naming the scopes") {
        const std::string reader = as.bound_token("tools:read", resource);
        for (const Reply& r : {coordinator.call_legacy(*echo, reader), coordinator.call_modern(*echo, reader)}) {
            CHECK(r.status == 403);
            const std::string challenge = r.header("www-authenticate");
            CHECK(contains(challenge, "error=\"insufficient_scope\""));
            CHECK(contains(challenge, "scope=\"tools:call tools:read\""));
            CHECK(contains(challenge, "resource_metadata="));
        }
        CHECK(contains(echo->log(), "insufficient_scope"));
    }

    SECTION("the wrong audience, an expired token, the wrong issuer, a token not valid yet: 401 invalid_token, saying which") {
        const std::vector<std::pair<std::string, std::string>> cases = {
            {as.bound_token("tools:read tools:call", "https://localhost:1/mcp"), "not " + resource},
            {secret_token(as, "expired", resource), "expired at"},
            {secret_token(as, "foreign-iss", resource), "issuer is 'https://impostor.example'"},
            {secret_token(as, "early", resource), "not valid before"},
            {"not-a-jwt", "not a JWT"},
        };
        for (const auto& [token, why] : cases) {
            INFO(why);
            for (const Reply& r : {coordinator.call_legacy(*echo, token), coordinator.call_modern(*echo, token)}) {
                CHECK(r.status == 401);
                CHECK(contains(r.header("www-authenticate"), "error=\"invalid_token\""));
                CHECK(contains(r.header("www-authenticate"), why));
            }
        }
    }

    SECTION("tokens signed with RS256 and EdDSA verify too") {
        CHECK(echoed(coordinator.call_modern(*echo, secret_token(as, "rsa", resource), "rsa")) == "rsa");
        CHECK(echoed(coordinator.call_legacy(*echo, secret_token(as, "eddsa", resource), "ed")) == "ed");
    }
}

TEST_CASE("--oauth-require-bound-tokens refuses a token that is not bound to a certificate", "[oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    TempDir dir;
    // As a --config key, as an operator's file would hold it.
    auto echo = oauth_echo(pki, as, dir, {"--metrics-bind", "127.0.0.1:0"}, {{"oauth_require_bound_tokens", true}});
    CHECK(contains(echo->log(), "oauth_require_bound_tokens=true"));
    const Caller coordinator{pki};
    const std::string unbound = as.plain_token("tools:read tools:call", echo->url());
    for (const Reply& r : {coordinator.call_legacy(*echo, unbound), coordinator.call_modern(*echo, unbound)}) {
        CHECK(r.status == 401);
        CHECK(contains(r.header("www-authenticate"), "not bound to a client certificate"));
    }
    CHECK(echoed(coordinator.call_modern(*echo, as.bound_token("tools:read tools:call", echo->url()), "bound")) == "bound");

    // The metrics name both identities: the certificate's and the token's subject.
    const auto scrape = http_request(metrics_url_of(*echo));
    REQUIRE(scrape.status == 200);
    INFO(scrape.body);
    CHECK(metric_value(scrape.body, R"(mcp_mtls_oauth_tokens_total{result="accepted",client="spiffe://demo/coordinator",subject="bound"})") == 1);
    CHECK(metric_value(scrape.body, R"(mcp_mtls_oauth_tokens_total{result="invalid_token",client="spiffe://demo/coordinator",subject=""})") == 2);
}

TEST_CASE("--oauth-audience names the audience instead of the URL the request came to", "[oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    TempDir dir;
    auto echo = oauth_echo(pki, as, dir, {"--oauth-audience", "https://echo.example/mcp"});
    const Caller coordinator{pki};
    CHECK(echoed(coordinator.call_modern(*echo, as.bound_token("tools:read tools:call", "https://echo.example/mcp"), "named")) == "named");
    const Reply by_url = coordinator.call_legacy(*echo, as.bound_token("tools:read tools:call", echo->url()));
    CHECK(by_url.status == 401);
    CHECK(contains(by_url.header("www-authenticate"), "not https://echo.example/mcp"));
}

TEST_CASE("after the authorization server rotates its keys, a token with the new kid is accepted after one JWKS refresh",
          "[oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    TempDir dir;
    auto echo = oauth_echo(pki, as, dir);
    const Caller coordinator{pki};
    CHECK(echoed(coordinator.call_modern(*echo, as.bound_token("tools:read tools:call", echo->url()), "before")) == "before");
    CHECK(count_occurrences(echo->log(), "oauth_keys_fetched") == 1);

    as.rotate_keys();
    const std::string rotated = as.bound_token("tools:read tools:call", echo->url());
    CHECK(echoed(coordinator.call_legacy(*echo, rotated, "after")) == "after");
    CHECK(count_occurrences(echo->log(), "oauth_keys_fetched") == 2);
    CHECK(echoed(coordinator.call_modern(*echo, rotated, "again")) == "again");
    CHECK(count_occurrences(echo->log(), "oauth_keys_fetched") == 2);

    // Made-up kids: refused, and they do not make the server hammer the authorization server.
    const auto jws = mcpmtls::pki::parse_compact_jws(rotated);
    for (int i = 0; i < 5; ++i) {
        json header = jws.header;
        header["kid"] = "bogus-" + std::to_string(i);
        const std::string forged = mcpmtls::pki::base64url_encode(header.dump()) + rotated.substr(rotated.find('.'));
        const Reply r = coordinator.call_modern(*echo, forged);
        CHECK(r.status == 401);
        CHECK(contains(r.header("www-authenticate"), "does not publish"));
    }
    CHECK(count_occurrences(echo->log(), "oauth_keys_fetched") == 2);
}

TEST_CASE("when the authorization server stops, cached keys keep working until they expire, then a clear 503", "[oauth-rs]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    TempDir dir;
    auto echo = oauth_echo(pki, as, dir, {"--oauth-jwks-max-age", "10"});
    const auto fetched = std::chrono::steady_clock::now();
    const Caller coordinator{pki};
    const std::string token = as.bound_token("tools:read tools:call", echo->url());
    as.rotate_keys();
    const std::string unseen = as.bound_token("tools:read tools:call", echo->url());  // signed with a kid the server never saw
    as.stop();

    CHECK(echoed(coordinator.call_legacy(*echo, token, "cached")) == "cached");
    const Reply unknown = coordinator.call_modern(*echo, unseen);
    CHECK(unknown.status == 503);
    CHECK(unknown.header("retry-after") == "30");
    CHECK(contains(unknown.body.dump(), "not among the cached keys"));
    CHECK(contains(unknown.body.dump(), "could not be fetched"));
    CHECK(echoed(coordinator.call_modern(*echo, token, "still")) == "still");

    std::this_thread::sleep_until(fetched + 11s);
    const Reply expired = coordinator.call_modern(*echo, token);
    CHECK(expired.status == 503);
    CHECK(contains(expired.body.dump(), "no keys of the authorization server"));
    CHECK(echo->process().running());
}

TEST_CASE("--oauth-* settings that cannot work are refused with one line and exit code 2", "[oauth-rs]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("scopes.json"), R"({"authorization": [{"tools": ["*"], "scopes": ["tools:read"]}]})");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--oauth-audience", "x"}, "--oauth-audience needs --oauth-issuer"},
        {{"--oauth-require-bound-tokens"}, "--oauth-require-bound-tokens needs --oauth-issuer"},
        {{"--oauth-issuer", "http://localhost:1"}, "only https://"},
        {{"--oauth-issuer", "https://localhost:1", "--oauth-introspection-url", "ftp://x/"}, "only https://"},
        {{"--config", dir.file("scopes.json")}, "need --oauth-issuer"},
    };
    for (const auto& [args, why] : cases) {
        std::vector<std::string> argv = {bin_path("echo-server"), "--port", "0", "--cert", pki.path("echo.crt"), "--key",
                                         pki.path("echo.key"), "--ca", pki.path("ca-bundle.crt")};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = run_command(argv, {}, 20s);
        INFO(r.all());
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, why));
        CHECK(count_occurrences(r.err, "\n") == 1);
    }
}

TEST_CASE("an opaque token is checked at the introspection endpoint, where the server authenticates by its certificate",
          "[oauth-rs]") {
    DemoPki pki;
    TempDir certs;
    // tls_client_auth needs a certificate good for client authentication too.
    OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), certs.path(), "echo-rs", "serverAuth,clientAuth",
                          "DNS:localhost,IP:127.0.0.1", "", "");
    OidcProviderProcess::Options options;
    options.clients.push_back({{"client_id", "echo-rs"},
                               {"token_endpoint_auth_method", "tls_client_auth"},
                               {"tls_client_auth_san_dns", "localhost"},
                               {"grant_types", {"client_credentials"}},
                               {"response_types", json::array()},
                               {"redirect_uris", json::array()}});
    OidcProviderProcess as(pki, options);
    TempDir dir;
    write_text(dir.file("echo.json"), R"({"authorization": [{"tools": ["echo"], "scopes": ["tools:call"]}]})");
    ServerProcess echo("echo-server", certs.file("echo-rs.crt"), certs.file("echo-rs.key"), pki.path("ca-bundle.crt"),
                       {"--oauth-issuer", as.issuer(), "--oauth-introspection-url", as.issuer() + "/token/introspection",
                        "--oauth-client-id", "echo-rs", "--config", dir.file("echo.json")});
    const Caller coordinator{pki};

    // Without a resource indicator the authorization server issues an opaque token.
    const std::string opaque = as.bound_token("tools:call", "");
    REQUIRE(opaque.find('.') == std::string::npos);
    CHECK(echoed(coordinator.call_legacy(echo, opaque, "opaque")) == "opaque");
    CHECK(echoed(coordinator.call_modern(echo, opaque, "opaque")) == "opaque");

    REQUIRE(pki.pki({"issue", "client", "intruder", "--uri", "spiffe://demo/intruder"}).exit_code == 0);
    const Reply replayed = Caller{pki, "intruder"}.call_modern(echo, opaque);
    CHECK(replayed.status == 401);
    CHECK(contains(replayed.header("www-authenticate"), "bound to another client certificate"));

    // Revoked at the authorization server: introspection says so at once.
    const auto revoked = run_command({"curl", "-sS", "--fail", "--cacert", as.ca(), "--cert", pki.path("coordinator.crt"), "--key",
                                      pki.path("coordinator.key"), "-d", "client_id=bound", "--data-urlencode", "token=" + opaque,
                                      as.issuer() + "/token/revocation"});
    REQUIRE(revoked.exit_code == 0);
    const Reply after = coordinator.call_modern(echo, opaque);
    CHECK(after.status == 401);
    CHECK(contains(after.header("www-authenticate"), "not active"));
    CHECK_FALSE(contains(echo.log(), opaque));
}
