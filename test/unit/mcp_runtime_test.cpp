// The Streamable HTTP runtime through its transport-independent entry point.
#include "mcp/json_schema.hpp"
#include "mcp/streamable_http.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using mcp::json;

namespace {

mcp::ToolRegistry test_tools() {
    mcp::ToolRegistry registry;
    registry.add({"add", "Add", "Adds two integers",
                  json{{"type", "object"},
                       {"properties", {{"a", {{"type", "integer"}}}, {"b", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}}}}},
                       {"required", {"a", "b"}},
                       {"additionalProperties", false}},
                  json{{"type", "object"}, {"properties", {{"sum", {{"type", "integer"}}}}}},
                  [](const json& args, const mcp::ToolCallContext& ctx) {
                      long sum = args["a"].get<long>() + args["b"].get<long>();
                      return mcp::ToolResult::structured_result({{"sum", sum}, {"caller", ctx.client.display_name()}}, std::to_string(sum));
                  }});
    registry.add({"fail", "", "Always fails", json{{"type", "object"}}, json(),
                  [](const json&, const mcp::ToolCallContext&) { return mcp::ToolResult::error("it broke"); }});
    registry.add({"throws", "", "Throws", json{{"type", "object"}}, json(),
                  [](const json&, const mcp::ToolCallContext&) -> mcp::ToolResult { throw std::runtime_error("boom"); }});
    return registry;
}

tls::PeerIdentity client(const std::string& fingerprint = "aa") {
    tls::PeerIdentity id;
    id.common_name = "tester";
    id.fingerprint_sha256 = fingerprint;
    return id;
}

struct Harness {
    mcp::StreamableHttpServer server{[] {
                                         mcp::ServerOptions o;
                                         o.name = "test-server";
                                         o.max_body_bytes = 4096;
                                         o.max_sessions = 3;
                                         return o;
                                     }(),
                                     test_tools()};

