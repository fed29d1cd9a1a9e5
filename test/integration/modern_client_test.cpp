// The client in both eras of MCP: against a modern-only server (the official TypeScript SDK v2
// serving 2026-07-28 over HTTPS with a required client certificate, 2025 traffic refused:
// test/bridge/modern-server.mjs), against a 2025-only one (the SDK v1: test/bridge/legacy-server.mjs)
// and against our own servers, which speak both.
#include "test/support/bridge_host.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"
#include "test/support/sdk_servers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <chrono>
#include <thread>

using namespace mcpmtls::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

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
    CHECK(steps[0]["tools"] == nlohmann::json::array({"echo", "confirm", "survey", "touch"}));
    CHECK(steps[1]["text"] == "through");
}

using nlohmann::json;

TEST_CASE("a 2026-07-28 host reaches a 2026-only server through the bridge, its requests as they are", "[modern-client][bridge]") {
    DemoPki pki;
    ModernServer modern(pki);
    BridgeUnderTest bridge(bridge_command(pki, "modern=" + modern.url(), "modern"));
    serve_2026_host(bridge, "modern-fixture", "add", {{"a", 40}, {"b", 2}}, "42");
    // The bridge adds the Mcp-Param-Region header the tool's schema asks for (the SDK refuses
    // the call without it).
    const json weather = bridge.request("tools/call", enveloped({{"name", "weather"}, {"arguments", {{"region", "north"}}}}));
    CHECK(text_of(weather) == "sunny in north");

    // An input-required result reaches the host unchanged, and the host answers it itself.
    const json elicit = {{"elicitation", json::object()}};
    CHECK(deploy_through(bridge, elicit)["requestState"] == "deploy:prod");
    only_json_rpc(bridge);
    // Nothing of the 2025 era reached the server, and no question went to the host.
    CHECK_FALSE(contains(modern.log(), "initialize"));
    for (const auto& message : bridge.seen()) CHECK_FALSE(message.contains("method"));
}

TEST_CASE("a 2026-07-28 host reaches a 2025-only server through the bridge, which opens the session for it",
          "[modern-client][bridge]") {
    DemoPki pki;
    ModernServer legacy(pki, "legacy-server.mjs");
    BridgeUnderTest bridge(bridge_command(pki, "legacy=" + legacy.url(), "legacy"));
    // The session is opened with the capabilities of the host's first request (its discover).
    const json elicit = {{"elicitation", {{"form", json::object()}}}};
    serve_2026_host(bridge, "legacy-fixture", "echo", {{"message", "through"}}, "through", elicit);
    CHECK(contains(legacy.log(), "POST initialize"));
    CHECK(contains(bridge.log(), "protocol_translated"));

    // The server asks for input in the middle of the call, as 2025 servers do: the host gets an
    // input-required result (the call waits upstream), and its retry brings the answer.
    const json asked = bridge.request("tools/call", enveloped({{"name", "confirm"}, {"arguments", json::object()}}, elicit));
    INFO(asked.dump());
    REQUIRE(asked.contains("result"));
    CHECK(asked["result"]["resultType"] == "input_required");
    const json& questions = asked["result"]["inputRequests"];
    REQUIRE(questions.size() == 1);
    const std::string key = questions.begin().key();
    CHECK(questions[key]["method"] == "elicitation/create");
    CHECK(questions[key]["params"]["message"] == "Proceed?");
    const json state = asked["result"]["requestState"];
    REQUIRE(state.is_string());
    const json confirmed = bridge.request(
        "tools/call", enveloped({{"name", "confirm"},
                                 {"arguments", json::object()},
                                 {"inputResponses", {{key, {{"action", "accept"}, {"content", {{"ok", true}}}}}}},
                                 {"requestState", state}},
                                elicit));
    INFO(confirmed.dump());
    CHECK(text_of(confirmed) == "answered: accept");
    CHECK(confirmed["result"]["resultType"] == "complete");
    // A round is answered once.
    const json replayed = bridge.request(
        "tools/call", enveloped({{"name", "confirm"}, {"arguments", json::object()}, {"inputResponses", {{key, {{"action", "accept"}}}}}, {"requestState", state}},
                                elicit));
    CHECK(replayed["error"]["code"] == -32602);
    CHECK(contains(error_of(replayed), "requestState"));
    // Other _meta keys still go along; the host's cancellation is forwarded (202, nothing back).
    const json progress = bridge.request(
        "tools/call", [] {
            json params = enveloped({{"name", "echo"}, {"arguments", {{"message", "with progress"}}}});
            params["_meta"]["progressToken"] = "p1";
            return params;
        }());
    CHECK(text_of(progress) == "with progress");
    bridge.notify("notifications/cancelled", enveloped({{"requestId", 99}, {"reason", "test"}}));
    CHECK(text_of(bridge.call("echo", {{"message", "still here"}})) == "still here");
    CHECK(contains(legacy.log(), "POST notifications/cancelled"));  // posted before the next line was read
    only_json_rpc(bridge);
    for (const auto& message : bridge.seen()) CHECK_FALSE((message.contains("method") && message.contains("id")));
}

