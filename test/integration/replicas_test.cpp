// MCP 2026-07-28 needs no session affinity: three replicas sharing --state-key-file behind HAProxy
// (mode tcp, round robin, so that consecutive connections go to consecutive replicas), a new TLS
// connection per request, and multi-round elicitations whose rounds each land on another replica.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <thread>
#include <nlohmann/json.hpp>

using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

json call(const std::string& url, const DemoPki& pki, json params) {
    params["_meta"] = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                       {"io.modelcontextprotocol/clientCapabilities", {{"elicitation", json::object()}}}};
    const auto r = run_command({"curl", "-sS", "--max-time", "10", "--cacert", pki.path("ca.crt"), "--cert", pki.path("coordinator.crt"),
                                "--key", pki.path("coordinator.key"), "-H", "Content-Type: application/json", "-H", "Accept: application/json",
                                "-H", "MCP-Protocol-Version: 2026-07-28", "-H", "Mcp-Method: tools/call", "-H",
                                "Mcp-Name: " + params["name"].get<std::string>(), url, "-d",
                                json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"}, {"params", params}}.dump()});
    return r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
}

}  // namespace

TEST_CASE("300 stateless calls through HAProxy to three replicas sharing a state key: rounds cross replicas, none fails",
          "[haproxy]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("state.key"), std::string(32, '\x42'));
    std::vector<std::unique_ptr<ServerProcess>> replicas;
    for (int i = 0; i < 3; ++i)
        replicas.push_back(std::make_unique<ServerProcess>("everything-server", pki.path("echo.crt"), pki.path("echo.key"),
                                                           pki.path("ca-bundle.crt"),
                                                           std::vector<std::string>{"--state-key-file", dir.file("state.key")}));
    const int port = free_tcp_port();
    std::string config = "global\n  maxconn 256\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
                         "frontend mcp\n  bind 127.0.0.1:" + std::to_string(port) + "\n  default_backend replicas\n"
                         "backend replicas\n  balance roundrobin\n";
    for (size_t i = 0; i < replicas.size(); ++i)
        config += "  server r" + std::to_string(i) + " 127.0.0.1:" + std::to_string(replicas[i]->port()) + "\n";
    write_text(dir.file("haproxy.cfg"), config);
    REQUIRE(run_shell("command -v haproxy").exit_code == 0);  // the Makefile's TEST_PACKAGES installs it
    BackgroundProcess haproxy({"haproxy", "-db", "-f", dir.file("haproxy.cfg")}, dir.file("haproxy.log"));
    const std::string url = "https://localhost:" + std::to_string(port) + "/mcp";
    // Wait for the listener.
    for (int i = 0; i < 50 && call(url, pki, {{"name", "test_simple_text"}, {"arguments", json::object()}}).is_null(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));

    int failures = 0, completed = 0;
    const json tool = {{"name", "test_input_required_result_multi_round"}, {"arguments", json::object()}};
    for (int sequence = 0; sequence < 100; ++sequence) {  // three calls each: 300
        const json first = call(url, pki, tool);
        if (!first.contains("result") || first["result"].value("resultType", "") != "input_required") {
            ++failures;
            continue;
        }
        json second_params = tool;
        second_params["inputResponses"] = {{"step1", {{"action", "accept"}, {"content", {{"name", "n" + std::to_string(sequence)}}}}}};
        second_params["requestState"] = first["result"]["requestState"];
        const json second = call(url, pki, second_params);
        if (!second.contains("result") || !second["result"].contains("requestState")) {
            ++failures;
            continue;
        }
        json third_params = tool;
        third_params["inputResponses"] = {{"step2", {{"action", "accept"}, {"content", {{"color", "blue"}}}}}};
        third_params["requestState"] = second["result"]["requestState"];
        const json third = call(url, pki, third_params);
        if (third.contains("result") && third["result"]["content"][0]["text"] == "n" + std::to_string(sequence) + " likes blue") ++completed;
        else ++failures;
    }
    INFO(haproxy.log());
    CHECK(failures == 0);
    CHECK(completed == 100);
    // Round robin spread the rounds: every replica served its share of them.
    for (auto& replica : replicas) {
        const std::string log = replica->log();
        size_t served = 0;
        for (size_t at = log.find("tool=test_input_required_result_multi_round"); at != std::string::npos;
             at = log.find("tool=test_input_required_result_multi_round", at + 1))
            ++served;
        CHECK(served >= 90);
    }
}
