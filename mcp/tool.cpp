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

void ToolRegistry::add(Tool tool) {
    if (tool.name.empty()) throw std::invalid_argument("a tool needs a name");
    if (find(tool.name)) throw std::invalid_argument("tool '" + tool.name + "' is registered twice");
    tools_.push_back(std::move(tool));
}

const Tool* ToolRegistry::find(const std::string& name) const {
    for (const auto& tool : tools_)
        if (tool.name == name) return &tool;
    return nullptr;
}

}  // namespace mcpmtls::mcp
