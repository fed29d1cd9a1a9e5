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

std::vector<json> CallChannel::ask_all(const std::vector<InputRequest>& requests, std::chrono::milliseconds timeout) {
    std::vector<json> answers;
    for (const auto& request : requests) answers.push_back(ask_client(request.method, request.params, timeout));
    return answers;
}

ElicitResult ToolCallContext::parse_elicit_result(const json& answer) {
    ElicitResult result;
    result.action = answer.is_object() ? answer.value("action", "") : "";
    if (result.action != "accept" && result.action != "decline" && result.action != "cancel")
        throw ClientRequestError("the client answered elicitation/create with an unknown action '" + result.action + "'");
    if (answer.contains("content") && answer["content"].is_object()) result.content = answer["content"];
    return result;
}

std::vector<json> ToolCallContext::ask_all(const std::vector<InputRequest>& requests, std::chrono::milliseconds timeout) const {
    if (!channel) throw ClientRequestError("no client to ask: the tool is not running inside the MCP runtime");
    return channel->ask_all(requests, timeout);
}

ElicitResult ToolCallContext::elicit(const std::string& message, const json& requested_schema, std::chrono::milliseconds timeout,
                                     const std::string& key) const {
    return parse_elicit_result(
        ask_all({{key, "elicitation/create", {{"message", message}, {"requestedSchema", requested_schema}}}}, timeout).at(0));
}

json ToolCallContext::sample(const json& params, std::chrono::milliseconds timeout, const std::string& key) const {
    return ask_all({{key, "sampling/createMessage", params}}, timeout).at(0);
}

json ToolCallContext::list_roots(std::chrono::milliseconds timeout, const std::string& key) const {
    return ask_all({{key, "roots/list", json::object()}}, timeout).at(0);
}

void ToolCallContext::close_stream() const {
    if (channel) channel->close_stream();
}

void ToolCallContext::resource_updated(const std::string& uri) const {
    if (channel) channel->resource_updated(uri);
}

}  // namespace mcpmtls::mcp
