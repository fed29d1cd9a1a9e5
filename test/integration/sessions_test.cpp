// Session limits on a real server: a client that never ends its sessions locks out only itself.
#include "client/http_connection.hpp"
#include "test/support/cluster.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// One client identity's kept-alive connection to a server, speaking raw 2025-era MCP.
class RawClient {
public:
    RawClient(const DemoPki& pki, const std::string& name, const std::string& url)
        : connection_(client::Url::parse(url), [&] {
              tls::ClientTlsSettings settings;
              settings.ca_path = pki.path("ca-bundle.crt");
              settings.cert_path = pki.path(name + ".crt");
              settings.key_path = pki.path(name + ".key");
              return std::make_shared<const tls::ClientTlsContext>(settings);
          }()) {}

    // A new session, never ended; "" when refused (the status is in last_status()).
    std::string initialize() {
        const auto response = post("", json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
                                            {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()},
                                                        {"clientInfo", {{"name", "sessions-test"}, {"version", "1"}}}}}});
        return response.status == 200 ? response.header("Mcp-Session-Id") : "";
    }
    int ping(const std::string& session) {
        return post(session, json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}}).status;
    }
    // tools/call echo; the echoed text, or "" on any failure.
    std::string echo(const std::string& session, const std::string& message) {
        const auto response = post(session, json{{"jsonrpc", "2.0"}, {"id", 3}, {"method", "tools/call"},
                                                 {"params", {{"name", "echo"}, {"arguments", {{"message", message}}}}}});
        if (response.status != 200) return "";
        const json answer = json::parse(response.body, nullptr, false);
        if (!answer.is_object() || !answer.contains("result")) return "";
        return answer["result"]["structuredContent"].value("message", "");
    }

private:
    client::HttpResponse post(const std::string& session, const json& message) {
        std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                                    {"Accept", "application/json, text/event-stream"}};
        if (!session.empty()) headers.insert(headers.end(), {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-11-25"}});
        return connection_.request("POST", headers, message.dump());
    }
    client::HttpConnection connection_;
};

long long metric(const ServerProcess& server, const std::string& series) {
    return metric_value(http_request(metrics_url_of(server)).body, series);
}

}  // namespace

TEST_CASE("one identity opening ten times its cap leaves another identity able to initialize and call tools",
          "[sessions]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "bystander"}).exit_code == 0);
    ServerProcess echo(pki, "echo",
                       {"--max-sessions-per-client", "5", "--max-sessions", "50", "--metrics-bind", "127.0.0.1:0"});
    RawClient hoarder(pki, "coordinator", echo.url());
    std::vector<std::string> hoarded;
    for (int i = 0; i < 50; ++i) hoarded.push_back(hoarder.initialize());
    for (const auto& id : hoarded) REQUIRE_FALSE(id.empty());  // never refused: its own oldest made room

    RawClient bystander(pki, "bystander", echo.url());
    int failures = 0;
    for (int round = 0; round < 5; ++round) {
        const std::string session = bystander.initialize();
        if (session.empty()) ++failures;
        for (int i = 0; i < 4; ++i)
            if (bystander.echo(session, "still here " + std::to_string(i)) != "still here " + std::to_string(i)) ++failures;
    }
    CHECK(failures == 0);

    // The hoarder's evicted sessions answer 404, as expired ones do; its newest five still work.
    for (size_t i = 0; i < 45; ++i) CHECK(hoarder.ping(hoarded[i]) == 404);
    for (size_t i = 45; i < 50; ++i) CHECK(hoarder.ping(hoarded[i]) == 200);

    CHECK(metric(echo, R"(mcp_mtls_sessions{client="spiffe://demo/coordinator"})") == 5);
    CHECK(metric(echo, R"(mcp_mtls_sessions{client="bystander"})") == 5);
    CHECK(metric(echo, R"(mcp_mtls_sessions_evicted_total{reason="client_cap"})") == 45);
    CHECK(metric(echo, R"(mcp_mtls_sessions_evicted_total{reason="table_full"})") == 0);
    // One line per burst, not one per session.
    CHECK(count_occurrences(echo.log(), "sessions_evicted") == 1);
    const std::string log = echo.log();
    const auto at = log.find("sessions_evicted");
    REQUIRE(at != std::string::npos);
    const std::string line = log.substr(at, log.find('\n', at) - at);
    CHECK(line.find("count=1 ") != std::string::npos);  // the first of the burst; the metric counts all
    CHECK(line.find("reason=client_cap") != std::string::npos);
}

TEST_CASE("a session unused for --session-idle-timeout answers 404 and is counted as expired", "[sessions]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--session-idle-timeout", "1", "--max-sessions", "1", "--metrics-bind", "127.0.0.1:0"});
    RawClient client(pki, "coordinator", echo.url());
    const std::string idle = client.initialize();
    REQUIRE(client.ping(idle) == 200);
    std::this_thread::sleep_for(1500ms);
    CHECK(client.ping(idle) == 404);
    // The table (one place) is full of an expired session: it is swept, not a reason to refuse.
    const std::string next = client.initialize();
    REQUIRE_FALSE(next.empty());
    CHECK(client.echo(next, "fresh") == "fresh");
    CHECK(metric(echo, R"(mcp_mtls_sessions_evicted_total{reason="idle_timeout"})") == 1);
}

TEST_CASE("session limit flags are checked: out of range exits 2 naming the flag", "[sessions]") {
    DemoPki pki;
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--max-sessions-per-client", "0"}, {"--session-idle-timeout", "0"}, {"--session-idle-timeout", "soon"}}) {
        const auto r = run_command({bin_path("echo-server"), "--cert", pki.path("echo.crt"), "--key", pki.path("echo.key"),
                                    "--ca", pki.path("ca-bundle.crt"), "--port", "0", flag, value});
        INFO(flag << " " << value << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(flag) != std::string::npos);
    }
}

TEST_CASE("after floods of sessions that are never ended, the server's memory returns near its baseline", "[sessions][rss]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--max-sessions-per-client", "20"});
    auto flood = [&] {
        RawClient hoarder(pki, "coordinator", echo.url());
        for (int i = 0; i < 1000; ++i) REQUIRE_FALSE(hoarder.initialize().empty());
    };
    flood();
    flood();
    std::this_thread::sleep_for(300ms);
    const long baseline = rss_kib(echo.process().pid());
    REQUIRE(baseline > 0);
    for (int i = 0; i < 5; ++i) flood();
    std::this_thread::sleep_for(300ms);
    const long after = rss_kib(echo.process().pid());
    INFO("RSS baseline " << baseline << " KiB, after 5,000 more sessions " << after << " KiB");
    if (rss_is_meaningful()) CHECK(after < baseline + 4 * 1024);
    RawClient other(pki, "coordinator", echo.url());
    CHECK(other.echo(other.initialize(), "alive") == "alive");
}
