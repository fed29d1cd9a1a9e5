// --metrics-bind: the plain-HTTP listener for Prometheus and the kubelet's probes, scraped with
// curl; its figures checked against the openssl CLI and against what the test did to the server.
#include "client/mcp_session.hpp"
#include "test/support/cluster.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <regex>
#include <thread>
#include <unistd.h>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// The value of the first sample whose line starts with `prefix` (labels in the order printed).
long long first_sample(const std::string& exposition, const std::string& prefix) {
    std::smatch m;
    if (!std::regex_search(exposition, m, std::regex("(^|\n)" + prefix + "[^\n]* (-?\\d+)\n"))) return -1;
    return std::stoll(m[2].str());
}

}  // namespace

TEST_CASE("metrics scraped with curl: certificate dates as openssl prints them, counters that move", "[metrics]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--metrics-bind", "127.0.0.1:0", "--reload-interval", "3600"});
    const std::string metrics = metrics_url_of(echo);
    auto scrape = http_request(metrics);
    REQUIRE(scrape.status == 200);
    const std::string& text = scrape.body;
    INFO(text);
    const std::string serial = serial_of(pki.path("echo.crt"));
    CHECK(first_sample(text, R"(mcp_mtls_certificate_not_after_timestamp_seconds\{role="server",subject="[^"]*",serial=")" + serial +
                                 "\"\\}") == not_after_of(pki.path("echo.crt")));
    CHECK(first_sample(text, R"(mcp_mtls_certificate_not_after_timestamp_seconds\{role="trust_anchor",)") ==
          not_after_of(pki.path("ca.crt")));
    CHECK(metric_value(text, R"(mcp_mtls_reloads_total{result="ok"})") == 0);
    CHECK(metric_value(text, R"(mcp_mtls_reloads_total{result="rejected"})") == 0);
    CHECK(metric_value(text, R"(mcp_mtls_connections{state="handshaking"})") >= 0);
    CHECK(metric_value(text, R"(mcp_mtls_connections{state="idle"})") >= 0);
    CHECK(metric_value(text, R"(mcp_mtls_connections{state="busy"})") >= 0);
    CHECK(text.find("# TYPE mcp_mtls_handshakes_total counter") != std::string::npos);
    CHECK(text.find("mcp_mtls_crl_next_update_timestamp_seconds") == std::string::npos);  // no CRL yet
    const long long started = metric_value(text, "mcp_mtls_last_reload_success_timestamp_seconds");
    CHECK(started > 0);

    // A refused handshake (no client certificate), an accepted one with a tool call, a reload.
    CHECK(curl_mcp(echo.url(), pki.path("ca-bundle.crt"), "", "", initialize_body()).exit_code != 0);
    {
        tls::ClientTlsSettings settings;
        settings.ca_path = pki.path("ca-bundle.crt");
        settings.cert_path = pki.path("coordinator.crt");
        settings.key_path = pki.path("coordinator.key");
        client::McpSession session("echo", client::Url::parse(echo.url()), std::make_shared<const tls::ClientTlsContext>(settings));
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        session.call_tool("echo", {{"message", "counted"}});
        CHECK_THROWS(session.call_tool("no_such_tool", {}));
        // Our connection is open while we scrape.
        CHECK(metric_value(http_request(metrics).body, R"(mcp_mtls_connections{state="idle"})") >= 1);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // a second later than the start-up load
    REQUIRE(pki.pki({"crl"}).exit_code == 0);
    echo.process().signal(SIGUSR1);
    REQUIRE(echo.process().wait_for_log("tls_reloaded"));

    const std::string after = http_request(metrics).body;
    INFO(after);
    CHECK(metric_value(after, R"(mcp_mtls_handshakes_total{verdict="rejected",reason="no_certificate"})") == 1);
    CHECK(metric_value(after, R"(mcp_mtls_handshakes_total{verdict="accepted",reason="verified"})") >= 1);
    CHECK(metric_value(after, R"(mcp_mtls_requests_total{tool="echo",outcome="ok"})") == 1);
    CHECK(metric_value(after, R"(mcp_mtls_requests_total{tool="",outcome="unknown_tool"})") == 1);
    CHECK(metric_value(after, R"(mcp_mtls_reloads_total{result="ok"})") == 1);
    CHECK(metric_value(after, "mcp_mtls_last_reload_success_timestamp_seconds") > started);
    const auto crl_next = run_shell("date -u -d \"$(openssl crl -noout -nextupdate -in '" + pki.path("ca.crl") + "' | cut -d= -f2)\" +%s");
    CHECK(metric_value(after, "mcp_mtls_crl_next_update_timestamp_seconds") == std::stoll(crl_next.out));

    // A refused reload counts too.
    write_text(pki.path("echo.crt"), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    echo.process().signal(SIGHUP);
    REQUIRE(echo.process().wait_for_log("tls_reload_rejected"));
    CHECK(metric_value(http_request(metrics).body, R"(mcp_mtls_reloads_total{result="rejected"})") == 1);
}

TEST_CASE("the metrics listener answers GET /metrics, /healthz and /readyz, and nothing else", "[metrics]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--metrics-bind", "127.0.0.1:0"});
    const std::string base = base_of(metrics_url_of(echo));
    CHECK(http_request(base + "/healthz").status == 200);
    const auto ready = http_request(base + "/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.body == "ready\n");
    CHECK(http_request(base + "/mcp").status == 404);
    CHECK(http_request(base + "/mcp", "POST").status == 404);
    CHECK(http_request(base + "/metrics", "POST").status == 404);
    CHECK(http_request(base + "/").status == 404);
    // The MCP port stays TLS-only.
    CHECK(http_request("http://127.0.0.1:" + std::to_string(echo.port()) + "/mcp").status != 200);
}

TEST_CASE("/readyz fails while the certificate expires within half of --expiry-warning-days", "[metrics]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "server", "brief", "--dns", "localhost", "--ttl", "24h"}).exit_code == 0);
    ServerProcess soon("echo-server", pki.path("brief.crt"), pki.path("brief.key"), pki.path("ca-bundle.crt"),
                       {"--metrics-bind", "127.0.0.1:0", "--expiry-warning-days", "4"});
    const auto not_ready = http_request(base_of(metrics_url_of(soon)) + "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body.find("within half of --expiry-warning-days") != std::string::npos);
    ServerProcess later("echo-server", pki.path("brief.crt"), pki.path("brief.key"), pki.path("ca-bundle.crt"),
                        {"--metrics-bind", "127.0.0.1:0", "--expiry-warning-days", "1"});
    CHECK(http_request(base_of(metrics_url_of(later)) + "/readyz").status == 200);
}

TEST_CASE("/readyz fails from when the files become unreadable until a reload succeeds", "[metrics]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("tls.crt"), read_text(pki.path("echo.crt")));
    write_text(dir.file("tls.key"), read_text(pki.path("echo.key")));
    write_text(dir.file("ca.crt"), read_text(pki.path("ca.crt")));
    ServerProcess echo("echo-server", {"--cert-dir", dir.path(), "--reload-interval", "1", "--metrics-bind", "127.0.0.1:0"});
    const std::string readyz = base_of(metrics_url_of(echo)) + "/readyz";
    REQUIRE(http_request(readyz).status == 200);
    REQUIRE(::unlink(dir.file("tls.key").c_str()) == 0);
    REQUIRE(echo.process().wait_for_log("tls_reload_rejected"));
    const auto not_ready = http_request(readyz);
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body.find("could not be loaded") != std::string::npos);
    // Still serving the last good set meanwhile.
    CHECK(curl_mcp(echo.url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body())
              .out.find("HTTP/1.1 200") != std::string::npos);
    write_text(dir.file("tls.key"), read_text(pki.path("echo.key")));
    REQUIRE(echo.process().wait_for_log("tls_reloaded"));
    CHECK(http_request(readyz).status == 200);
}
