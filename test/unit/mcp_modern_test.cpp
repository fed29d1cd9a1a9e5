// MCP 2026-07-28 (stateless) beside the 2025 era, through the runtime's transport-independent entry
// point: the envelope and header checks, server/discover, resultType and caching hints, and
// multi-round input-required calls with a sealed requestState, including every way to abuse it.
#include "common/error.hpp"
#include "mcp/modern_protocol.hpp"
#include "mcp/request_state.hpp"
#include "mcp/streamable_http.hpp"
#include "pki/sealed_box.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace mcpmtls;
using mcp::json;

namespace {

constexpr const char* kModern = "2026-07-28";

mcp::ToolRegistry modern_tools() {
    mcp::ToolRegistry registry;
    registry.add({"echo", "", "Echoes a word", json{{"type", "object"}, {"properties", {{"word", {{"type", "string"}, {"x-mcp-header", "Word"}}}}}},
                  json(), [](const json& args, const mcp::ToolCallContext&) { return mcp::ToolResult::text(args.value("word", "")); }});
    registry.add({"ask_twice", "", "Asks a name, then a colour", json{{"type", "object"}}, json(),
                  [](const json&, const mcp::ToolCallContext& ctx) {
                      const json schema = {{"type", "object"}, {"properties", {{"v", {{"type", "string"}}}}}};
                      const auto name = ctx.elicit("name?", schema, std::chrono::seconds(5), "name");
                      const auto colour = ctx.elicit("colour?", schema, std::chrono::seconds(5), "colour");
                      return mcp::ToolResult::text(name.content.value("v", "") + "/" + colour.content.value("v", ""));
                  }});
    registry.add({"needs_sampling", "", "Samples", json{{"type", "object"}}, json(),
                  [](const json&, const mcp::ToolCallContext& ctx) {
                      return mcp::ToolResult::text(ctx.sample({{"messages", json::array()}, {"maxTokens", 5}}).dump());
                  }});
    return registry;
}

tls::PeerIdentity identity(const std::string& fingerprint = "aa") {
    tls::PeerIdentity id;
    id.common_name = "tester";
    id.fingerprint_sha256 = fingerprint;
    return id;
}

json meta(json capabilities = {{"elicitation", json::object()}, {"sampling", json::object()}}) {
    return {{"io.modelcontextprotocol/protocolVersion", kModern},
            {"io.modelcontextprotocol/clientCapabilities", std::move(capabilities)},
            {"io.modelcontextprotocol/clientInfo", {{"name", "t"}, {"version", "1"}}}};
}

mcp::ServerOptions options(std::shared_ptr<const pki::SealedBox::Key> key = nullptr) {
    mcp::ServerOptions o;
    o.name = "modern-test";
    o.state_key = std::move(key);
    return o;
}

struct Harness {
    mcp::StreamableHttpServer server;
    explicit Harness(mcp::ServerOptions o = options()) : server(std::move(o), modern_tools()) {}

    // A modern request with the headers the revision asks for, unless `headers` replaces them.
    mcp::HttpResponse post(const std::string& method, json params, std::vector<std::pair<std::string, std::string>> headers = {},
                           const tls::PeerIdentity& who = identity(), bool standard_headers = true) {
        mcp::HttpRequest r;
        r.method = "POST";
        r.body = json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", params}}.dump();
        r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "application/json"}};
        if (standard_headers) {
            r.headers.emplace_back("MCP-Protocol-Version", kModern);
            r.headers.emplace_back("Mcp-Method", method);
            if (params.contains("name") && params["name"].is_string()) r.headers.emplace_back("Mcp-Name", params["name"].get<std::string>());
            if (params.contains("uri") && params["uri"].is_string()) r.headers.emplace_back("Mcp-Name", params["uri"].get<std::string>());
        }
        for (auto& [name, value] : headers) {
            r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; }), r.headers.end());
            if (!value.empty()) r.headers.emplace_back(name, value);
        }
        return server.handle(r, who);
    }
    static json body(const mcp::HttpResponse& r) { return json::parse(r.body); }
};

