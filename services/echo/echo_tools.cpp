#include "services/echo_tools.hpp"

namespace mcpmtls::services {

void add_echo_tools(mcp::ToolRegistry& registry) {
    using mcp::json;
    registry.add(mcp::Tool{
        "echo",
        "Echo",
        "Returns the message unchanged (any Unicode text). Useful to test connectivity and mutual TLS.",
        json{{"type", "object"},
             {"properties", {{"message", {{"type", "string"}, {"description", "Text to echo back"}}}}},
             {"required", {"message"}},
             {"additionalProperties", false}},
        json{{"type", "object"},
             {"properties", {{"message", {{"type", "string"}}}}},
             {"required", {"message"}}},
        [](const json& arguments, const mcp::ToolCallContext&) {
            const std::string& message = arguments.at("message").get_ref<const std::string&>();
            return mcp::ToolResult::structured_result({{"message", message}}, message);
        }});
}

}  // namespace mcpmtls::services
