#pragma once
// What a running tool call can do besides returning its result: report progress, log to the
// client, notice that the client cancelled it, and ask the client something (sampling,
// elicitation) while it waits. The runtime implements CallChannel for each call; a handler only
// sees ToolCallContext, whose methods do nothing when there is no channel (a handler called
// directly, as unit tests do), so tools stay plain functions.
#include "tls/peer_identity.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace mcpmtls::mcp {

using json = nlohmann::json;

// MCP's logging levels (RFC 5424 severities), least severe first.
enum class LogLevel { debug, info, notice, warning, error, critical, alert, emergency };
const char* log_level_name(LogLevel level);
std::optional<LogLevel> parse_log_level(const std::string& name);

// A request to the client that did not get a usable answer: the client cannot take it (no
// capability, no event stream to send it on), refused it with a JSON-RPC error, did not answer
// in time, or the call was cancelled meanwhile.
struct ClientRequestError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class CallChannel {
public:
    virtual ~CallChannel() = default;
    virtual bool cancelled() const = 0;
    // Waits, returning early (false) when the call is cancelled.
    virtual bool wait(std::chrono::milliseconds duration) = 0;
    virtual void progress(double progress, std::optional<double> total, const std::string& message) = 0;
    virtual void log(LogLevel level, const json& data, const std::string& logger) = 0;
    // Sends a JSON-RPC request to the client and waits for its result; throws ClientRequestError.
    virtual json ask_client(const std::string& method, const json& params, std::chrono::milliseconds timeout) = 0;
    // Ends the HTTP response carrying the call's event stream; the client reconnects with
    // Last-Event-ID and gets the rest (SSE polling).
    virtual void close_stream() = 0;
    virtual void resource_updated(const std::string& uri) = 0;
};

// The answer to elicitation/create: "accept" (with content), "decline" or "cancel".
struct ElicitResult {
    std::string action;
    json content = json::object();
};

// What a handler knows about the call besides its arguments, and what it may do while running.
struct ToolCallContext {
    const tls::PeerIdentity& client;  // the verified client certificate's identity
    CallChannel* channel = nullptr;   // null outside the runtime

    bool cancelled() const { return channel && channel->cancelled(); }
    // Sleeps; false when the call was cancelled meanwhile.
    bool sleep_for(std::chrono::milliseconds duration) const;
    // Sent only when the request carried _meta.progressToken, and only while progress grows.
    void progress(double progress, std::optional<double> total = std::nullopt, const std::string& message = "") const;
    // Sent when `level` is at or above the level the client set with logging/setLevel.
    void log(LogLevel level, const json& data, const std::string& logger = "") const;
    // elicitation/create: asks the user, through the client, for input matching `requested_schema`.
    ElicitResult elicit(const std::string& message, const json& requested_schema,
                        std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;
    // sampling/createMessage: `params` as the specification has them (messages, maxTokens, ...).
    json sample(const json& params, std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;
    void close_stream() const;
    // Tells clients subscribed to `uri` that it changed (notifications/resources/updated).
    void resource_updated(const std::string& uri) const;
};

}  // namespace mcpmtls::mcp