json call_params(const std::string& tool, json extra = json::object()) {
    json p = {{"name", tool}, {"arguments", json::object()}, {"_meta", meta()}};
    for (auto it = extra.begin(); it != extra.end(); ++it) p[it.key()] = it.value();
    return p;
}

json accept(const std::string& value) { return {{"action", "accept"}, {"content", {{"v", value}}}}; }

}  // namespace

TEST_CASE("server/discover lists both eras' versions, the capabilities and the server's identity", "[modern]") {
    Harness h;
    auto r = h.post("server/discover", {{"_meta", meta()}});
    REQUIRE(r.status == 200);
    const json result = Harness::body(r)["result"];
    CHECK(result["supportedVersions"] == json({"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"}));
    CHECK(result["capabilities"].contains("tools"));
    CHECK(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "modern-test");
    CHECK(result["resultType"] == "complete");
    CHECK(result["cacheScope"] == "private");
}

TEST_CASE("the same server answers a 2025 session and a stateless request side by side", "[modern]") {
    Harness h;
    mcp::HttpRequest init;
    init.method = "POST";
    init.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "application/json"}};
    init.body = json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
                     {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}, {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}}
                    .dump();
    auto opened = h.server.handle(init, identity());
    REQUIRE(opened.status == 200);
    CHECK(Harness::body(opened)["result"]["protocolVersion"] == "2025-11-25");
    CHECK(h.server.session_count() == 1);

    auto listed = h.post("tools/list", {{"_meta", meta()}});
    REQUIRE(listed.status == 200);
    const json result = Harness::body(listed)["result"];
    CHECK(result["tools"].size() == 3);
    CHECK(result["resultType"] == "complete");
    CHECK(result["ttlMs"].is_number_integer());
    CHECK(h.server.session_count() == 1);  // the stateless request opened no session

    auto called = h.post("tools/call", call_params("echo", {{"arguments", {{"word", "hi"}}}}), {{"Mcp-Param-Word", "hi"}});
    REQUIRE(called.status == 200);
    CHECK(Harness::body(called)["result"]["content"][0]["text"] == "hi");
}

TEST_CASE("a stateless request with a missing or malformed envelope is refused with -32602 and HTTP 400", "[modern]") {
    Harness h;
    for (const json& params : {json::object(), json{{"_meta", "nope"}},
                               json{{"_meta", {{"io.modelcontextprotocol/protocolVersion", kModern}}}},
                               json{{"_meta", {{"io.modelcontextprotocol/clientCapabilities", json::object()}}}},
                               json{{"_meta", {{"io.modelcontextprotocol/protocolVersion", kModern}, {"io.modelcontextprotocol/clientCapabilities", 3}}}},
                               json{{"_meta", {{"io.modelcontextprotocol/protocolVersion", 2026}, {"io.modelcontextprotocol/clientCapabilities", json::object()}}}}}) {
        CAPTURE(params);
        auto r = h.post("tools/list", params);
        CHECK(r.status == 400);
        CHECK(Harness::body(r)["error"]["code"] == -32602);
        CHECK(Harness::body(r)["id"] == 7);
    }
}

