// A fleet that renews itself: pki serve, the three servers and a laptop's bridge, each enrolled
// with a one-time token, each on short certificates with --renew-from, under continuous load.
// `make test` runs the short form (150 s on one-minute certificates); `make soak` the long one
// (MCPMTLS_FLEET_SECONDS=600, MCPMTLS_FLEET_TTL=2m).
#include "common/strings.hpp"
#include "test/support/online_ca.hpp"
#include "test/support/stdio_process.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string setting(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

// One MCP request through the bridge's stdio; false when it failed or no answer came.
class BridgeHost {
public:
    explicit BridgeHost(StdioProcess& bridge) : bridge_(bridge) {}
    bool request(const std::string& method, const json& params, std::string* failure = nullptr) {
        const int id = ++last_id_;
        bridge_.write_line(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
        while (auto line = bridge_.read_line(20s)) {
            const auto message = json::parse(*line, nullptr, false);
            if (!message.is_object() || message.value("id", -1) != id) continue;
            const bool ok = !message.contains("error") && !message["result"].value("isError", false);
            if (!ok && failure) *failure = message.dump();
            return ok;
        }
        if (failure) *failure = method + ": no answer within 20 s";
        return false;
    }

private:
    StdioProcess& bridge_;
    int last_id_ = 0;
};

size_t occurrences(const std::string& text, const std::string& what) {
    size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++count;
    return count;
}

}  // namespace

TEST_CASE("a fleet on short certificates renews itself under load: no failed call, every member renewed, the log intact",
          "[fleet][slow]") {
    const auto duration = std::chrono::seconds(std::stol(setting("MCPMTLS_FLEET_SECONDS", "150")));
    const std::string ttl = setting("MCPMTLS_FLEET_TTL", "1m");
    const auto lifetime = parse_duration(ttl);
    // Each member renews at two thirds of its lifetime (give or take 5%): this many times at
    // least, one fewer than the period allows, for the start-up and a late first renewal.
    const long expected = std::max<long>(1, static_cast<long>(duration.count() / (lifetime.count() * 0.72)) - 1);
    INFO("duration " << duration.count() << " s, certificates of " << ttl << ", at least " << expected << " renewals each");

    DemoPki pki;
    OnlineCaProcess ca(pki, {"--max-ttl", "1h"});
    TempDir fleet;
    auto enroll = [&](const std::string& kind, const std::string& name) {
        std::vector<std::string> token_args{kind, name, "--ttl", ttl};
        if (kind == "server") token_args.insert(token_args.end(), {"--dns", "localhost", "--ip", "127.0.0.1"});
        const std::string token = ca.token(token_args);
        const std::string dir = fleet.file(name);
        const auto enrolled = run_command({bin_path("client"), "enroll", "--ca-url", ca.url(), "--token", token, "--out-dir",
                                           dir, "--ca", pki.path("ca-bundle.crt")});
        INFO(enrolled.all());
        REQUIRE(enrolled.exit_code == 0);
        return dir;
    };

    const std::vector<std::string> services{"weather", "datetime", "echo"};
    std::vector<std::unique_ptr<ServerProcess>> servers;
    for (const auto& service : services)
        servers.push_back(std::make_unique<ServerProcess>(
            service + "-server",
            std::vector<std::string>{"--cert-dir", enroll("server", service), "--renew-from", ca.url(), "--metrics-bind", "127.0.0.1:0"}));
    std::vector<std::string> bridge_argv{bin_path("client"), "--cert-dir", enroll("client", "laptop"), "--renew-from", ca.url()};
    for (size_t i = 0; i < services.size(); ++i) bridge_argv.insert(bridge_argv.end(), {"--server", services[i] + "=" + servers[i]->url()});
    bridge_argv.insert(bridge_argv.end(), {"bridge", "--all"});
    StdioProcess bridge(bridge_argv, fleet.file("bridge.log"));
    BridgeHost host(bridge);
    REQUIRE(host.request("initialize", {{"protocolVersion", "2025-11-25"},
                                        {"capabilities", json::object()},
                                        {"clientInfo", {{"name", "fleet-test"}, {"version", "1"}}}}));
    bridge.write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");

    // A coordinator on a certificate that does not change keeps its connection to echo open
    // across echo's renewals, beside the bridge's calls to every server.
    EchoLoad steady(servers[2]->url(), pki.path("ca-bundle.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"));
    const std::vector<std::pair<std::string, json>> calls{
        {"get_current_weather", {{"city", "Paris"}}},
        {"get_current_time", {{"timezone", "Europe/Paris"}}},
        {"echo", {{"message", "fleet"}}},
    };
    int made = 0;
    std::vector<std::string> failures;
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
        const auto& [tool, arguments] = calls[made % calls.size()];
        std::string failure;
        if (!host.request("tools/call", {{"name", tool}, {"arguments", arguments}}, &failure)) failures.push_back(tool + ": " + failure);
        ++made;
        std::this_thread::sleep_for(200ms);
    }
    REQUIRE(steady.progress(5));
    steady.stop();

    CHECK(failures.empty());
    for (size_t i = 0; i < failures.size() && i < 5; ++i) WARN(failures[i]);
    CHECK(made > duration.count() * 3);
    CHECK(steady.failures().empty());
    for (size_t i = 0; i < servers.size(); ++i) {
        const auto metrics = http_request(metrics_url_of(*servers[i]));
        INFO(services[i] << "\n" << servers[i]->log());
        CHECK(metric_value(metrics.body, R"(mcp_mtls_renewals_total{result="ok"})") >= expected);
        CHECK(metric_value(metrics.body, R"(mcp_mtls_renewals_total{result="failed"})") == 0);
    }
    INFO(bridge.log());
    CHECK(static_cast<long>(occurrences(bridge.log(), "certificate_renewed")) >= expected);

    const auto verified = pki.pki({"log", "verify"});
    INFO(verified.all());
    CHECK(verified.exit_code == 0);
    CHECK(verified.out.find("index.json agrees") != std::string::npos);
    CHECK(ca.process().running());
}
