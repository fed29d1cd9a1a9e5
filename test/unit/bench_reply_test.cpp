// What `client bench` counts as a good answer. A refusal sent as a JSON-RPC error with HTTP 200
// is cheap for a server; counted as a success it made the 2025 era look faster than it was.
#include "client/bench.hpp"

#include <catch2/catch.hpp>

using mcpmtls::client::bench_failure_kind;

namespace {
const std::string kJson = "application/json";
const std::string kStream = "text/event-stream";
}  // namespace

TEST_CASE("bench counts a tool's answer as good, and names each kind of failure", "[bench]") {
    CHECK(bench_failure_kind(200, kJson, R"({"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}})") == "");
    // The word error inside the tool's text is not an error.
    CHECK(bench_failure_kind(200, kJson, R"({"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"\"error\": none"}]}})") == "");
    CHECK(bench_failure_kind(200, kJson, R"({"jsonrpc":"2.0","id":3,"result":{"structuredContent":{"error":"none"},"isError":false}})") == "");
    CHECK(bench_failure_kind(200, kJson,
                             R"({"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"a request with this id is already running"}})") ==
          "rpc_-32600");
    CHECK(bench_failure_kind(200, kJson, R"({"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true}})") == "tool_error");
    CHECK(bench_failure_kind(503, kJson, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"busy"}})") == "http_503");
    CHECK(bench_failure_kind(200, kJson, R"({"jsonrpc":"2.0","error":)") == "protocol");
}

TEST_CASE("bench reads the answer of an event stream from its last event", "[bench]") {
    const std::string progress = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n";
    CHECK(bench_failure_kind(200, kStream, progress + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"isError\":false}}\n\n") == "");
    CHECK(bench_failure_kind(200, kStream,
                             progress + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32602,\"message\":\"bad\"}}\n\n") ==
          "rpc_-32602");
    CHECK(bench_failure_kind(200, kStream, "data: {\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32001,\"message\":\"x\"}}\n\n") == "rpc_-32001");
}