TEST_CASE("an unknown protocol version is refused with -32022 naming the supported ones", "[modern]") {
    Harness h;
    json m = meta();
    m["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
    auto r = h.post("tools/list", {{"_meta", m}}, {{"MCP-Protocol-Version", "2099-01-01"}});
    REQUIRE(r.status == 400);
    const json error = Harness::body(r)["error"];
    CHECK(error["code"] == -32022);
    CHECK(error["data"]["requested"] == "2099-01-01");
    CHECK(error["data"]["supported"][0] == kModern);
}

TEST_CASE("headers that disagree with the body are refused with -32020 and HTTP 400 before any handler runs", "[modern]") {
    Harness h;
    auto code = [](const mcp::HttpResponse& r) { return r.status == 400 ? Harness::body(r)["error"]["code"].get<int>() : r.status; };
    CHECK(code(h.post("tools/list", {{"_meta", meta()}}, {{"MCP-Protocol-Version", ""}})) == -32020);
    CHECK(code(h.post("tools/list", {{"_meta", meta()}}, {{"Mcp-Method", "prompts/list"}})) == -32020);
    CHECK(code(h.post("tools/list", {{"_meta", meta()}}, {{"Mcp-Method", "TOOLS/LIST"}})) == -32020);
    CHECK(code(h.post("tools/list", {{"_meta", meta()}}, {{"Mcp-Method", ""}})) == -32020);
    CHECK(code(h.post("tools/call", call_params("echo"), {{"Mcp-Name", "ask_twice"}})) == -32020);
    CHECK(code(h.post("tools/call", call_params("echo"), {{"Mcp-Name", ""}})) == -32020);
    // Mcp-Param-*: the argument mirrored, plain or base64-wrapped; missing or different is refused.
    const json args = {{"arguments", {{"word", "héllo"}}}};
    CHECK(code(h.post("tools/call", call_params("echo", args), {})) == -32020);
    CHECK(code(h.post("tools/call", call_params("echo", args), {{"Mcp-Param-Word", "other"}})) == -32020);
    CHECK(code(h.post("tools/call", call_params("echo", args), {{"Mcp-Param-Word", "=?base64?not base64?="}})) == -32020);
    CHECK(h.post("tools/call", call_params("echo", args), {{"Mcp-Param-Word", "=?base64?aMOpbGxv?="}}).status == 200);
    // Mcp-Name whitespace is optional whitespace, not part of the value.
    CHECK(h.post("tools/call", call_params("echo"), {{"Mcp-Name", "  echo  "}}).status == 200);
}

TEST_CASE("methods removed from 2026-07-28 and unknown ones answer 404 with -32601", "[modern]") {
    Harness h;
    for (const char* method : {"initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such"}) {
        CAPTURE(method);
        auto r = h.post(method, {{"_meta", meta()}});
        CHECK(r.status == 404);
        CHECK(Harness::body(r)["error"]["code"] == -32601);
    }
}

TEST_CASE("a multi-round call asks one question per round and finishes with the answers collected", "[modern]") {
    Harness h;
    auto first = Harness::body(h.post("tools/call", call_params("ask_twice")))["result"];
    REQUIRE(first["resultType"] == "input_required");
    REQUIRE(first["inputRequests"].contains("name"));
    CHECK(first["inputRequests"]["name"]["method"] == "elicitation/create");
    const std::string state1 = first["requestState"];

    auto second = Harness::body(h.post("tools/call", call_params("ask_twice", {{"inputResponses", {{"name", accept("ada")}}}, {"requestState", state1}})))["result"];
    REQUIRE(second["resultType"] == "input_required");
    REQUIRE(second["inputRequests"].contains("colour"));
    const std::string state2 = second["requestState"];
    CHECK(state2 != state1);

    auto done = Harness::body(h.post("tools/call", call_params("ask_twice", {{"inputResponses", {{"colour", accept("red")}}}, {"requestState", state2}})))["result"];
    CHECK(done["resultType"] == "complete");
    CHECK(done["content"][0]["text"] == "ada/red");
}

TEST_CASE("a forged, altered, foreign, misdirected, oversized or expired requestState is refused with a clear error", "[modern]") {
    auto key = std::make_shared<const pki::SealedBox::Key>(pki::SealedBox::random_key());
    Harness h(options(key));
    const std::string state = Harness::body(h.post("tools/call", call_params("ask_twice")))["result"]["requestState"];
    auto refusal = [&](const json& params, const tls::PeerIdentity& who = identity()) {
        auto r = h.post("tools/call", params, {}, who);
        REQUIRE(r.status == 200);
        const json body = Harness::body(r);
        REQUIRE(body.contains("error"));
        CHECK(body["error"]["code"] == -32602);
        return body["error"]["message"].get<std::string>();
    };
    const json answer = {{"inputResponses", {{"name", accept("x")}}}};
    auto with_state = [&](const std::string& s, const std::string& tool = "ask_twice") {
        json p = call_params(tool, answer);
        p["requestState"] = s;
        return p;
    };
    std::string altered = state;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    CHECK_THAT(refusal(with_state(altered)), Catch::Contains("integrity"));
    CHECK_THAT(refusal(with_state("forged-state")), Catch::Contains("integrity"));
    CHECK_THAT(refusal(with_state("not base64!")), Catch::Contains("not one this server issued"));
    CHECK_THAT(refusal(with_state(state), identity("bb")), Catch::Contains("another client"));
    CHECK_THAT(refusal(with_state(state, "needs_sampling")), Catch::Contains("another request"));
    CHECK_THAT(refusal(with_state(std::string(mcp::RequestStateSeal::kMaxBytes + 1, 'A'))), Catch::Contains("larger than"));
    // Sealed by a replica with another key.
    Harness other(options(std::make_shared<const pki::SealedBox::Key>(pki::SealedBox::random_key())));
    const std::string foreign = Harness::body(other.post("tools/call", call_params("ask_twice")))["result"]["requestState"];
    CHECK_THAT(refusal(with_state(foreign)), Catch::Contains("another key"));
    // An answer to a question never asked, given with the state.
    json stray = with_state(state);
    stray["inputResponses"]["password"] = accept("x");
    CHECK_THAT(refusal(stray), Catch::Contains("never asked"));
    // Malformed retry members.
    CHECK_THAT(refusal(call_params("ask_twice", {{"inputResponses", nullptr}})), Catch::Contains("inputResponses"));
    CHECK_THAT(refusal(call_params("ask_twice", {{"requestState", 5}})), Catch::Contains("requestState"));
    CHECK_THAT(refusal(call_params("ask_twice", {{"inputResponses", {{"name", 12345}}}})), Catch::Contains("not an answer"));

    // Expired: a seal with a lifetime already over.
    mcp::RequestStateSeal short_lived(*key, std::chrono::seconds(-1));
    const std::string expired = short_lived.seal({"aa", "tools/call", "ask_twice"}, {});
    CHECK_THAT(refusal(with_state(expired)), Catch::Contains("expired"));
}

TEST_CASE("replicas sharing a state key continue each other's multi-round calls", "[modern]") {
    auto key = std::make_shared<const pki::SealedBox::Key>(pki::SealedBox::random_key());
    Harness a(options(key)), b(options(key));
    const std::string state = Harness::body(a.post("tools/call", call_params("ask_twice")))["result"]["requestState"];
    auto next = Harness::body(b.post("tools/call", call_params("ask_twice", {{"inputResponses", {{"name", accept("ada")}}}, {"requestState", state}})));
    CHECK(next["result"]["inputRequests"].contains("colour"));
}

TEST_CASE("a call needing a capability the request did not declare is refused with -32021 and HTTP 400", "[modern]") {
    Harness h;
    json p = call_params("needs_sampling");
    p["_meta"] = meta({{"elicitation", json::object()}});
    auto r = h.post("tools/call", p);
    REQUIRE(r.status == 400);
    const json error = Harness::body(r)["error"];
    CHECK(error["code"] == -32021);
    CHECK(error["data"]["requiredCapabilities"].contains("sampling"));
}

TEST_CASE("per-tool authorization applies to stateless calls too", "[modern]") {
    auto o = options();
    o.policy = mcp::ToolPolicy::from_json(json::array({{{"clients", {"tester"}}, {"tools", {"echo"}}}}));
    Harness h(o);
    auto r = h.post("tools/call", call_params("ask_twice"));
    CHECK(Harness::body(r)["error"]["code"] == -32003);
    auto listed = Harness::body(h.post("tools/list", {{"_meta", meta()}}))["result"]["tools"];
    CHECK(listed.size() == 1);
}

TEST_CASE("the state key file must hold exactly 32 readable bytes", "[modern]") {
    char dir_template[] = "/tmp/statekey.XXXXXX";
    REQUIRE(mkdtemp(dir_template));
    const std::string dir = dir_template;
    std::ofstream(dir + "/short") << std::string(31, 'k');
    std::ofstream(dir + "/good") << std::string(32, 'k');
    CHECK_THROWS_WITH(pki::SealedBox::load_key(dir + "/short"), Catch::Contains("exactly 32 bytes"));
    CHECK_THROWS_WITH(pki::SealedBox::load_key(dir + "/missing"), Catch::Contains("cannot read"));
    CHECK(pki::SealedBox::load_key(dir + "/good")[0] == 'k');
    std::remove((dir + "/short").c_str());
    std::remove((dir + "/good").c_str());
    rmdir(dir.c_str());
}
