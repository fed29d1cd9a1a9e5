#include "services/echo_tools.hpp"

#include "mcp/json_schema.hpp"

namespace mcpmtls::services {

void add_echo_tools(mcp::ToolRegistry& registry) {
    using mcp::json;
    registry.add(mcp::Tool{
        "echo",
        "Echo",
        "Returns the message unchanged (any Unicode text). Useful to test connectivity and mutual TLS.",
        mcp::object_schema({{"message", {{"type", "string"}, {"description", "Text to echo back"}}}}, {"message"}),
        mcp::object_schema({{"message", {{"type", "string"}}}}, {"message"}, false),
        [](const json& arguments, const mcp::ToolCallContext&) {
            const std::string& message = arguments.at("message").get_ref<const std::string&>();
            return mcp::ToolResult::structured_result({{"message", message}}, message);
        }});
}

server::ServerDescription echo_server() {
    return {"echo-server", "echo", "Echo", 8445,
            "Echoes messages back unchanged. Use it to check connectivity and mutual TLS.",
            [](mcp::ToolRegistry& registry) { add_echo_tools(registry); },
            nullptr};
}

}  // namespace mcpmtls::services