    mcp::HttpResponse post(const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {},
                           const tls::PeerIdentity& who = client()) {
        mcp::HttpRequest r;
        r.method = "POST";
        r.body = body;
        r.headers = {{"Host", "localhost:8445"}, {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
        for (auto& h : headers) r.headers.push_back(h);
        return server.handle(r, who);
    }
    std::string initialize(const tls::PeerIdentity& who = client(), const std::string& version = "2025-06-18") {
        auto r = post(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
                           {"params", {{"protocolVersion", version}, {"capabilities", json::object()}, {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}}
                          .dump(),
                      {}, who);
        REQUIRE(r.status == 200);
        for (const auto& [k, v] : r.headers)
            if (k == "Mcp-Session-Id") return v;
        FAIL("no session id");
        return "";
    }
    mcp::HttpResponse call(const std::string& session, const json& message, const tls::PeerIdentity& who = client()) {
        return post(message.dump(), {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-06-18"}}, who);
    }
};

json rpc(const std::string& method, const json& params = json::object(), int id = 7) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

}  // namespace

TEST_CASE("initialize negotiates the protocol version and issues a session", "[mcp]") {
    Harness h;
    auto r = h.post(rpc("initialize", {{"protocolVersion", "2025-03-26"}}).dump());
    CHECK(r.status == 200);
    auto result = json::parse(r.body)["result"];
    CHECK(result["protocolVersion"] == "2025-03-26");
    CHECK(result["serverInfo"]["name"] == "test-server");
    CHECK(result["capabilities"].contains("tools"));
    CHECK(result["capabilities"].contains("logging"));
    auto newest = json::parse(h.post(rpc("initialize", {{"protocolVersion", "2025-11-25"}}).dump()).body);
    CHECK(newest["result"]["protocolVersion"] == "2025-11-25");
    auto unknown = json::parse(h.post(rpc("initialize", {{"protocolVersion", "1999-01-01"}}).dump()).body);
    CHECK(unknown["result"]["protocolVersion"] == "2025-06-18");
}

TEST_CASE("requests need a known session of the same client", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    CHECK(h.post(rpc("ping").dump()).status == 400);  // no session header
    CHECK(h.call("0123456789abcdef", rpc("ping")).status == 404);
    CHECK(h.call(session, rpc("ping"), client("someone-else")).status == 404);
    auto pong = h.call(session, rpc("ping"));
    CHECK(pong.status == 200);
    CHECK(json::parse(pong.body)["result"] == json::object());
    mcp::HttpRequest del;
    del.method = "DELETE";
    del.headers = {{"Host", "localhost"}, {"Mcp-Session-Id", session}};
    CHECK(h.server.handle(del, client()).status == 200);
    CHECK(h.call(session, rpc("ping")).status == 404);
}

TEST_CASE("the protocol version header must be a supported one", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto r = h.post(rpc("ping").dump(), {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2024-01-01"}});
    CHECK(r.status == 400);
    for (const char* v : {"2025-06-18", "2025-03-26", "2025-11-25"})
        CHECK(h.post(rpc("ping").dump(), {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", v}}).status == 200);
}

TEST_CASE("notifications and client responses get 202 with no body", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto n = h.call(session, {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    CHECK(n.status == 202);
    CHECK(n.body.empty());
    auto resp = h.call(session, {{"jsonrpc", "2.0"}, {"id", 3}, {"result", json::object()}});
    CHECK(resp.status == 202);
}

TEST_CASE("tools/list shows names, schemas and output schemas", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto tools = json::parse(h.call(session, rpc("tools/list")).body)["result"]["tools"];
    REQUIRE(tools.size() == 3);
    CHECK(tools[0]["name"] == "add");
    CHECK(tools[0]["title"] == "Add");
    CHECK(tools[0]["inputSchema"]["required"] == json({"a", "b"}));
    CHECK(tools[0].contains("outputSchema"));
    CHECK_FALSE(tools[1].contains("outputSchema"));
}

TEST_CASE("tools/call returns content and structured content, tool failures as isError", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto ok = json::parse(h.call(session, rpc("tools/call", {{"name", "add"}, {"arguments", {{"a", 2}, {"b", 3}}}})).body);
    CHECK(ok["result"]["content"][0]["text"] == "5");
    CHECK(ok["result"]["structuredContent"]["sum"] == 5);
    CHECK(ok["result"]["structuredContent"]["caller"] == "tester");  // the verified identity reaches handlers
    CHECK(ok["result"]["isError"] == false);
    auto failed = json::parse(h.call(session, rpc("tools/call", {{"name", "fail"}})).body);
    CHECK(failed["result"]["isError"] == true);
    CHECK(failed["result"]["content"][0]["text"] == "it broke");
    auto thrown = json::parse(h.call(session, rpc("tools/call", {{"name", "throws"}})).body);
    CHECK(thrown["result"]["isError"] == true);
    CHECK(thrown["result"]["content"][0]["text"].get<std::string>().find("boom") != std::string::npos);
}

TEST_CASE("an unknown tool or bad arguments is JSON-RPC error -32602 with the reason", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto error_of = [&](const json& params) { return json::parse(h.call(session, rpc("tools/call", params)).body)["error"]; };
    CHECK(error_of({{"name", "nope"}})["code"] == -32602);
    CHECK(error_of({{"name", "add"}, {"arguments", {{"a", 1}}}})["message"] == "missing required argument 'b'");
    CHECK(error_of({{"name", "add"}, {"arguments", {{"a", "one"}, {"b", 1}}}})["message"] == "argument 'a' must be of type integer");
    CHECK(error_of({{"name", "add"}, {"arguments", {{"a", 1}, {"b", 11}}}})["message"] == "argument 'b' must be at most 10");
    CHECK(error_of({{"name", "add"}, {"arguments", {{"a", 1}, {"b", 1}, {"c", 1}}}})["message"] == "unknown argument 'c'");
    CHECK(error_of({{"name", "add"}, {"arguments", "text"}})["code"] == -32602);
    CHECK(error_of({{"arguments", json::object()}})["code"] == -32602);
}

TEST_CASE("logging/setLevel accepts the MCP levels only", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    CHECK(json::parse(h.call(session, rpc("logging/setLevel", {{"level", "warning"}})).body)["result"] == json::object());
    CHECK(json::parse(h.call(session, rpc("logging/setLevel", {{"level", "loud"}})).body)["error"]["code"] == -32602);
}

TEST_CASE("malformed JSON-RPC gets the JSON-RPC error codes", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto code_of = [&](const std::string& body) {
        auto r = h.post(body, {{"Mcp-Session-Id", session}});
        return std::make_pair(r.status, json::parse(r.body)["error"]["code"].get<int>());
    };
    CHECK(code_of("{not json") == std::make_pair(400, -32700));
    CHECK(code_of(std::string("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\xfe\"}")) == std::make_pair(400, -32700));
    CHECK(code_of(std::string(4000, '[')) == std::make_pair(400, -32700));  // refused before the parser recurses
    CHECK(code_of(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])") == std::make_pair(400, -32600));
    CHECK(code_of(R"({"jsonrpc":"1.0","id":1,"method":"ping"})") == std::make_pair(400, -32600));
    CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":5})") == std::make_pair(400, -32600));
    CHECK(code_of(R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})") == std::make_pair(400, -32600));
    CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})") == std::make_pair(400, -32600));
    CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})") == std::make_pair(200, -32601));
}

TEST_CASE("transport rules: 413, 415, 406, 405 and DNS-rebinding protection", "[mcp]") {
    Harness h;
    CHECK(h.post(std::string(5000, ' ')).status == 413);
    mcp::HttpRequest r;
    r.method = "POST";
    r.body = rpc("initialize").dump();
    r.headers = {{"Host", "localhost"}, {"Content-Type", "text/plain"}};
    CHECK(h.server.handle(r, client()).status == 415);
    r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "text/html"}};
    CHECK(h.server.handle(r, client()).status == 406);
    r.headers = {{"Host", "evil.example.com"}, {"Content-Type", "application/json"}};
    CHECK(h.server.handle(r, client()).status == 403);
    r.headers = {{"Host", "localhost:8445"}, {"Origin", "http://evil.example.com"}, {"Content-Type", "application/json"}};
    CHECK(h.server.handle(r, client()).status == 403);
    // The Origin's scheme is not compared: http://localhost is fine for an https server.
    r.headers = {{"Host", "[::1]:8445"}, {"Origin", "http://localhost:8445"}, {"Content-Type", "application/json"}};
    CHECK(h.server.handle(r, client()).status == 200);
    mcp::HttpRequest get;
    get.method = "GET";
    get.headers = {{"Host", "127.0.0.1:8445"}};
    auto g = h.server.handle(get, client());
    CHECK(g.status == 405);
}

TEST_CASE("answers are JSON unless the client accepts only an event stream", "[mcp]") {
    Harness h;
    auto session = h.initialize();
    auto json_answer = h.call(session, rpc("ping"));
    CHECK(json_answer.content_type == "application/json");
    auto sse = h.post(rpc("ping").dump(), {{"Mcp-Session-Id", session}});
    mcp::HttpRequest r;
    r.method = "POST";
    r.body = rpc("tools/call", {{"name", "add"}, {"arguments", {{"a", 1}, {"b", 1}}}}).dump();
    r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}};
    auto stream = h.server.handle(r, client());
    CHECK(stream.content_type == "text/event-stream");
    CHECK(stream.body.rfind("event: message\ndata: {", 0) == 0);
    CHECK(stream.body.find("\"sum\":2") != std::string::npos);
}

TEST_CASE("the session cap refuses new sessions with 503 instead of growing without bound", "[mcp]") {
    Harness h;  // max_sessions = 3
    for (int i = 0; i < 3; ++i) h.initialize(client("client-" + std::to_string(i)));
    CHECK(h.server.session_count() == 3);
    auto refused = h.post(rpc("initialize").dump());
    CHECK(refused.status == 503);
}

TEST_CASE("the argument validator covers the schema keywords tools use", "[mcp]") {
    json schema = {{"type", "object"},
                   {"properties",
                    {{"name", {{"type", "string"}, {"minLength", 2}, {"maxLength", 4}}},
                     {"mode", {{"enum", {"fast", "slow"}}}},
                     {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                     {"ratio", {{"type", "number"}, {"minimum", 0.5}}}}},
                   {"required", {"name"}}};
    CHECK_FALSE(mcp::validate_arguments(schema, {{"name", "abc"}, {"mode", "fast"}, {"tags", {"x"}}, {"ratio", 0.5}}));
    auto problem = [&](const char* text) { return mcp::validate_arguments(schema, json::parse(text)).value_or("valid"); };
    CHECK(problem(R"({"name": "a"})") == "argument 'name' must be at least 2 characters");
    CHECK(problem(R"({"name": "ééééé"})") == "argument 'name' must be at most 4 characters");
    CHECK(problem(R"({"name": "éééé"})") == "valid");  // counted in characters, not bytes
    CHECK(mcp::validate_arguments(schema, {{"name", "ab"}, {"mode", "medium"}}).has_value());
    CHECK(*mcp::validate_arguments(schema, {{"name", "ab"}, {"tags", {1}}}) == "argument 'tags[0]' must be of type string");
    CHECK(*mcp::validate_arguments(schema, {{"name", "ab"}, {"ratio", 0.1}}) == "argument 'ratio' must be at least 0.5");
    CHECK(*mcp::validate_arguments(schema, json::array()) == "arguments must be of type object");
}
