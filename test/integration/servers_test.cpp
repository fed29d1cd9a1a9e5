// The three servers over real mutual TLS on loopback: who gets in, who does not, and why.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>

using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

// bin/client with the demo PKI's coordinator certificate against one server.
CommandResult client_call(const DemoPki& pki, const ServerProcess& server, const std::string& name,
                          std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key"), "--server", name + "=" + server.url()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

bool refused(const CommandResult& curl) { return curl.exit_code != 0 && curl.out.find("HTTP/1.1 200") == std::string::npos; }

}  // namespace

TEST_CASE("a valid client gets answers from every tool of every server", "[integration]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    ServerProcess weather(pki, "weather");
    ServerProcess datetime(pki, "datetime");

    auto r = client_call(pki, echo, "echo", {"call", "echo", "echo", "message=héllo 👋 世界"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "héllo 👋 世界\n");

    r = client_call(pki, weather, "weather", {"--json", "call", "weather", "get_current_weather", "city=Paris"});
    REQUIRE(r.exit_code == 0);
    auto current = json::parse(r.out);
    CHECK(current["structuredContent"]["city"]["name"] == "Paris");
    CHECK(current["structuredContent"]["source"].get<std::string>().find("simulated") != std::string::npos);

    r = client_call(pki, weather, "weather", {"--json", "call", "weather", "get_forecast", "city=Tokyo", "days=3"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["structuredContent"]["days"].size() == 3);

    r = client_call(pki, datetime, "datetime", {"--json", "call", "datetime", "get_current_time", "timezone=Asia/Tokyo"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["structuredContent"]["utc_offset"] == "+09:00");

    r = client_call(pki, datetime, "datetime",
                    {"--json", "call", "datetime", "convert_time", "time=2026-07-01T09:00", "from_timezone=Europe/London",
                     "to_timezone=Australia/Sydney"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["structuredContent"]["target"]["datetime"] == "2026-07-01T18:00:00+10:00");

    CHECK(echo.log().find("tool_call") != std::string::npos);
    CHECK(echo.log().find("client=spiffe://demo/coordinator") != std::string::npos);
}

TEST_CASE("curl can initialize, list tools and call a tool with the coordinator certificate", "[integration]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto init = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body());
    REQUIRE(init.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(init.out, m, std::regex(R"([Mm]cp-[Ss]ession-[Ii]d: ([0-9a-f]+))")));
    const std::string session = m[1].str();
    const std::vector<std::string> headers = {"-H", "Mcp-Session-Id: " + session, "-H", "MCP-Protocol-Version: 2025-06-18"};
    auto list = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                         R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", headers);
    CHECK(list.out.find("\"name\":\"echo\"") != std::string::npos);
    auto call = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                         R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}})",
                         headers);
    CHECK(call.out.find("\"structuredContent\":{\"message\":\"hi\"}") != std::string::npos);
}

TEST_CASE("the server refuses, at the handshake and with a logged reason, every client it must not trust", "[integration]") {
    DemoPki pki;
    OpensslCa other;
    other.issue("stranger", "clientAuth", "URI:spiffe://other/stranger");
    // An expired certificate and a server-only certificate, both from our own CA.
    OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), pki.dir(), "expired", "clientAuth", "",
                          "20200101000000Z", "20200201000000Z");
    REQUIRE(pki.pki({"issue", "server", "impostor"}).exit_code == 0);
    REQUIRE(pki.pki({"issue", "client", "leaver"}).exit_code == 0);
    REQUIRE(pki.pki({"revoke", "leaver", "--reason", "keyCompromise"}).exit_code == 0);

    ServerProcess echo(pki, "echo");
    const auto body = initialize_body();
    const auto ca = pki.path("ca.crt");

    SECTION("no client certificate") {
        CHECK(refused(curl_mcp(echo.url(), ca, "", "", body)));
        CHECK(echo.process().wait_for_log("reason=\"no client certificate\""));
    }
    SECTION("a certificate from another CA") {
        CHECK(refused(curl_mcp(echo.url(), ca, other.path("stranger.crt"), other.path("stranger.key"), body)));
        CHECK(echo.process().wait_for_log("reason=\"issuer not found\""));
    }
    SECTION("an expired certificate") {
        CHECK(refused(curl_mcp(echo.url(), ca, pki.path("expired.crt"), pki.path("expired.key"), body)));
        CHECK(echo.process().wait_for_log("reason=\"certificate has expired\""));
    }
    SECTION("a server-only (EKU serverAuth) certificate") {
        CHECK(refused(curl_mcp(echo.url(), ca, pki.path("impostor.crt"), pki.path("impostor.key"), body)));
        CHECK(echo.process().wait_for_log("reason=\"EKU does not allow clientAuth\""));
    }
    SECTION("a revoked certificate (ca.crl beside the trust bundle)") {
        CHECK(refused(curl_mcp(echo.url(), ca, pki.path("leaver.crt"), pki.path("leaver.key"), body)));
        CHECK(echo.process().wait_for_log("reason=\"certificate is revoked\""));
    }
    // Every refusal is a handshake verdict, and the valid client still gets in afterwards.
    auto ok = curl_mcp(echo.url(), ca, pki.path("coordinator.crt"), pki.path("coordinator.key"), body);
    CHECK(ok.out.find("HTTP/1.1 200") != std::string::npos);
    CHECK(echo.process().running());
}

