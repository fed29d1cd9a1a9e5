// Logs that stay honest under attack: connections that fail before their client is
// authenticated cost anyone nothing to open, so the server sums them up by their true reason
// instead of writing a line each, while its metrics still count every one.
#include "test/support/cluster.hpp"
#include "test/support/raw_tls.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using namespace mcpmtls::testing;
using namespace std::chrono_literals;

namespace {

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// Runs `connect` `times` times on a few threads (the machine is small; the server's workers do
// the real work).
void repeat(int times, const std::function<void()>& connect) {
    constexpr int kThreads = 4;
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            while (next.fetch_add(1) < times) connect();
        });
    for (auto& thread : threads) thread.join();
}

// The handshakes_failed counts of a JSON log, by code (the verifier's class for refusals).
std::map<std::string, long long> summed_failures(const std::string& log) {
    std::map<std::string, long long> counts;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        const auto event = nlohmann::json::parse(line);
        if (event["event"] != "handshakes_failed") continue;
        const std::string code = event.contains("code") ? event["code"].get<std::string>() : event["reason"].get<std::string>();
        counts[code] += event["count"].get<long long>();
    }
    return counts;
}

long long rejected(const std::string& metrics, const std::string& reason) {
    const long long value = metric_value(metrics, R"(mcp_mtls_handshakes_total{verdict="rejected",reason=")" + reason + "\"}");
    return value < 0 ? 0 : value;
}

}  // namespace

TEST_CASE("3,000 unauthenticated connections write a few summary lines with true reasons, and are all counted", "[log-flood]") {
    DemoPki pki;
    DemoPki stranger;  // another CA: its coordinator certificate is refused
    ServerProcess echo(pki, "echo",
                       {"--log-format", "json", "--metrics-bind", "127.0.0.1:0", "--handshake-timeout", "1",
                        "--max-handshakes-per-source", "2000"});
    const std::string metrics = metrics_url_of(echo);
    const size_t lines_before = line_count(echo.log());
    constexpr int kEach = 1000;

    // Silent: half closed by the client at once, half left open until the server gives up on them.
    repeat(kEach / 2, [&] { TcpConnection closed(echo.port()); });
    {
        std::vector<std::unique_ptr<TcpConnection>> silent;
        for (int i = 0; i < kEach / 2; ++i) silent.push_back(std::make_unique<TcpConnection>(echo.port()));
        for (auto& connection : silent) CHECK(connection->closed_by_server_within(10s));
    }
    // Plain HTTP to the TLS port.
    std::atomic<int> answered_in_plain{0};
    repeat(kEach, [&] {
        TcpConnection http(echo.port());
        http.send("GET /mcp HTTP/1.1\r\nHost: localhost\r\n\r\n");
        if (http.receive(5s).find("HTTP/") != std::string::npos) ++answered_in_plain;
    });
    CHECK(answered_in_plain.load() == 0);
    // A certificate from another CA.
    std::atomic<int> refused{0};
    repeat(kEach, [&] {
        if (handshake_refused(stranger.path("coordinator.crt"), stranger.path("coordinator.key"), echo.port())) ++refused;
    });
    CHECK(refused.load() == kEach);

    // Every one is counted, by its reason.
    std::string scraped;
    for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(200ms)) {
        scraped = http_request(metrics).body;
        if (rejected(scraped, "peer_closed") + rejected(scraped, "silent_timeout") + rejected(scraped, "not_tls") +
                rejected(scraped, "issuer") >= 3 * kEach)
            break;
    }
    INFO(scraped);
    CHECK(rejected(scraped, "peer_closed") == kEach / 2);
    CHECK(rejected(scraped, "silent_timeout") == kEach / 2);
    CHECK(rejected(scraped, "not_tls") == kEach);
    CHECK(rejected(scraped, "issuer") == kEach);

    REQUIRE(echo.process().stop() == 0);  // the last summaries are written as the server stops
    const std::string log = echo.log();
    INFO(log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
    CHECK(line_count(log) - lines_before <= 40);
    const auto summed = summed_failures(log);
    CHECK(summed.at("peer_closed") == kEach / 2);
    CHECK(summed.at("silent_timeout") == kEach / 2);
    CHECK(summed.at("not_tls") == kEach);
    CHECK(summed.at("issuer") == kEach);
    // Each with its words, and the first of each with who it was.
    CHECK(log.find("the client closed the connection before sending anything") != std::string::npos);
    CHECK(log.find("the client sent nothing within --handshake-timeout") != std::string::npos);
    CHECK(log.find("not TLS: the client spoke plain text (HTTP?) to the TLS port") != std::string::npos);
    CHECK(log.find("\"reason\":\"issuer not found\"") != std::string::npos);
    CHECK(log.find("decode error") == std::string::npos);
}

TEST_CASE("a handshake alert, no certificate and an early close are each told as what they are", "[log-flood]") {
    DemoPki pki;
    DemoPki stranger;
    ServerProcess echo(pki, "echo", {"--metrics-bind", "127.0.0.1:0"});
    // The client refuses our certificate (it trusts another CA): its alert is the reason.
    CHECK(curl_mcp(echo.url(), stranger.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                   initialize_body()).exit_code != 0);
    CHECK(echo.process().wait_for_log("reason=\"the client sent TLS alert: unknown CA\""));
    CHECK(curl_mcp(echo.url(), pki.path("ca.crt"), "", "", initialize_body()).exit_code != 0);
    CHECK(echo.process().wait_for_log("reason=\"no client certificate\""));
    {
        TcpConnection half(echo.port());
        half.send(std::string("\x16\x03\x01\x00\x80", 5));  // a TLS record header, then nothing
    }
    CHECK(echo.process().wait_for_log("reason=\"the client closed the connection during the handshake\""));
    const std::string scraped = http_request(metrics_url_of(echo)).body;
    CHECK(rejected(scraped, "tls_alert_received") == 1);
    CHECK(rejected(scraped, "no_certificate") == 1);
    CHECK(rejected(scraped, "peer_closed_in_handshake") == 1);
}
