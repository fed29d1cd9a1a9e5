#pragma once
// The test as an MCP host of `client bridge`: one JSON-RPC message per line on the bridge's stdin
// and stdout, which lets a test kill servers, rotate certificates and send bad input in between,
// or speak either era of MCP itself (initialize, or 2026-07-28's _meta envelope).
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"
#include "test/support/stdio_process.hpp"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class BridgeUnderTest {
public:
    using json = nlohmann::json;
    explicit BridgeUnderTest(std::vector<std::string> argv);

    // Sends a request and returns its answer; everything else read meanwhile is kept in seen().
    json request(const std::string& method, json params = json::object(), std::chrono::milliseconds wait = std::chrono::seconds(30));
    // Answers may come in any order (the bridge forwards requests concurrently): one read
    // earlier while waiting for another is taken from seen().
    json answer_to(const json& id, std::chrono::milliseconds wait = std::chrono::seconds(30));
    void notify(const std::string& method, json params = nullptr);
    // The next notification with this method (one read earlier is taken from seen()); null when
    // none comes within `wait`.
    json notification(const std::string& method, std::chrono::milliseconds wait = std::chrono::seconds(10));
    // The next request the bridge sends the host with this method (elicitation/create...).
    json host_request(const std::string& method, std::chrono::milliseconds wait = std::chrono::seconds(10));
    // The 2025 handshake: initialize (2025-06-18), then notifications/initialized.
    json initialize();
    json call(const std::string& tool, json arguments);
    StdioProcess& process() { return process_; }
    const std::vector<json>& seen() const { return seen_; }
    std::string log() const { return process_.log(); }

private:
    // The first message, read earlier (seen()) or now, that `wanted` picks; null after `wait`.
    json take(const std::function<bool(const json&)>& wanted, std::chrono::milliseconds wait);
    TempDir logs_;
    StdioProcess process_;
    long next_id_ = 1;
    std::vector<json> seen_;
};

// The text blocks of a tools/call answer, joined; "" for an error.
std::string text_of(const nlohmann::json& answer);
// The message of an error answer; "" for a result.
std::string error_of(const nlohmann::json& answer);

// `client bridge NAME` (a server's name, or --all) with the coordinator's credentials and one
// --server SPEC (NAME=URL) per entry of `servers`.
std::vector<std::string> bridge_command(const DemoPki& pki, const std::vector<std::string>& servers, const std::string& name);
std::vector<std::string> bridge_command(const DemoPki& pki, const std::string& server, const std::string& name);
// A 2026-07-28 request's params: `params` with the per-request _meta envelope.
nlohmann::json enveloped(nlohmann::json params = nlohmann::json::object(), nlohmann::json capabilities = nlohmann::json::object(),
                         const std::string& version = "2026-07-28");
// Checks what a 2026-07-28 host gets from the bridge whatever the server behind it speaks:
// discover answered in our servers' shape (serverInfo `server_name`), tools/list with the
// caching hints and `tool` in it, the call's `text` with resultType "complete", and a refusal of
// an unknown tool that names it (not a failure to reach a server). Every request declares
// `capabilities`, as a host does.
void serve_2026_host(BridgeUnderTest& bridge, const std::string& server_name, const std::string& tool, const nlohmann::json& arguments,
                     const std::string& text, const nlohmann::json& capabilities = nlohmann::json::object());
// The 2026 SDK fixture's (test/bridge/modern-server.mjs) `deploy` tool through the bridge, as a
// 2026-07-28 host answers it: its input-required result reaches the host as the server made it,
// and the retry with the answer and the unchanged requestState completes. Returns that result.
nlohmann::json deploy_through(BridgeUnderTest& bridge, const nlohmann::json& capabilities);
// The SDK v2 client as a 2026-07-28 host (test/modern/sdk2_stdio_host.mjs) running `bridge` over
// stdio, listing the tools and calling `tool`: its one line ({version, server, tools, result}),
// checked to have run in 2026-07-28.
nlohmann::json sdk2_stdio_host(const SdkHost& host, const std::string& tool, const nlohmann::json& arguments,
                               const std::vector<std::string>& bridge);
// Checks that the bridge's stdout carried JSON-RPC messages and nothing else.
void only_json_rpc(BridgeUnderTest& bridge);

}  // namespace mcpmtls::testing
