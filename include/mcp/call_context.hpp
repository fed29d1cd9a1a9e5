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
#include <vector>

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

// One question for the client: `key` names it in an MCP 2026-07-28 input-required result (the
// client answers under the same key); "" lets the runtime number it (input-1, input-2, ...).
struct InputRequest {
    std::string key;
    std::string method;  // elicitation/create, sampling/createMessage, roots/list
    json params = json::object();
};

// MCP 2026-07-28: the call needs answers the client has not given yet. The runtime ends the round
// with an input-required result listing `requests` (key -> {method, params}) and runs the handler
// again, from the start, when the client comes back with the answers. Handlers let it pass.
struct InputRequired : std::exception {
    explicit InputRequired(json requests) : requests(std::move(requests)) {}
    const char* what() const noexcept override { return "the call needs input from the client"; }
    json requests;
};

// MCP 2026-07-28: the call needs a capability ("sampling", "elicitation", "roots") the client did
// not declare in its request; answered with error -32021. Handlers let it pass.
struct MissingClientCapability : std::exception {
    explicit MissingClientCapability(std::string capability) : capability(std::move(capability)) {}
    const char* what() const noexcept override { return "the client did not declare a capability the call needs"; }
    std::string capability;
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
    // Several questions at once, answers in the same order. A stateless (2026-07-28) channel
    // throws InputRequired with every question not answered yet; a session asks them one by one.
    virtual std::vector<json> ask_all(const std::vector<InputRequest>& requests, std::chrono::milliseconds timeout);
    // Whether the client declared `capability` (its session's, or its request's in 2026-07-28).
    virtual bool client_supports(const std::string& capability) const = 0;
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
    // `key`: the name of the question in a 2026-07-28 input-required result ("" numbers it).
    ElicitResult elicit(const std::string& message, const json& requested_schema,
                        std::chrono::milliseconds timeout = std::chrono::minutes(5), const std::string& key = "") const;
    // sampling/createMessage: `params` as the specification has them (messages, maxTokens, ...).
    json sample(const json& params, std::chrono::milliseconds timeout = std::chrono::minutes(5), const std::string& key = "") const;
    // roots/list: the client's answer ({"roots": [...]}).
    json list_roots(std::chrono::milliseconds timeout = std::chrono::minutes(1), const std::string& key = "") const;
    // Several questions in one round (2026-07-28 asks them together); answers in order.
    std::vector<json> ask_all(const std::vector<InputRequest>& requests,
                              std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;
    // Whether the client declared "sampling", "elicitation" or "roots": a tool can ask only what
    // the client can answer. False outside the runtime.
    bool client_supports(const std::string& capability) const { return channel && channel->client_supports(capability); }
    // An elicitation/create answer as ElicitResult; throws ClientRequestError when malformed.
    static ElicitResult parse_elicit_result(const json& answer);
    void close_stream() const;
    // Tells clients subscribed to `uri` that it changed (notifications/resources/updated).
    void resource_updated(const std::string& uri) const;
};

}  // namespace mcpmtls::mcp
