// MCP 2026-07-28 (stateless) and the 2025 era on one endpoint of our real servers, through mutual
// TLS: curl speaking the wire by hand, the official TypeScript SDK v2 client pinned to the new
// revision, replicas sharing --state-key-file, and the flag's refusals.
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>

using namespace mcpmtls::testing;
using nlohmann::json;

namespace {

constexpr const char* kModern = "2026-07-28";

json envelope() {
    return {{"io.modelcontextprotocol/protocolVersion", kModern},
            {"io.modelcontextprotocol/clientCapabilities", {{"elicitation", json::object()}}},
            {"io.modelcontextprotocol/clientInfo", {{"name", "curl"}, {"version", "1"}}}};
}

using Answer = HttpReply;

// One modern request with curl through mutual TLS: the standard headers from the body, then
// `extra` (which may contradict them).
Answer modern_post(const ServerProcess& server, const DemoPki& pki, const std::string& method, json params,
                   std::vector<std::string> extra = {}) {
    params["_meta"] = envelope();
    std::vector<std::pair<std::string, std::string>> fields = {{"MCP-Protocol-Version", kModern}, {"Mcp-Method", method}};
    if (params.contains("name")) fields.emplace_back("Mcp-Name", params["name"].get<std::string>());
    for (size_t i = 0; i + 1 < extra.size(); i += 2) {  // "-H", "Name: value" pairs replace the defaults
        const std::string field = extra[i + 1];
        const std::string name = field.substr(0, field.find(':'));
        fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; }), fields.end());
        fields.emplace_back(name, field.substr(field.find(':') + 2));
    }
    std::vector<std::string> headers;
    for (const auto& [name, value] : fields) headers.insert(headers.end(), {"-H", name + ": " + value});
    const auto r = curl_mcp(server.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                            json{{"jsonrpc", "2.0"}, {"id", 5}, {"method", method}, {"params", params}}.dump(), headers);
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    return parse_http_reply(r.out);
}

}  // namespace

TEST_CASE("one endpoint serves a 2025 session and stateless 2026-07-28 requests side by side", "[modern]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto init = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body());
    REQUIRE(init.exit_code == 0);
    CHECK(std::regex_search(init.out, std::regex("[Mm]cp-[Ss]ession-[Ii]d: [0-9a-f]+")));

    const Answer discover = modern_post(echo, pki, "server/discover", json::object());
    CHECK(discover.status == 200);
    CHECK(discover.body["result"]["supportedVersions"][0] == kModern);
    const Answer call = modern_post(echo, pki, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "hi"}}}});
    CHECK(call.status == 200);
    CHECK(call.body["result"]["resultType"] == "complete");
    CHECK(call.body["result"]["structuredContent"]["message"] == "hi");
}

TEST_CASE("stateless requests with bad envelopes or headers get their error and status over TLS, and the server lives on", "[modern]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto code = [](const Answer& a) { return a.body.contains("error") ? a.body["error"]["code"].get<int>() : 0; };
    const Answer mismatch = modern_post(echo, pki, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "x"}}}}, {"-H", "Mcp-Name: other"});
    CHECK(mismatch.status == 400);
    CHECK(code(mismatch) == -32020);
    const Answer wrong_method = modern_post(echo, pki, "tools/list", json::object(), {"-H", "Mcp-Method: prompts/list"});
    CHECK(wrong_method.status == 400);
    CHECK(code(wrong_method) == -32020);
    const Answer removed = modern_post(echo, pki, "ping", json::object());
    CHECK(removed.status == 404);
    CHECK(code(removed) == -32601);
    const Answer forged = modern_post(echo, pki, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "x"}}}, {"requestState", "AAAA"}});
    CHECK(code(forged) == -32602);
    // Missing envelope: the header says 2026-07-28, the body has no _meta.
    const auto bare = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                               R"({"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}})",
                               {"-H", std::string("MCP-Protocol-Version: ") + kModern, "-H", "Mcp-Method: tools/list"});
    CHECK(bare.out.find(" 400") != std::string::npos);
    CHECK(bare.out.find("-32602") != std::string::npos);
    CHECK(modern_post(echo, pki, "tools/list", json::object()).status == 200);
}

