// JSON-RPC / MCP request handling: the bytes a verified client can send after the handshake.
// The first input byte picks the situation (method, session, headers); the rest is the body
// (and, with bit 64, also the Last-Event-ID of a GET). Resources, prompts and completion come
// from the product servers; a streamed answer (a call with a progress token) is read to its end.
#include "fuzz/common.hpp"
#include "mcp/streamable_http.hpp"
#include "services/datetime_tools.hpp"
#include "services/echo_tools.hpp"
#include "services/weather_tools.hpp"

#include <cstdint>
#include <string>

using namespace mcpmtls;

namespace {

struct Server {
    mcp::StreamableHttpServer http;
    tls::PeerIdentity client;
    std::string session;

    static mcp::ToolRegistry tools() {
        mcp::ToolRegistry registry;
        services::add_echo_tools(registry);
        services::add_datetime_tools(registry);
        services::add_weather_tools(registry, services::make_climate_normals_provider());
        return registry;
    }
    static mcp::ServerOptions options() {
        mcp::ServerOptions o;
        services::add_datetime_content(o.resources, o.prompts);
        services::add_weather_content(o.resources, o.prompts, services::make_climate_normals_provider());
        o.name = "fuzz-server";
        o.max_body_bytes = 64 * 1024;
        o.max_sessions = 64;
        o.policy = mcp::ToolPolicy::from_json(
            nlohmann::json::parse(R"([{"clients":["fuzzer*"],"tools":["echo","get_*","weather*"]}])"));
        return o;
    }

    Server() : http(options(), tools()) {
        client.common_name = "fuzzer";
        client.uris = {"spiffe://demo/fuzzer"};
        client.fingerprint_sha256 = std::string(64, 'a');
        client.fully_verified = true;
        mcp::HttpRequest init = post(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"f","version":"1"}}})", false);
        auto response = http.handle(init, client);
        for (const auto& [name, value] : response.headers)
            if (name == "Mcp-Session-Id") session = value;
        if (session.empty()) std::abort();
    }

    mcp::HttpRequest post(std::string body, bool with_session) const {
        mcp::HttpRequest r;
        r.method = "POST";
        r.body = std::move(body);
        r.headers = {{"Host", "localhost:8445"}, {"Content-Type", "application/json"},
                     {"Accept", "application/json, text/event-stream"}};
        if (with_session) {
            r.headers.emplace_back("Mcp-Session-Id", session);
            r.headers.emplace_back("MCP-Protocol-Version", "2025-06-18");
        }
        return r;
    }
};

// Keeps what a streamed answer writes.
struct StreamText final : mcp::BodySink {
    bool write(const std::string& bytes) override {
        text += bytes;
        return true;
    }
    std::string text;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logging();
    static Server server;
    if (size == 0) return 0;
    const uint8_t mode = data[0];
    std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    mcp::HttpRequest request = server.post(std::move(body), (mode & 1) != 0);
    if (mode & 2) request.method = (mode & 4) ? "DELETE" : "GET";
    if (mode & 8) request.headers.emplace_back("Accept", "text/event-stream");
    if (mode & 16) request.headers.emplace_back("Origin", "https://evil.example");
    tls::PeerIdentity who = server.client;
    if (mode & 32) who.common_name = "stranger", who.uris.clear();  // not covered by the policy
    if (mode & 64) request.headers.emplace_back("Last-Event-ID", request.body.substr(0, 64));
    fuzz::expect_clean_outcome([&] {
        mcp::HttpResponse response = server.http.handle(request, who);
        if (response.status < 200 || response.status > 599) std::abort();
        // Whatever the input, a JSON answer must itself be valid JSON.
        if (response.content_type == "application/json" && !nlohmann::json::accept(response.body)) std::abort();
        // A POST's stream ends with its call; a GET's would wait for events, so it is only opened.
        if (response.stream && request.method == "POST") {
            StreamText sink;
            for (int step = 0; step < 100; ++step)
                if (response.stream(sink) != mcp::StreamStep::more) break;
            if (sink.text.find("data: ") == std::string::npos) std::abort();  // at least the answer
        }
    });
    return 0;
}
