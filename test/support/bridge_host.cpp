#include "test/support/bridge_host.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

namespace mcpmtls::testing {

using json = nlohmann::json;

BridgeUnderTest::BridgeUnderTest(std::vector<std::string> argv) : process_(std::move(argv), logs_.file("bridge.log")) {}

json BridgeUnderTest::request(const std::string& method, json params, std::chrono::milliseconds wait) {
    const long id = next_id_++;
    process_.write_line(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}}.dump());
    return answer_to(id, wait);
}

json BridgeUnderTest::answer_to(const json& id, std::chrono::milliseconds wait) {
    return take([&id](const json& message) { return message.is_object() && message.value("id", json()) == id && !message.contains("method"); },
                wait);
}

json BridgeUnderTest::notification(const std::string& method, std::chrono::milliseconds wait) {
    return take([&method](const json& message) { return message.is_object() && message.value("method", "") == method && !message.contains("id"); },
                wait);
}

json BridgeUnderTest::host_request(const std::string& method, std::chrono::milliseconds wait) {
    return take([&method](const json& message) { return message.is_object() && message.value("method", "") == method && message.contains("id"); },
                wait);
}

json BridgeUnderTest::take(const std::function<bool(const json&)>& wanted, std::chrono::milliseconds wait) {
    for (auto it = seen_.begin(); it != seen_.end(); ++it)
        if (wanted(*it)) {
            json message = *it;
            seen_.erase(it);
            return message;
        }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = process_.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
        if (!line) break;
        json message = json::parse(*line, nullptr, false);
        if (wanted(message)) return message;
        seen_.push_back(message);
    }
    return json();
}

void BridgeUnderTest::notify(const std::string& method, json params) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) message["params"] = std::move(params);
    process_.write_line(message.dump());
}

json BridgeUnderTest::initialize() {
    json answer = request("initialize", {{"protocolVersion", "2025-06-18"},
                                         {"capabilities", json::object()},
                                         {"clientInfo", {{"name", "bridge-test"}, {"version", "1"}}}});
    notify("notifications/initialized");
    return answer;
}

json BridgeUnderTest::call(const std::string& tool, json arguments) {
    return request("tools/call", {{"name", tool}, {"arguments", std::move(arguments)}});
}

std::string text_of(const json& answer) {
    if (!answer.contains("result")) return "";
    std::string text;
    for (const auto& block : answer["result"].value("content", json::array())) text += block.value("text", "");
    return text;
}

std::string error_of(const json& answer) { return answer.contains("error") ? answer["error"].value("message", "") : ""; }

std::vector<std::string> bridge_command(const DemoPki& pki, const std::vector<std::string>& servers, const std::string& name) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"), "--key",
                                     pki.path("coordinator.key")};
    for (const auto& server : servers) {
        argv.push_back("--server");
        argv.push_back(server);
    }
    argv.push_back("bridge");
    argv.push_back(name);
    return argv;
}

std::vector<std::string> bridge_command(const DemoPki& pki, const std::string& server, const std::string& name) {
    return bridge_command(pki, std::vector<std::string>{server}, name);
}

json enveloped(json params, json capabilities, const std::string& version) {
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = version;
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = std::move(capabilities);
    params["_meta"]["io.modelcontextprotocol/clientInfo"] = {{"name", "raw-2026-host"}, {"version", "1"}};
    return params;
}

void serve_2026_host(BridgeUnderTest& bridge, const std::string& server_name, const std::string& tool, const json& arguments,
                     const std::string& text, const json& capabilities) {
    const json discover = bridge.request("server/discover", enveloped(json::object(), capabilities));
    INFO(discover.dump());
    INFO("the bridge's log: " << bridge.log());
    REQUIRE(discover.contains("result"));
    const json versions = discover["result"].value("supportedVersions", json::array());
    CHECK(std::find(versions.begin(), versions.end(), "2026-07-28") != versions.end());
    CHECK(discover["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == server_name);
    CHECK(discover["result"]["resultType"] == "complete");
    CHECK(discover["result"]["capabilities"].contains("tools"));

    const json listed = bridge.request("tools/list", enveloped(json::object(), capabilities));
    INFO(listed.dump());
    REQUIRE(listed.contains("result"));
    CHECK(listed["result"]["resultType"] == "complete");
    CHECK(listed["result"]["cacheScope"].is_string());  // the revision requires the caching hints on lists
    CHECK(listed["result"]["ttlMs"].is_number());
    std::vector<std::string> names;
    for (const auto& entry : listed["result"]["tools"]) names.push_back(entry["name"]);
    CHECK(std::find(names.begin(), names.end(), tool) != names.end());

    const json called = bridge.request("tools/call", enveloped({{"name", tool}, {"arguments", arguments}}, capabilities));
    INFO(called.dump());
    CHECK(text_of(called) == text);
    CHECK(called["result"]["resultType"] == "complete");

    // The server's own refusal (an error, or an isError result), or --all's: not a failure to reach one.
    const json unknown = bridge.request("tools/call", enveloped({{"name", "no-such-tool"}, {"arguments", json::object()}}, capabilities));
    INFO(unknown.dump());
    CHECK((error_of(unknown) + text_of(unknown)).find("no-such-tool") != std::string::npos);
    CHECK(unknown.value("error", json::object()).value("code", 0) != -32000);
}

json deploy_through(BridgeUnderTest& bridge, const json& capabilities) {
    const json asked = bridge.request("tools/call", enveloped({{"name", "deploy"}, {"arguments", {{"env", "prod"}}}}, capabilities));
    INFO(asked.dump());
    REQUIRE(asked.contains("result"));
    CHECK(asked["result"]["resultType"] == "input_required");
    CHECK(asked["result"]["inputRequests"]["confirm"]["method"] == "elicitation/create");
    const json retried = bridge.request(
        "tools/call", enveloped({{"name", "deploy"},
                                 {"arguments", {{"env", "prod"}}},
                                 {"inputResponses", {{"confirm", {{"action", "accept"}, {"content", {{"confirm", true}}}}}}},
                                 {"requestState", asked["result"]["requestState"]}},
                                capabilities));
    INFO(retried.dump());
    CHECK(text_of(retried) == "deployed to prod");
    CHECK(retried["result"]["resultType"] == "complete");
    return asked["result"];
}

json sdk2_stdio_host(const SdkHost& host, const std::string& tool, const json& arguments, const std::vector<std::string>& bridge) {
    std::vector<std::string> args = {tool, arguments.dump()};
    args.insert(args.end(), bridge.begin(), bridge.end());
    const auto r = host.run_script("test/modern/sdk2_stdio_host.mjs", args);
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto lines = SdkHost::steps(r.out);
    REQUIRE(lines.size() == 1);
    INFO(lines[0].dump());
    CHECK(lines[0].value("version", "") == "2026-07-28");
    return lines[0];
}

void only_json_rpc(BridgeUnderTest& bridge) {
    CHECK_FALSE(bridge.process().lines().empty());
    for (const auto& line : bridge.process().lines()) {
        INFO(line);
        const json message = json::parse(line, nullptr, false);
        CHECK(message.is_object());
        CHECK(message.value("jsonrpc", "") == "2.0");
    }
}

}  // namespace mcpmtls::testing