TEST_CASE("replicas sharing --state-key-file continue each other's multi-round elicitations", "[modern]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("state.key"), std::string(32, '\x5a'));
    ServerProcess a("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), {"--state-key-file", dir.file("state.key")});
    ServerProcess b("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), {"--state-key-file", dir.file("state.key")});
    ServerProcess lone("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    CHECK(a.log().find("state_key_random") == std::string::npos);
    CHECK(lone.log().find("state_key_random") != std::string::npos);

    const json tool = {{"name", "test_input_required_result_multi_round"}, {"arguments", json::object()}};
    const Answer first = modern_post(a, pki, "tools/call", tool);
    REQUIRE(first.body["result"]["resultType"] == "input_required");
    json second_params = tool;
    second_params["inputResponses"] = {{"step1", {{"action", "accept"}, {"content", {{"name", "ada"}}}}}};
    second_params["requestState"] = first.body["result"]["requestState"];
    const Answer second = modern_post(b, pki, "tools/call", second_params);
    REQUIRE(second.body["result"]["resultType"] == "input_required");
    json third_params = tool;
    third_params["inputResponses"] = {{"step2", {{"action", "accept"}, {"content", {{"color", "red"}}}}}};
    third_params["requestState"] = second.body["result"]["requestState"];
    const Answer third = modern_post(a, pki, "tools/call", third_params);
    CHECK(third.body["result"]["content"][0]["text"] == "ada likes red");
    // A replica with another key refuses the state.
    const Answer foreign = modern_post(lone, pki, "tools/call", third_params);
    CHECK(foreign.body["error"]["code"] == -32602);
    CHECK(foreign.body["error"]["message"].get<std::string>().find("another key") != std::string::npos);
}

TEST_CASE("--state-key-file refuses a key of the wrong size or an unreadable file with one line and exit 2", "[modern]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("short.key"), "too short");
    for (const std::string& file : {dir.file("short.key"), dir.file("absent.key")}) {
        const auto r = run_command({bin_path("echo-server"), "--port", "0", "--cert", pki.path("echo.crt"), "--key", pki.path("echo.key"),
                                    "--ca", pki.path("ca-bundle.crt"), "--state-key-file", file});
        INFO(r.all());
        CHECK(r.exit_code == 2);
        CHECK(r.all().find("state key file") != std::string::npos);
    }
}

TEST_CASE("the TypeScript SDK v2 client pinned to 2026-07-28 lists and calls tools on our servers through mutual TLS", "[modern]") {
    DemoPki pki;
    SdkHost host;
    ServerProcess everything("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    ServerProcess echo(pki, "echo");
    auto run = [&](const ServerProcess& server, const std::string& tool, const json& arguments, const json& elicit) {
        const auto r = host.run_script("test/modern/sdk2_client.mjs",
                                       {server.url(), pki.path("coordinator.crt"), pki.path("coordinator.key"), pki.path("ca.crt"), tool,
                                        arguments.dump(), elicit.dump()});
        INFO(r.all());
        REQUIRE(r.exit_code == 0);
        const auto steps = SdkHost::steps(r.out);
        REQUIRE(!steps.empty());
        INFO(steps.back().dump());
        REQUIRE(!steps.back().contains("error"));
        CHECK(steps.back()["version"] == kModern);
        return steps.back();
    };
    const json echoed = run(echo, "echo", {{"message", "from sdk2"}}, json::object());
    CHECK(echoed["tools"].size() >= 1);
    CHECK(echoed["result"]["structuredContent"]["message"] == "from sdk2");
    // Two rounds of elicitation, answered by the SDK's own input-required driver.
    const json asked = run(everything, "test_input_required_result_multi_round", json::object(),
                           {{"action", "accept"}, {"content", {{"name", "ada"}, {"color", "red"}}}});
    CHECK(asked["result"]["content"][0]["text"] == "ada likes red");
}
