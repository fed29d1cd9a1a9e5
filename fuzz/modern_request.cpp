// MCP 2026-07-28 (stateless) requests: the envelope in params._meta, the SEP-2243 headers, and
// the retry members of multi-round calls (inputResponses, requestState), against the everything
// server's tools (which ask for elicitation, sampling and roots). The input's first line holds the
// headers' values (Mcp-Method|Mcp-Name|Mcp-Param-Word|MCP-Protocol-Version), the rest is the body.
// Every answer must be valid JSON with a plausible status; a requestState the server hands out is
// fed back once, altered, so that the opening side sees both genuine and broken state.
#include "fuzz/common.hpp"
#include "mcp/streamable_http.hpp"
#include "services/everything_tools.hpp"

#include <cstdint>
#include <string>

using namespace mcpmtls;

namespace {

struct Server {
    mcp::StreamableHttpServer http;
    tls::PeerIdentity client;

    static mcp::ServerOptions options() {
        mcp::ServerOptions o;
        o.name = "fuzz-modern";
        o.max_body_bytes = 64 * 1024;
        services::add_everything_content(o.resources, o.prompts, std::make_shared<std::atomic<int>>(1));
        return o;
    }
    static mcp::ToolRegistry tools() {
        mcp::ToolRegistry registry;
        services::add_everything_tools(registry, std::make_shared<std::atomic<int>>(1));
        return registry;
    }
    Server() : http(options(), tools()) {
        client.common_name = "fuzzer";
        client.fingerprint_sha256 = std::string(64, 'b');
    }
};

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> parts(1);
    for (char c : line) {
        if (c == separator) parts.emplace_back();
        else parts.back() += c;
    }
    return parts;
}

mcp::HttpResponse send(Server& server, const std::string& body, const std::vector<std::string>& values) {
    mcp::HttpRequest r;
    r.method = "POST";
    r.body = body;
    r.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    const char* names[] = {"Mcp-Method", "Mcp-Name", "Mcp-Param-Word", "MCP-Protocol-Version"};
    for (size_t i = 0; i < 4 && i < values.size(); ++i)
        if (!values[i].empty()) r.headers.emplace_back(names[i], values[i]);
    return server.http.handle(r, server.client);
}

struct StreamText final : mcp::BodySink {
    bool write(const std::string& bytes) override {
        text += bytes;
        return true;
    }
    std::string text;
};

// A call's stream ends with its answer; a subscriptions/listen stream stays open, so it is only
// read once (`steps`).
void check(mcp::HttpResponse& response, int steps) {
    if (response.status < 200 || response.status > 599) std::abort();
    if (response.content_type == "application/json" && !response.body.empty() && !nlohmann::json::accept(response.body)) std::abort();
    if (response.stream) {
        StreamText sink;
        for (int step = 0; step < steps; ++step)
            if (response.stream(sink) != mcp::StreamStep::more) break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logging();
    static Server server;
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string head = newline == std::string::npos ? "" : input.substr(0, newline);
    const std::string body = newline == std::string::npos ? input : input.substr(newline + 1);
    const auto values = split(head, '|');
    fuzz::expect_clean_outcome([&] {
        mcp::HttpResponse response = send(server, body, values);
        const int steps = body.find("subscriptions/listen") == std::string::npos ? 200 : 1;
        check(response, steps);
        // Feed a requestState the server issued back, with one byte changed.
        const auto answer = nlohmann::json::parse(response.body, nullptr, false);
        if (answer.is_object() && answer.contains("result") && answer["result"].is_object() && answer["result"].contains("requestState")) {
            auto request = nlohmann::json::parse(body, nullptr, false);
            if (request.is_object() && request.contains("params") && request["params"].is_object()) {
                std::string state = answer["result"]["requestState"].get<std::string>();
                if (!state.empty()) state[size % state.size()] ^= 1;
                request["params"]["requestState"] = state;
                mcp::HttpResponse again = send(server, request.dump(), values);
                check(again, steps);
                if (again.body.find("\"error\"") == std::string::npos) std::abort();  // altered state must be refused
            }
        }
    });
    return 0;
}
