#include "mcp/call_context.hpp"

#include <array>
#include <thread>

namespace mcpmtls::mcp {
namespace {
constexpr std::array<const char*, 8> kLevelNames = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
}

const char* log_level_name(LogLevel level) { return kLevelNames[static_cast<size_t>(level)]; }

std::optional<LogLevel> parse_log_level(const std::string& name) {
    for (size_t i = 0; i < kLevelNames.size(); ++i)
        if (name == kLevelNames[i]) return static_cast<LogLevel>(i);
    return std::nullopt;
}

bool ToolCallContext::sleep_for(std::chrono::milliseconds duration) const {
    if (channel) return channel->wait(duration);
    std::this_thread::sleep_for(duration);
    return true;
}

void ToolCallContext::progress(double value, std::optional<double> total, const std::string& message) const {
    if (channel) channel->progress(value, total, message);
}

void ToolCallContext::log(LogLevel level, const json& data, const std::string& logger) const {
    if (channel) channel->log(level, data, logger);
}

ElicitResult ToolCallContext::elicit(const std::string& message, const json& requested_schema,
                                     std::chrono::milliseconds timeout) const {
    if (!channel) throw ClientRequestError("no client to ask: the tool is not running inside the MCP runtime");
    const json answer = channel->ask_client("elicitation/create", {{"message", message}, {"requestedSchema", requested_schema}}, timeout);
    ElicitResult result;
    result.action = answer.value("action", "");
    if (result.action != "accept" && result.action != "decline" && result.action != "cancel")
        throw ClientRequestError("the client answered elicitation/create with an unknown action '" + result.action + "'");
    if (answer.contains("content") && answer["content"].is_object()) result.content = answer["content"];
    return result;
}

json ToolCallContext::sample(const json& params, std::chrono::milliseconds timeout) const {
    if (!channel) throw ClientRequestError("no client to ask: the tool is not running inside the MCP runtime");
    return channel->ask_client("sampling/createMessage", params, timeout);
}

void ToolCallContext::close_stream() const {
    if (channel) channel->close_stream();
}

void ToolCallContext::resource_updated(const std::string& uri) const {
    if (channel) channel->resource_updated(uri);
}

}  // namespace mcpmtls::mcp