TEST_CASE("a 2025-only server's questions in the middle of a call become input rounds for a 2026-07-28 host",
          "[modern-client][bridge]") {
    DemoPki pki;
    ModernServer legacy(pki, "legacy-server.mjs");
    BridgeUnderTest bridge(bridge_command(pki, "legacy=" + legacy.url(), "legacy"));
    const json capabilities = {{"elicitation", {{"form", json::object()}}}, {"sampling", json::object()}, {"roots", json::object()}};
    const json survey = enveloped({{"name", "survey"}, {"arguments", json::object()}}, capabilities);
    const auto retry = [&](const json& round, const json& answers) {
        json params = survey;
        params["inputResponses"] = answers;
        params["requestState"] = round["result"]["requestState"];
        return params;
    };
    const auto key_of = [](const json& round) { return round["result"]["inputRequests"].begin().key(); };

    const json first = bridge.request("tools/call", survey);
    INFO(first.dump());
    REQUIRE(first["result"]["resultType"] == "input_required");
    CHECK(first["result"]["inputRequests"][key_of(first)]["method"] == "elicitation/create");

    // Bad retries are refused, and the question stands: a forged state, an answer to a question
    // never asked, another tool with this call's state.
    json forged = retry(first, {{key_of(first), {{"action", "accept"}}}});
    forged["requestState"] = "forged";
    CHECK(bridge.request("tools/call", forged)["error"]["code"] == -32602);
    const json stray = bridge.request("tools/call", retry(first, {{"never-asked", {{"action", "accept"}}}}));
    CHECK(stray["error"]["code"] == -32602);
    CHECK(contains(error_of(stray), "never-asked"));
    json other_tool = retry(first, {{key_of(first), {{"action", "accept"}}}});
    other_tool["name"] = "echo";
    CHECK(contains(error_of(bridge.request("tools/call", other_tool)), "survey"));
    // A retry without the answer gets the same question again.
    const json again = bridge.request("tools/call", retry(first, json::object()));
    CHECK(again["result"]["inputRequests"] == first["result"]["inputRequests"]);

    const json second = bridge.request("tools/call", retry(first, {{key_of(first), {{"action", "accept"}, {"content", {{"name", "ada"}}}}}}));
    INFO(second.dump());
    REQUIRE(second["result"]["resultType"] == "input_required");
    CHECK(second["result"]["inputRequests"][key_of(second)]["method"] == "sampling/createMessage");
    CHECK(second["result"]["requestState"] != first["result"]["requestState"]);
    const json sampled = {{"role", "assistant"}, {"model", "test"}, {"content", {{"type", "text"}, {"text", "blue"}}}};
    const json third = bridge.request("tools/call", retry(second, {{key_of(second), sampled}}));
    INFO(third.dump());
    REQUIRE(third["result"]["resultType"] == "input_required");
    CHECK(third["result"]["inputRequests"][key_of(third)]["method"] == "roots/list");
    const json roots = {{"roots", {{{"uri", "file:///srv/data"}, {"name", "data"}}}}};
    const json done = bridge.request("tools/call", retry(third, {{key_of(third), roots}}));
    INFO(done.dump());
    CHECK(text_of(done) == "ada|blue|file:///srv/data");
    CHECK(done["result"]["resultType"] == "complete");

    // Calls park side by side: two surveys, answered in the other order.
    const json a = bridge.request("tools/call", survey);
    const json b = bridge.request("tools/call", survey);
    REQUIRE(b["result"]["resultType"] == "input_required");
    const json b_next = bridge.request("tools/call", retry(b, {{key_of(b), {{"action", "decline"}}}}));
    const json a_next = bridge.request("tools/call", retry(a, {{key_of(a), {{"action", "accept"}, {"content", {{"name", "bo"}}}}}}));
    for (const json& next : {a_next, b_next}) {
        INFO(next.dump());
        REQUIRE(next["result"]["resultType"] == "input_required");
        CHECK(next["result"]["inputRequests"][key_of(next)]["method"] == "sampling/createMessage");
    }
    const json b_roots = bridge.request("tools/call", retry(b_next, {{key_of(b_next), sampled}}));
    CHECK(text_of(bridge.request("tools/call", retry(b_roots, {{key_of(b_roots), {{"roots", json::array()}}}}))) == "undefined|blue|");
    only_json_rpc(bridge);
    // The bridge asked the host nothing itself: every question went as a result.
    for (const auto& message : bridge.seen()) CHECK_FALSE((message.contains("method") && message.contains("id")));
}

