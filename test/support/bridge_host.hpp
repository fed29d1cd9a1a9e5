#pragma once
// The test as an MCP host of `client bridge`: one JSON-RPC message per line on the bridge's stdin
// and stdout, which lets a test kill servers, rotate certificates and send bad input in between,
// or speak either era of MCP itself (initialize, or 2026-07-28's _meta envelope).
#include "test/support/fixtures.hpp"
#include "test/support/stdio_process.hpp"

#include <chrono>
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
    // The 2025 handshake: initialize (2025-06-18), then notifications/initialized.
    json initialize();
    json call(const std::string& tool, json arguments);
    StdioProcess& process() { return process_; }
    const std::vector<json>& seen() const { return seen_; }
    std::string log() const { return process_.log(); }

private:
    TempDir logs_;
    StdioProcess process_;
    long next_id_ = 1;
    std::vector<json> seen_;
};

// The text blocks of a tools/call answer, joined; "" for an error.
std::string text_of(const nlohmann::json& answer);
// The message of an error answer; "" for a result.
std::string error_of(const nlohmann::json& answer);

}  // namespace mcpmtls::testing
