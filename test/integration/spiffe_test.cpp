// SPIFFE authorization, table-driven: --allow-client with an exact SPIFFE ID, --allow-trust-domain,
// and the same identities in a --config authorization list; a certificate with two URI SANs is
// no X.509-SVID and is refused wherever a SPIFFE rule applies.
#include "client/mcp_session.hpp"
#include "server/server_main.hpp"
#include "services/echo_tools.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// The clients of the tables, by name: their URI SANs.
const std::vector<std::pair<std::string, std::vector<std::string>>> kClients = {
    {"agent", {"spiffe://prod.acme/ns/prod/sa/agent"}},
    {"sibling", {"spiffe://prod.acme/ns/prod/sa/indexer"}},
    {"nested", {"spiffe://prod.acme/ns/prod/sa/agent/extra"}},
    {"foreign", {"spiffe://staging.acme/ns/prod/sa/agent"}},
    {"lookalike", {"spiffe://prod.acme.evil/ns/prod/sa/agent"}},
    {"two-uris", {"spiffe://prod.acme/ns/prod/sa/agent", "spiffe://prod.acme/ns/prod/sa/indexer"}},
    {"no-uri", {}},
};

void issue_clients(const DemoPki& pki) {
    for (const auto& [name, uris] : kClients) {
        std::vector<std::string> args = {"issue", "client", name};
        for (const auto& uri : uris) args.insert(args.end(), {"--uri", uri});
        const auto r = pki.pki(args);
        if (r.exit_code != 0) throw std::runtime_error("pki issue " + name + ": " + r.all());
    }
}

bool handshake_accepted(const DemoPki& pki, const ServerProcess& server, const std::string& client) {
    return curl_mcp(server.url(), pki.path("ca-bundle.crt"), pki.path(client + ".crt"), pki.path(client + ".key"), initialize_body())
               .out.find("HTTP/1.1 200") != std::string::npos;
}

}  // namespace

TEST_CASE("SPIFFE rules at the handshake: exact ID, trust domain, two URI SANs refused", "[spiffe]") {
    DemoPki pki;
    issue_clients(pki);
    struct Rule {
        std::vector<std::string> flags;
        std::vector<std::string> admitted;  // the others of kClients are refused
    };
    const std::vector<Rule> rules = {
        {{"--allow-client", "spiffe://prod.acme/ns/prod/sa/agent"}, {"agent"}},
        {{"--allow-trust-domain", "prod.acme"}, {"agent", "sibling", "nested"}},
        {{"--allow-trust-domain", "spiffe://staging.acme"}, {"foreign"}},
        {{"--allow-client", "spiffe://prod.acme/ns/prod/sa/*"}, {"agent", "sibling", "nested"}},
        // A CN rule beside a SPIFFE rule still refuses the two-URI certificate.
        {{"--allow-trust-domain", "staging.acme", "--allow-client", "two-uris", "--allow-client", "no-uri"}, {"foreign", "no-uri"}},
    };
    for (const auto& rule : rules) {
        std::vector<std::string> args = {"--cert", pki.path("echo.crt"), "--key", pki.path("echo.key"), "--ca", pki.path("ca-bundle.crt")};
        args.insert(args.end(), rule.flags.begin(), rule.flags.end());
        ServerProcess echo("echo-server", args);
        for (const auto& [client, uris] : kClients) {
            const bool expected = std::find(rule.admitted.begin(), rule.admitted.end(), client) != rule.admitted.end();
            INFO(rule.flags[0] << " " << rule.flags[1] << ": client " << client);
            CHECK(handshake_accepted(pki, echo, client) == expected);
        }
        CHECK(echo.process().wait_for_log("carries 2 URI SANs"));
    }
}

TEST_CASE("without a SPIFFE rule, a certificate with two URI SANs is admitted as before", "[spiffe]") {
    DemoPki pki;
    issue_clients(pki);
    ServerProcess echo(pki, "echo", {"--allow-client", "two-uris"});
    CHECK(handshake_accepted(pki, echo, "two-uris"));
    CHECK_FALSE(handshake_accepted(pki, echo, "agent"));
}

TEST_CASE("the --config authorization list takes the same identities: spiffe://TD for a trust domain, exact IDs", "[spiffe]") {
    DemoPki pki;
    issue_clients(pki);
    TempDir dir;
    write_text(dir.file("config.json"), R"({"authorization": [
        {"clients": ["spiffe://prod.acme"], "tools": ["echo"]},
        {"clients": ["spiffe://staging.acme/ns/prod/sa/agent"], "tools": ["echo"]}]})");
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--config", dir.file("config.json")});
    const std::vector<std::pair<std::string, bool>> table = {
        {"agent", true}, {"sibling", true}, {"nested", true}, {"foreign", true},
        {"lookalike", false}, {"two-uris", false}, {"no-uri", false},
    };
    for (const auto& [client, authorized] : table) {
        INFO("client " << client);
        tls::ClientTlsSettings settings;
        settings.ca_path = pki.path("ca-bundle.crt");
        settings.cert_path = pki.path(client + ".crt");
        settings.key_path = pki.path(client + ".key");
        client::McpSession session("echo", client::Url::parse(echo.url()), std::make_shared<const tls::ClientTlsContext>(settings));
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        int code = 0;
        try {
            session.call_tool("echo", {{"message", "hi"}});
        } catch (const client::RpcError& e) {
            code = e.rpc_code();
        }
        CHECK(code == (authorized ? 0 : -32003));
    }
}

TEST_CASE("a SPIFFE rule that could never match is a usage error", "[spiffe]") {
    const auto echo = services::echo_server();
    const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
        {{"--allow-trust-domain", "Prod.Acme"}, ""},
        {{"--allow-trust-domain", "prod.acme/ns"}, ""},
        {{"--allow-client", "spiffe://Prod.acme/agent"}, ""},
        {{"--allow-client", "spiffe://prod.acme/ns//agent"}, ""},
        {{}, R"({"authorization": [{"clients": ["spiffe://prod acme/x"], "tools": ["*"]}]})"},
    };
    for (const auto& [flags, config] : refused) {
        INFO((flags.empty() ? config : flags[1]));
        CHECK_THROWS_AS(server::validate_server_settings(echo, flags, config.empty() ? "{}" : config), InputError);
    }
    for (const auto& flags : std::vector<std::vector<std::string>>{{"--allow-trust-domain", "prod.acme"},
                                                                   {"--allow-client", "spiffe://prod.acme/ns/prod/*"},
                                                                   {"--allow-client", "CN-or-DNS-name"}})
        CHECK_NOTHROW(server::validate_server_settings(echo, flags, "{}"));
}