TEST_CASE("a 2026-07-28 host listens to a 2025-only server's standalone stream through subscriptions/listen",
          "[modern-client][bridge]") {
    DemoPki pki;
    ModernServer legacy(pki, "legacy-server.mjs");
    BridgeUnderTest bridge(bridge_command(pki, "legacy=" + legacy.url(), "legacy"));
    CHECK(bridge.request("server/discover", enveloped()).contains("result"));
    // Asked for: tools, prompts (the server has none to change) and two resources' updates.
    const json filter = {{"toolsListChanged", true}, {"promptsListChanged", true}, {"resourceSubscriptions", {"note://one", "note://two"}}};
    bridge.process().write_line(
        json{{"jsonrpc", "2.0"}, {"id", "listen-1"}, {"method", "subscriptions/listen"}, {"params", enveloped({{"notifications", filter}})}}.dump());
    const json acknowledged = bridge.notification("notifications/subscriptions/acknowledged");
    INFO(acknowledged.dump());
    CHECK(acknowledged["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1");
    const json honored = acknowledged["params"]["notifications"];
    CHECK(honored.value("toolsListChanged", false));
    CHECK_FALSE(honored.contains("promptsListChanged"));  // the server does not say it sends it
    CHECK(honored["resourceSubscriptions"] == json::array({"note://one", "note://two"}));
    CHECK(contains(legacy.log(), "POST resources/subscribe"));

    CHECK(text_of(bridge.request("tools/call", enveloped({{"name", "touch"}, {"arguments", json::object()}}))) == "touched");
    const json updated = bridge.notification("notifications/resources/updated");
    INFO(updated.dump());
    CHECK(updated["params"]["uri"] == "note://one");
    CHECK(updated["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1");
    const json tools_changed = bridge.notification("notifications/tools/list_changed");
    CHECK(tools_changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1");
    // Not asked for: resources/list_changed stays behind.
    CHECK(bridge.notification("notifications/resources/list_changed", std::chrono::milliseconds(500)).is_null());

    // Cancelled: the bridge forgets the listener (the server never knew its id), and nothing more comes.
    bridge.notify("notifications/cancelled", enveloped({{"requestId", "listen-1"}}));
    CHECK(text_of(bridge.request("tools/call", enveloped({{"name", "touch"}, {"arguments", json::object()}}))) == "touched");
    CHECK(bridge.notification("notifications/resources/updated", std::chrono::milliseconds(500)).is_null());
    CHECK_FALSE(contains(legacy.log(), "POST notifications/cancelled"));
    // No listen request is ever answered, and a bad filter is refused.
    CHECK(bridge.request("subscriptions/listen", enveloped({{"notifications", "all"}}))["error"]["code"] == -32602);
    for (const auto& message : bridge.seen()) CHECK(message.value("id", json()) != "listen-1");
    only_json_rpc(bridge);
}

TEST_CASE("a 2025 host subscribes to a 2026-only server's resources through the bridge, which listens for it",
          "[modern-client][bridge]") {
    DemoPki pki;
    ModernServer modern(pki);
    BridgeUnderTest bridge(bridge_command(pki, "modern=" + modern.url(), "modern"));
    const json initialized = bridge.initialize();  // and notifications/initialized: the stream opens
    INFO(initialized.dump());
    CHECK(initialized["result"]["capabilities"]["resources"].value("subscribe", false));
    // Opened for the list changes the server announces, before any subscription.
    for (int i = 0; i < 100 && !contains(modern.log(), "subscriptions/listen"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(contains(modern.log(), "subscriptions/listen"));

    CHECK(bridge.request("resources/subscribe", {{"uri", "note://one"}}) == json{{"jsonrpc", "2.0"}, {"id", 2}, {"result", json::object()}});
    CHECK(text_of(bridge.call("touch", json::object())) == "touched");
    const json updated = bridge.notification("notifications/resources/updated");
    INFO(updated.dump());
    CHECK(updated["params"]["uri"] == "note://one");
    CHECK_FALSE(updated["params"].contains("_meta"));  // the 2026 subscription id is the bridge's business
    CHECK(bridge.notification("notifications/tools/list_changed").is_object());

    // Unsubscribed: the list changes still come, the note's updates no more.
    CHECK(bridge.request("resources/unsubscribe", {{"uri", "note://one"}}).contains("result"));
    CHECK(text_of(bridge.call("touch", json::object())) == "touched");
    CHECK(bridge.notification("notifications/tools/list_changed").is_object());
    CHECK(bridge.notification("notifications/resources/updated", std::chrono::milliseconds(500)).is_null());
    CHECK(bridge.request("resources/subscribe", json::object())["error"]["code"] == -32602);
    // 2026-07-28 has no resources/subscribe: none reached the server.
    CHECK_FALSE(contains(modern.log(), "resources/subscribe"));
    only_json_rpc(bridge);
}

TEST_CASE("a 2026-07-28 host reaches our servers (both eras) through the bridge, one server or --all",
          "[modern-client][bridge]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    {
        BridgeUnderTest bridge(bridge_command(pki, "echo=" + echo.url(), "echo"));
        serve_2026_host(bridge, "echo-server", "echo", {{"message", "new era"}}, "new era");
        // A version the bridge does not speak: the 2026-07-28 error, with what it does speak.
        const json other = bridge.request("tools/list", enveloped(json::object(), json::object(), "2099-01-01"));
        CHECK(other["error"]["code"] == -32022);
        CHECK(other["error"]["data"]["supported"] == json::array({"2026-07-28"}));
        only_json_rpc(bridge);
        CHECK_FALSE(contains(bridge.log(), "protocol_translated"));  // both speak 2026-07-28
    }

    // --all serves it too (test/integration/bridge_all_modern_test.cpp has the rest).
    BridgeUnderTest aggregate(bridge_command(pki, "echo=" + echo.url(), "--all"));
    serve_2026_host(aggregate, "mcp-mtls-bridge", "echo", {{"message", "all of them"}}, "all of them");
    only_json_rpc(aggregate);
}

TEST_CASE("the SDK v2 client as a 2026-07-28 host runs the bridge over stdio, to servers of either era",
          "[modern-client][bridge][sdk]") {
    DemoPki pki;
    ModernServer modern(pki);
    ModernServer legacy(pki, "legacy-server.mjs");
    SdkHost host;
    const auto run = [&](const std::string& server, const std::string& name, const std::string& tool, const json& arguments) {
        return sdk2_stdio_host(host, tool, arguments, bridge_command(pki, server, name));
    };
    // The SDK answers the server's input-required result itself (its elicitation handler), through the bridge.
    const json deployed = run("modern=" + modern.url(), "modern", "deploy", {{"env", "prod"}});
    CHECK(deployed["result"]["content"][0]["text"] == "deployed to prod");
    CHECK_FALSE(contains(modern.log(), "initialize"));
    const json echoed = run("legacy=" + legacy.url(), "legacy", "echo", {{"message", "from 2026"}});
    CHECK(echoed["result"]["content"][0]["text"] == "from 2026");
    CHECK(echoed["tools"] == json::array({"echo", "confirm", "survey", "touch"}));
    // The 2025 server's elicitation in the middle of the call reaches the SDK as an input-required
    // result, which it answers (accept) by retrying through the bridge.
    CHECK(run("legacy=" + legacy.url(), "legacy", "confirm", json::object())["result"]["content"][0]["text"] == "answered: accept");
    ServerProcess ours(pki, "echo");
    CHECK(run("echo=" + ours.url(), "echo", "echo", {{"message", "both eras"}})["result"]["content"][0]["text"] == "both eras");
}