TEST_CASE("--relaxed admits a self-signed client certificate with a WARNING but still requires one", "[integration]") {
    DemoPki pki;
    OpensslCa other;
    other.self_signed("selfie", "clientAuth", "URI:spiffe://demo/selfie");
    ServerProcess echo(pki, "echo", {"--relaxed"});
    CHECK(echo.process().wait_for_log("relaxed_mode"));
    auto ok = curl_mcp(echo.url(), pki.path("ca.crt"), other.path("selfie.crt"), other.path("selfie.key"), initialize_body());
    CHECK(ok.out.find("HTTP/1.1 200") != std::string::npos);
    CHECK(echo.process().wait_for_log("verdict=accepted_relaxed"));
    CHECK(echo.log().find("skipped_checks=[\"issuer\"]") != std::string::npos);
    CHECK(echo.log().find("warning tls_handshake") != std::string::npos);

    CHECK(refused(curl_mcp(echo.url(), pki.path("ca.crt"), "", "", initialize_body())));
    CHECK(echo.process().wait_for_log("reason=\"no client certificate\""));
}

TEST_CASE("--allow-client refuses a valid certificate with another identity", "[integration]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "intern", "--uri", "spiffe://demo/intern"}).exit_code == 0);
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--allow-client", "spiffe://demo/coordinator"});
    auto intern = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("intern.crt"), pki.path("intern.key"), initialize_body());
    CHECK(refused(intern));
    CHECK(echo.process().wait_for_log("is not in the --allow-client list"));
    auto coordinator =
        curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body());
    CHECK(coordinator.out.find("HTTP/1.1 200") != std::string::npos);
}

TEST_CASE("--allow-client patterns follow the authorization policy's wildcard rule", "[integration]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "agent-7", "--uri", "spiffe://demo/agents/7"}).exit_code == 0);
    REQUIRE(pki.pki({"issue", "client", "intern", "--uri", "spiffe://demo/intern"}).exit_code == 0);
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--allow-client", "spiffe://demo/agents/*", "--allow-client", "coordinator"});
    auto admitted = [&](const std::string& name) {
        auto r = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path(name + ".crt"), pki.path(name + ".key"), initialize_body());
        return r.out.find("HTTP/1.1 200") != std::string::npos;
    };
    CHECK(admitted("agent-7"));      // URI SAN under the wildcard
    CHECK(admitted("coordinator"));  // the CN, exactly
    CHECK_FALSE(admitted("intern"));
}

TEST_CASE("sessions belong to the certificate that opened them", "[integration]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "other"}).exit_code == 0);
    ServerProcess echo(pki, "echo");
    auto init = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body());
    std::smatch m;
    REQUIRE(std::regex_search(init.out, m, std::regex(R"([Mm]cp-[Ss]ession-[Ii]d: ([0-9a-f]+))")));
    auto hijack = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("other.crt"), pki.path("other.key"),
                           R"({"jsonrpc":"2.0","id":2,"method":"ping"})", {"-H", "Mcp-Session-Id: " + m[1].str()});
    CHECK(hijack.out.find("HTTP/1.1 404") != std::string::npos);
}

TEST_CASE("SIGTERM finishes in-flight work and exits 0; an expired server certificate prevents start", "[integration]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    CHECK(echo.process().stop() == 0);
    CHECK(echo.log().find("server_stopped") != std::string::npos);

    OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), pki.dir(), "stale", "serverAuth", "DNS:localhost",
                          "20200101000000Z", "20200201000000Z");
    auto r = run_command({bin_path("echo-server"), "--port", "0", "--cert", pki.path("stale.crt"), "--key", pki.path("stale.key"),
                          "--ca", pki.path("ca-bundle.crt")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("has expired") != std::string::npos);
}
