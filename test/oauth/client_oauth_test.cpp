// The client as an OAuth client, end to end, against a real, OpenID-certified authorization
// server (node-oidc-provider, test/support/oidc_provider.*) and our echo server as the resource
// server: discovery from the 401, dynamic registration with tls_client_auth, the authorization
// code flow with PKCE through the loopback redirect, a token bound to the client certificate
// (RFC 8705), step-up for a tool that needs another scope, a silent refresh, and the same under
// `client bridge` with the TypeScript SDK as the host.
#include "test/support/fixtures.hpp"
#include "test/support/oidc_provider.hpp"
#include "test/support/sdk_host.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>

using namespace mcpmtls::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The echo server taking tokens from `as`: every tool needs tools:read, echo also tools:call (so
// the first token, asked for with the 401's scope, must be stepped up for echo).
std::unique_ptr<ServerProcess> oauth_echo(const DemoPki& pki, const OidcProviderProcess& as, const TempDir& dir) {
    write_text(dir.file("echo.json"), json{{"authorization", {{{"tools", {"*"}}, {"scopes", {"tools:read"}}},
                                                              {{"tools", {"echo"}}, {"scopes", {"tools:call"}}}}}}
                                          .dump());
    auto server = std::make_unique<ServerProcess>(
        pki, "echo", std::vector<std::string>{"--oauth-issuer", as.issuer(), "--oauth-require-bound-tokens", "--config", dir.file("echo.json")});
    REQUIRE(server->process().wait_for_log("oauth_keys_fetched"));
    return server;
}

std::vector<std::string> client_argv(const DemoPki& pki, const ServerProcess& echo, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key"), "--server", "echo=" + echo.url(), "--oauth-auto-follow"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

json token_file(const TempDir& state) { return json::parse(read_text(state.file("mcp-mtls/tokens.json"))); }

json only_token(const TempDir& state) {
    const json tokens = token_file(state)["tokens"];
    REQUIRE(tokens.size() == 1);
    return tokens.begin().value();
}

}  // namespace

TEST_CASE("client gets a certificate-bound token by the code flow, steps up for echo, and refreshes it silently",
          "[oauth-client][oauth-e2e]") {
    DemoPki pki;
    OidcProviderProcess::Options options;
    options.access_token_ttl = 32;  // inside the client's 30 s refresh margin after 2 s
    OidcProviderProcess as(pki, options);
    TempDir dir, state;
    auto echo = oauth_echo(pki, as, dir);
    const std::map<std::string, std::string> env = {{"XDG_STATE_HOME", state.path()}};

    const auto first = run_command(client_argv(pki, *echo, {"call", "echo", "echo", "message=through OAuth"}), env);
    INFO(first.all() << "\n--- authorization server:\n" << as.log());
    REQUIRE(first.exit_code == 0);
    CHECK(contains(first.out, "through OAuth"));
    // The 401 asked for tools:read; echo's 403 for tools:call: two authorizations.
    CHECK(count_occurrences(first.err, "oauth_authorized") == 2);

    const json entry = only_token(state);
    const std::string token = entry["access_token"];
    CHECK(entry["resource"] == echo->url());
    CHECK(entry["issuer"] == as.issuer());
    CHECK(contains(entry["scope"].get<std::string>(), "tools:call"));
    CHECK_FALSE(entry["refresh_token"].get<std::string>().empty());
    // Bound to our certificate (RFC 8705), for this server only (RFC 8707).
    const json claims = jwt_claims(token);
    CHECK(claims["cnf"]["x5t#S256"] == certificate_thumbprint(pki.path("coordinator.crt")));
    CHECK(claims["aud"] == echo->url());
    // Registered dynamically, authenticated by the certificate.
    const json registrations = token_file(state)["registrations"];
    REQUIRE(registrations.contains(as.issuer()));
    CHECK(registrations[as.issuer()]["token_endpoint_auth_method"] == "tls_client_auth");
    // Never logged; the file is the user's alone.
    CHECK_FALSE(contains(first.all(), token));
    CHECK_FALSE(contains(first.all(), entry["refresh_token"].get<std::string>()));
    struct stat st {};
    REQUIRE(stat(state.file("mcp-mtls/tokens.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Near its end the token is refreshed before use: no new authorization.
    std::this_thread::sleep_for(3s);
    const auto second = run_command(client_argv(pki, *echo, {"call", "echo", "echo", "message=refreshed"}), env);
    INFO(second.all());
    REQUIRE(second.exit_code == 0);
    CHECK(contains(second.out, "refreshed"));
    CHECK(contains(second.err, "oauth_refreshed"));
    CHECK_FALSE(contains(second.err, "oauth_authorized"));
    CHECK(only_token(state)["access_token"] != token);

    // `client token show` prints them, on request only.
    const auto shown = run_command({bin_path("client"), "token", "show"}, env);
    CHECK(shown.exit_code == 0);
    CHECK(contains(shown.out, only_token(state)["access_token"].get<std::string>()));
    CHECK(run_command({bin_path("client"), "token", "clear"}, env).exit_code == 0);
    CHECK(token_file(state)["tokens"].is_null());
}

TEST_CASE("client bridge runs the flow for the SDK host, and a failed authorization reaches it as a JSON-RPC error naming why",
          "[oauth-client][oauth-e2e][sdk]") {
    DemoPki pki;
    OidcProviderProcess as(pki);
    TempDir dir, state;
    auto echo = oauth_echo(pki, as, dir);
    // The SDK starts the bridge with a minimal environment: `env` gives it its state directory.
    std::vector<std::string> bridge = {"XDG_STATE_HOME=" + state.path()};
    for (const auto& word : client_argv(pki, *echo, {"bridge", "echo"})) bridge.push_back(word);
    const json steps = {{{"op", "list"}}, {{"op", "call"}, {"name", "echo"}, {"arguments", {{"message", "host via OAuth"}}}}};

    SdkHost host;
    const auto r = host.run({{"command", "env"}, {"args", bridge}, {"steps", steps}});
    INFO(r.all() << "\n--- authorization server:\n" << as.log());
    REQUIRE(r.exit_code == 0);
    const auto answers = SdkHost::steps(r.out);
    REQUIRE(answers.size() == 2);
    CHECK(answers[0]["tools"] == json::array({"echo"}));
    CHECK(answers[1]["text"] == "host via OAuth");
    CHECK(jwt_claims(only_token(state)["access_token"])["cnf"]["x5t#S256"] == certificate_thumbprint(pki.path("coordinator.crt")));

    SECTION("the authorization server gone, with no token kept: the host is told the authorization failed") {
        REQUIRE(run_command({bin_path("client"), "token", "clear"}, {{"XDG_STATE_HOME", state.path()}}).exit_code == 0);
        as.stop();
        const auto failed = host.run({{"command", "env"}, {"args", bridge}, {"steps", {{{"op", "list"}}}}});
        INFO(failed.all());
        CHECK(contains(failed.all(), "authorization for " + echo->url() + " failed"));
    }
}
