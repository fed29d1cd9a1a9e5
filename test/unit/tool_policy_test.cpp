// Per-tool authorization, both ways: who may, and who may not.
#include "common/error.hpp"
#include "mcp/streamable_http.hpp"
#include "mcp/tool_policy.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using mcp::json;

namespace {

tls::PeerIdentity identity(const std::string& cn, const std::string& uri, const std::string& fingerprint) {
    tls::PeerIdentity id;
    id.common_name = cn;
    if (!uri.empty()) id.uris = {uri};
    id.fingerprint_sha256 = fingerprint;
    return id;
}

mcp::ToolPolicy policy() {
    return mcp::ToolPolicy::from_json(json::parse(R"([
        {"clients": ["spiffe://demo/coordinator", "spiffe://demo/agents/*"], "tools": ["*"]},
        {"clients": ["intern"], "tools": ["echo", "get_*"]}
    ])"));
}

}  // namespace

TEST_CASE("the tool policy matches identities and tools, with suffix wildcards", "[policy]") {
    auto p = policy();
    CHECK(p.allows(identity("x", "spiffe://demo/coordinator", "1"), "convert_time"));
    CHECK(p.allows(identity("x", "spiffe://demo/agents/7", "1"), "anything"));
    CHECK(p.allows(identity("intern", "", "1"), "echo"));
    CHECK(p.allows(identity("intern", "", "1"), "get_forecast"));
    CHECK_FALSE(p.allows(identity("intern", "", "1"), "convert_time"));
    CHECK_FALSE(p.allows(identity("stranger", "spiffe://demo/agentsX", "1"), "echo"));
    CHECK(mcp::ToolPolicy().allows(identity("anyone", "", "1"), "anything"));
    CHECK_THROWS_AS(mcp::ToolPolicy::from_json(json::parse(R"([{"clients": []}])")), InputError);
    CHECK_THROWS_AS(mcp::ToolPolicy::from_json(json::parse(R"([{"clients": ["a"], "tools": ["b"], "extra": 1}])")), InputError);
    CHECK_THROWS_AS(mcp::ToolPolicy::from_json(json::parse(R"({"clients": ["a"]})")), InputError);
}

TEST_CASE("tools/list shows each client only its tools and tools/call refuses the others", "[policy]") {
    mcp::ToolRegistry registry;
    for (const char* name : {"echo", "convert_time"})
        registry.add({name, "", "test tool", json{{"type", "object"}}, json(),
                      [](const json&, const mcp::ToolCallContext&) { return mcp::ToolResult::text("ok"); }});
    mcp::ServerOptions options;
    options.policy = policy();
    mcp::StreamableHttpServer server(options, registry);
    auto post = [&](const tls::PeerIdentity& who, const json& message, const std::string& session) {
        mcp::HttpRequest r;
        r.method = "POST";
        r.body = message.dump();
        r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}};
        if (!session.empty()) r.headers.emplace_back("Mcp-Session-Id", session);
        return server.handle(r, who);
    };
    auto open = [&](const tls::PeerIdentity& who) {
        auto r = post(who, {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", json::object()}}, "");
        for (const auto& [k, v] : r.headers)
            if (k == "Mcp-Session-Id") return v;
        return std::string();
    };
    const auto intern = identity("intern", "", "fp-intern");
    const auto boss = identity("boss", "spiffe://demo/coordinator", "fp-boss");
    const auto intern_session = open(intern), boss_session = open(boss);

    auto names = [](const mcp::HttpResponse& r) {
        std::vector<std::string> out;
        const json body = json::parse(r.body);
        for (const auto& t : body["result"]["tools"]) out.push_back(t["name"]);
        return out;
    };
    CHECK(names(post(intern, {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}, intern_session)) == std::vector<std::string>{"echo"});
    CHECK(names(post(boss, {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}, boss_session)).size() == 2);

    auto denied = json::parse(post(intern, {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "tools/call"}, {"params", {{"name", "convert_time"}}}},
                                   intern_session).body);
    CHECK(denied["error"]["code"] == -32003);
    CHECK(denied["error"]["message"].get<std::string>().find("not authorized") != std::string::npos);
    auto allowed = json::parse(post(boss, {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "tools/call"}, {"params", {{"name", "convert_time"}}}},
                                    boss_session).body);
    CHECK(allowed["result"]["content"][0]["text"] == "ok");
}

TEST_CASE("rules may ask for token scopes per tool; a rule of scopes alone admits no one by itself", "[policy][oauth-rs]") {
    const auto p = mcp::ToolPolicy::from_json(json::parse(R"([
        {"tools": ["*"], "scopes": ["tools:read"]},
        {"tools": ["set_*"], "scopes": ["tools:write", "tools:read"]},
        {"clients": ["spiffe://demo/ops"], "tools": ["*"], "scopes": ["admin"]}
    ])"));
    const auto agent = identity("agent", "spiffe://demo/agent", "1");
    const auto ops = identity("ops", "spiffe://demo/ops", "2");
    CHECK(p.required_scopes(agent, "get_forecast") == std::vector<std::string>{"tools:read"});
    CHECK(p.required_scopes(agent, "set_alert") == std::vector<std::string>{"tools:read", "tools:write"});
    CHECK(p.required_scopes(ops, "get_forecast") == std::vector<std::string>{"admin", "tools:read"});
    CHECK(p.scopes() == std::vector<std::string>{"admin", "tools:read", "tools:write"});
    // The rule naming clients restricts who may call, as without scopes.
    CHECK(p.restricts());
    CHECK(p.allows(ops, "set_alert"));
    CHECK_FALSE(p.allows(agent, "get_forecast"));

    const auto scopes_only = mcp::ToolPolicy::from_json(json::parse(R"([{"tools": ["echo"], "scopes": ["tools:call"]}])"));
    CHECK_FALSE(scopes_only.restricts());
    CHECK(scopes_only.allows(agent, "echo"));
    CHECK(scopes_only.required_scopes(agent, "other").empty());
    CHECK_THROWS_AS(mcp::ToolPolicy::from_json(json::parse(R"([{"tools": ["echo"]}])")), InputError);
    CHECK_THROWS_AS(mcp::ToolPolicy::from_json(json::parse(R"([{"tools": ["echo"], "scopes": []}])")), InputError);
}
