// The session core's wire rules for 2026-07-28, one by one: which tool definitions are refused,
// how Mcp-Param values are encoded, what a server/discover answer means.
#include "client/wire_protocol.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls::client;
using nlohmann::json;

namespace {

json schema_with(const json& property) { return {{"type", "object"}, {"properties", {{"p", property}}}}; }

std::string header(const HeaderList& headers, const std::string& name) {
    for (const auto& [key, value] : headers)
        if (key == name) return value;
    return "<absent>";
}

HttpResponse response(int status) {
    HttpResponse r;
    r.status = status;
    return r;
}

}  // namespace

TEST_CASE("a tool whose x-mcp-header annotation breaks a rule is refused; a valid one is kept", "[modern-client]") {
    CHECK_FALSE(header_annotation_fault(schema_with({{"type", "string"}, {"x-mcp-header", "Region"}})));
    CHECK_FALSE(header_annotation_fault(schema_with({{"type", "integer"}, {"x-mcp-header", "Priority"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "string"}, {"x-mcp-header", ""}})));
    CHECK(header_annotation_fault(schema_with({{"type", "string"}, {"x-mcp-header", "My Region"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "string"}, {"x-mcp-header", "Region:Primary"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "string"}, {"x-mcp-header", "R\xc3\xa9gion"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "number"}, {"x-mcp-header", "Score"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "object"}, {"x-mcp-header", "Data"}})));
    CHECK(header_annotation_fault(schema_with({{"type", "array"}, {"x-mcp-header", "Items"}})));
    const json duplicate = {{"type", "object"},
                            {"properties", {{"a", {{"type", "string"}, {"x-mcp-header", "MyField"}}}, {"b", {{"type", "string"}, {"x-mcp-header", "myfield"}}}}}};
    CHECK(header_annotation_fault(duplicate));
    const json under_items = {{"type", "object"},
                              {"properties", {{"list", {{"type", "array"}, {"items", {{"type", "string"}, {"x-mcp-header", "Item"}}}}}}}};
    CHECK(header_annotation_fault(under_items));
}

TEST_CASE("Mcp-Param values: plain when safe, base64 when not, null and unannotated left out", "[modern-client]") {
    CHECK(encode_header_value("us-west1") == "us-west1");
    CHECK(encode_header_value("us west 1") == "us west 1");
    CHECK(encode_header_value(" padded ") == "=?base64?IHBhZGRlZCA=?=");
    CHECK(encode_header_value("line1\nline2") == "=?base64?bGluZTEKbGluZTI=?=");
    CHECK(encode_header_value("Hello, \xe4\xb8\x96\xe7\x95\x8c") == "=?base64?SGVsbG8sIOS4lueVjA==?=");
    const json schema = {{"type", "object"},
                         {"properties",
                          {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}},
                           {"priority", {{"type", "integer"}, {"x-mcp-header", "Priority"}}},
                           {"verbose", {{"type", "boolean"}, {"x-mcp-header", "Verbose"}}},
                           {"query", {{"type", "string"}}}}}};
    const HeaderList headers = param_headers(schema, {{"region", "eu"}, {"priority", 42}, {"verbose", nullptr}, {"query", "SELECT 1"}});
    CHECK(header(headers, "Mcp-Param-Region") == "eu");
    CHECK(header(headers, "Mcp-Param-Priority") == "42");
    CHECK(header(headers, "Mcp-Param-Verbose") == "<absent>");
    CHECK(headers.size() == 2);
    const HeaderList call = modern_headers("2026-07-28", {{"method", "tools/call"}, {"params", {{"name", "my-tool"}, {"arguments", {{"region", "eu"}}}}}}, schema);
    CHECK(header(call, "MCP-Protocol-Version") == "2026-07-28");
    CHECK(header(call, "Mcp-Method") == "tools/call");
    CHECK(header(call, "Mcp-Name") == "my-tool");
    CHECK(header(call, "Mcp-Param-Region") == "eu");
    CHECK(header(modern_headers("2026-07-28", {{"method", "tools/list"}}), "Mcp-Name") == "<absent>");
}

