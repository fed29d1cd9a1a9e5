#include "mcp/tool.hpp"

namespace mcpmtls::mcp {

ToolResult ToolResult::text(const std::string& text) {
    ToolResult result;
    result.content.push_back({{"type", "text"}, {"text", text}});
    return result;
}

ToolResult ToolResult::structured_result(json data, const std::string& text) {
    ToolResult result = ToolResult::text(text);
    result.structured = std::move(data);
    return result;
}

ToolResult ToolResult::error(const std::string& message) {
    ToolResult result = ToolResult::text(message);
    result.is_error = true;
    return result;
}

}  // namespace mcpmtls::mcp
