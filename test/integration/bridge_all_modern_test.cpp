// `client bridge --all` as the one MCP server of a host that speaks 2026-07-28 (no initialize:
// server/discover first, a _meta envelope on every request), over servers of every kind at once:
// ours (both eras), the SDK v2's 2026-only fixture and the SDK v1's 2025-only one. The host is the
// test itself, one JSON-RPC line at a time, and then the SDK v2 client over stdio.
#include "test/support/bridge_host.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"
#include "test/support/sdk_servers.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Our echo server, the 2026-only fixture and the 2025-only one, as --server specs.
struct ThreeServers {
    explicit ThreeServers(const DemoPki& pki) : echo(pki, "echo"), modern(pki), legacy(pki, "legacy-server.mjs") {}
    std::vector<std::string> specs() const { return {"echo=" + echo.url(), "modern=" + modern.url(), "legacy=" + legacy.url()}; }
    ServerProcess echo;
    ModernServer modern;
    ModernServer legacy;
};

std::vector<std::string> tool_names(const json& listed) {
    std::vector<std::string> names;
    for (const auto& entry : listed.value("result", json::object()).value("tools", json::array())) names.push_back(entry["name"]);
    return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) { return std::find(names.begin(), names.end(), name) != names.end(); }

}  // namespace

TEST_CASE("client bridge --all serves a 2026-07-28 host: every server's tools, calls to each, input-required through",
          "[bridge-all-modern][bridge]") {
    DemoPki pki;
    ThreeServers servers(pki);
    BridgeUnderTest bridge(bridge_command(pki, servers.specs(), "--all"));
    const json elicit = {{"elicitation", json::object()}};
    // discover (the bridge's own serverInfo), tools/list with the caching hints, a call to the
    // 2026-only server, an unknown tool refused by the bridge.
    serve_2026_host(bridge, "mcp-mtls-bridge", "add", {{"a", 40}, {"b", 2}}, "42", elicit);
    INFO("the bridge's log: " << bridge.log());

    const json listed = bridge.request("tools/list", enveloped(json::object(), elicit));
    const auto names = tool_names(listed);
    INFO(listed.dump());
    // Two servers have an echo tool: each is SERVER.NAME; the others keep their names.
    CHECK(has(names, "echo.echo"));
    CHECK(has(names, "legacy.echo"));
    CHECK_FALSE(has(names, "echo"));
    CHECK(has(names, "deploy"));
    CHECK(has(names, "confirm"));

    const json ours = bridge.request("tools/call", enveloped({{"name", "echo.echo"}, {"arguments", {{"message", "to ours"}}}}, elicit));
    INFO(ours.dump());
    CHECK(text_of(ours) == "to ours");
    CHECK(ours["result"]["resultType"] == "complete");
    const json legacy = bridge.request("tools/call", enveloped({{"name", "legacy.echo"}, {"arguments", {{"message", "to 2025"}}}}, elicit));
    INFO(legacy.dump());
    CHECK(text_of(legacy) == "to 2025");
    CHECK(legacy["result"]["resultType"] == "complete");
    // The Mcp-Param-Region header the 2026 fixture requires is added on the way.
    const json weather = bridge.request("tools/call", enveloped({{"name", "weather"}, {"arguments", {{"region", "north"}}}}, elicit));
    CHECK(text_of(weather) == "sunny in north");

    // The 2026 server's input-required result reaches the host as it is; the host's retry
    // (inputResponses and the unchanged requestState, which the fixture checks) completes.
    deploy_through(bridge, elicit);

    // The 2025 server's question in the middle of a call: an input round of the bridge's own,
    // its retry routed to the same server by the tool's name.
    const json confirm = enveloped({{"name", "confirm"}, {"arguments", json::object()}}, elicit);
    const json round = bridge.request("tools/call", confirm);
    INFO(round.dump());
    REQUIRE(round["result"]["resultType"] == "input_required");
    const std::string key = round["result"]["inputRequests"].begin().key();
    CHECK(round["result"]["inputRequests"][key]["method"] == "elicitation/create");
    json answered = confirm;
    answered["inputResponses"] = {{key, {{"action", "decline"}}}};
    answered["requestState"] = round["result"]["requestState"];
    CHECK(text_of(bridge.request("tools/call", answered)) == "answered: decline");

    // Subscriptions and list changes, as the discover result says, through subscriptions/listen:
    // each resource subscribed to at its owner of either era, its updates under the host's URI.
    const json discovered = bridge.request("server/discover", enveloped(json::object(), elicit));
    INFO(discovered.dump());
    CHECK(discovered["result"]["capabilities"]["resources"].value("subscribe", false));
    const json filter = {{"toolsListChanged", true}, {"resourceSubscriptions", {"modern.note://one", "legacy.note://one", "nowhere://x"}}};
    bridge.process().write_line(
        json{{"jsonrpc", "2.0"}, {"id", "all-listen"}, {"method", "subscriptions/listen"}, {"params", enveloped({{"notifications", filter}}, elicit)}}
            .dump());
    const json acknowledged = bridge.notification("notifications/subscriptions/acknowledged");
    INFO(acknowledged.dump());
    CHECK(acknowledged["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "all-listen");
    CHECK(acknowledged["params"]["notifications"]["resourceSubscriptions"] == json::array({"modern.note://one", "legacy.note://one"}));
    CHECK(acknowledged["params"]["notifications"].value("toolsListChanged", false));
    for (const char* server : {"modern", "legacy"}) {
        INFO(server);
        CHECK(text_of(bridge.request("tools/call", enveloped({{"name", std::string(server) + ".touch"}, {"arguments", json::object()}}, elicit))) ==
              "touched");
        const json updated = bridge.notification("notifications/resources/updated");
        INFO(updated.dump());
        CHECK(updated["params"]["uri"] == std::string(server) + ".note://one");
        CHECK(updated["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "all-listen");
    }
    bridge.notify("notifications/cancelled", enveloped({{"requestId", "all-listen"}}, elicit));
    CHECK(text_of(bridge.request("tools/call", enveloped({{"name", "modern.touch"}, {"arguments", json::object()}}, elicit))) == "touched");
    CHECK(bridge.notification("notifications/resources/updated", std::chrono::milliseconds(500)).is_null());

    // Another version: the 2026-07-28 error naming the one served.
    const json other = bridge.request("tools/list", enveloped(json::object(), elicit, "2099-01-01"));
    INFO(other.dump());
    CHECK(other["error"]["code"] == -32022);
    CHECK(other["error"]["data"]["supported"] == json::array({"2026-07-28"}));
    CHECK(other["error"]["data"]["requested"] == "2099-01-01");

    // The 2025 era's methods, and a stream the bridge does not have for this host: a clear -32601.
    for (const char* method : {"resources/subscribe", "logging/setLevel", "initialize"}) {
        INFO(method);
        const json refused = bridge.request(method, enveloped({{"uri", "echo://x"}, {"level", "info"}}, elicit));
        CHECK(refused["error"]["code"] == -32601);
        CHECK(contains(error_of(refused), method));
    }
    CHECK(text_of(bridge.request("tools/call", enveloped({{"name", "add"}, {"arguments", {{"a", 1}, {"b", 1}}}}, elicit))) == "2");

    only_json_rpc(bridge);
    // Nothing was asked of the host (its questions came as input-required results).
    for (const auto& message : bridge.seen()) CHECK_FALSE((message.contains("method") && message.contains("id")));
    CHECK_FALSE(contains(servers.modern.log(), "initialize"));  // the 2026 server heard only 2026-07-28
    CHECK(contains(servers.legacy.log(), "POST initialize"));   // the 2025 one a session opened for the host
}

TEST_CASE("client bridge --all still serves a 2025 host over the same servers", "[bridge-all-modern][bridge]") {
    DemoPki pki;
    ThreeServers servers(pki);
    BridgeUnderTest bridge(bridge_command(pki, servers.specs(), "--all"));
    const json initialized = bridge.request("initialize", {{"protocolVersion", "2025-06-18"},
                                                           {"capabilities", {{"elicitation", json::object()}}},
                                                           {"clientInfo", {{"name", "bridge-test"}, {"version", "1"}}}});
    bridge.notify("notifications/initialized");
    INFO(initialized.dump());
    CHECK(initialized["result"]["protocolVersion"] == "2025-06-18");
    const auto names = tool_names(bridge.request("tools/list"));
    CHECK(has(names, "echo.echo"));
    CHECK(has(names, "legacy.echo"));
    CHECK(has(names, "add"));
    CHECK(text_of(bridge.call("legacy.echo", {{"message", "old era"}})) == "old era");
    CHECK(text_of(bridge.call("add", {{"a", 2}, {"b", 3}})) == "5");  // a 2026-only server, translated
    // The 2026 server's input-required result becomes the bridge's elicitation request to the
    // host, and the call is retried with its answer.
    bridge.process().write_line(
        json{{"jsonrpc", "2.0"}, {"id", "deploy-1"}, {"method", "tools/call"}, {"params", {{"name", "deploy"}, {"arguments", {{"env", "prod"}}}}}}
            .dump());
    const json asked = bridge.host_request("elicitation/create");
    INFO(asked.dump());
    REQUIRE(asked.contains("id"));
    bridge.process().write_line(
        json{{"jsonrpc", "2.0"}, {"id", asked["id"]}, {"result", {{"action", "accept"}, {"content", {{"confirm", true}}}}}}.dump());
    CHECK(text_of(bridge.answer_to("deploy-1")) == "deployed to prod");
    // A resource of the 2026-only server, subscribed to as a 2025 host does: the bridge listens
    // for it (2026-07-28 has no resources/subscribe), and the update comes under the host's URI.
    CHECK(bridge.request("resources/subscribe", {{"uri", "modern.note://one"}}).contains("result"));
    CHECK(text_of(bridge.call("modern.touch", json::object())) == "touched");
    const json updated = bridge.notification("notifications/resources/updated");
    INFO(updated.dump());
    CHECK(updated["params"]["uri"] == "modern.note://one");
    const json discover = bridge.request("server/discover", enveloped());  // after initialize: the 2025 era stays
    CHECK(discover["error"]["code"] == -32601);
    only_json_rpc(bridge);
}

TEST_CASE("the SDK v2 client as a 2026-07-28 host runs client bridge --all over stdio", "[bridge-all-modern][bridge][sdk]") {
    DemoPki pki;
    ThreeServers servers(pki);
    SdkHost host;
    // The SDK answers the 2026 server's input-required result itself (its elicitation handler).
    const json line = sdk2_stdio_host(host, "deploy", {{"env", "prod"}}, bridge_command(pki, servers.specs(), "--all"));
    CHECK(line["result"]["content"][0]["text"] == "deployed to prod");
    const json tools = line.value("tools", json::array());
    CHECK(std::find(tools.begin(), tools.end(), "legacy.echo") != tools.end());
    // The 2025 server's question in the middle of a call, as an input round of the bridge's own.
    const json confirmed = sdk2_stdio_host(host, "confirm", json::object(), bridge_command(pki, servers.specs(), "--all"));
    CHECK(confirmed["result"]["content"][0]["text"] == "answered: accept");
}