TEST_CASE("server/discover: offered 2026 is modern, a session-era refusal falls back, unless 2026 is forced", "[modern-client]") {
    const json offered = {{"result", {{"supportedVersions", {"2026-07-28"}}, {"capabilities", json::object()}}}};
    CHECK(judge_discover(response(200), offered, true).kind == DiscoverVerdict::modern);
    const json old_only = {{"result", {{"supportedVersions", {"2025-11-25"}}}}};
    CHECK(judge_discover(response(200), old_only, true).kind == DiscoverVerdict::legacy);
    CHECK(judge_discover(response(200), old_only, false).kind == DiscoverVerdict::failed);
    const json no_session = {{"error", {{"code", -32600}, {"message", "missing Mcp-Session-Id header"}}}};
    CHECK(judge_discover(response(400), no_session, true).kind == DiscoverVerdict::legacy);
    const DiscoverVerdict forced = judge_discover(response(400), no_session, false);
    CHECK(forced.kind == DiscoverVerdict::failed);
    CHECK(forced.reason.find("missing Mcp-Session-Id") != std::string::npos);
    const json corrective = {{"error", {{"code", -32022}, {"message", "Unsupported protocol version"}, {"data", {{"supported", {"2026-07-28"}}}}}}};
    CHECK(judge_discover(response(400), corrective, true).kind == DiscoverVerdict::retry);
    CHECK(judge_discover(response(503), nullptr, true).kind == DiscoverVerdict::failed);
    CHECK(judge_discover(response(403), nullptr, true).kind == DiscoverVerdict::failed);
}

TEST_CASE("an input-required retry echoes requestState unchanged and carries no state the server did not send", "[modern-client]") {
    const json original = {{"name", "deploy"}, {"arguments", {{"env", "prod"}}}};
    const json with_state = retry_params(original, {{"confirm", {{"action", "accept"}}}}, "opaque \"state\"");
    CHECK(with_state["requestState"] == "opaque \"state\"");
    CHECK(with_state["inputResponses"]["confirm"]["action"] == "accept");
    CHECK(with_state["arguments"] == original["arguments"]);
    const json without_state = retry_params(original, {{"confirm", {{"action", "decline"}}}}, nullptr);
    CHECK_FALSE(without_state.contains("requestState"));
    CHECK(is_input_required({{"resultType", "input_required"}}));
    CHECK_FALSE(is_input_required({{"content", json::array()}}));  // no resultType: complete
}

TEST_CASE("the server/discover probe asks once more when the server names a version, and reads event streams", "[modern-client]") {
    std::vector<HeaderList> sent;
    std::vector<json> bodies;
    const ProbePost post = [&](const HeaderList& headers, const std::string& body) {
        sent.push_back(headers);
        bodies.push_back(json::parse(body));
        HttpResponse r;
        if (sent.size() == 1) {
            r.status = 400;
            r.headers = {{"Content-Type", "application/json"}};
            r.body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"]}}})";
        } else {
            r.status = 200;
            r.headers = {{"Content-Type", "text/event-stream"}};
            r.body = "id: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"supportedVersions\":[\"2026-07-28\"]}}\r\n\r\n";
        }
        return r;
    };
    const DiscoverVerdict verdict = probe_discover(post, {{"roots", json::object()}}, true);
    CHECK(verdict.kind == DiscoverVerdict::modern);
    REQUIRE(sent.size() == 2);
    CHECK(header(sent[0], "Mcp-Method") == "server/discover");
    CHECK(header(sent[0], "MCP-Protocol-Version") == "2026-07-28");
    CHECK(bodies[0]["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]["roots"] == json::object());

    int calls = 0;
    const ProbePost always_refused = [&](const HeaderList&, const std::string&) {
        ++calls;
        HttpResponse r;
        r.status = 400;
        r.body = R"({"jsonrpc":"2.0","id":0,"error":{"code":-32022,"message":"no","data":{"supported":["2026-07-28"]}}})";
        return r;
    };
    CHECK(probe_discover(always_refused, json::object(), true).kind == DiscoverVerdict::failed);
    CHECK(calls == 2);  // never a loop
}
