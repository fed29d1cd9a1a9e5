#pragma once
// What an MCP tool is to the server runtime: a name, JSON schemas and a handler.
#include "mcp/call_context.hpp"
#include "mcp/named_registry.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

using json = nlohmann::json;

struct ToolResult {
    json content = json::array();  // MCP content blocks, e.g. [{"type":"text","text":"..."}]
    json structured;               // structuredContent; null when the tool has no outputSchema
    bool is_error = false;         // a tool-level failure, reported with isError: true

    static ToolResult text(const std::string& text);
    // Structured data plus its human-readable rendering (MCP asks for both).
    static ToolResult structured_result(json data, const std::string& text);
    static ToolResult error(const std::string& message);
};

// Thrown by a handler when arguments pass the schema but are still unusable in a way that is
// the caller's protocol error rather than a tool failure; becomes JSON-RPC error -32602.
struct InvalidParams : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Tool {
    std::string name;
    std::string title;
    std::string description;
    json input_schema;   // JSON Schema object; arguments are validated against it before the call
    json output_schema;  // null when the result is not structured
    std::function<ToolResult(const json& arguments, const ToolCallContext& context)> handler;
    // Answered on a live event stream (when the client accepts one) because the handler talks to
    // the client while it runs: asks it something (sampling, elicitation), logs or reports as it
    // goes. Other calls are answered when they are done; a call that asks for progress
    // (_meta.progressToken) is streamed either way.
    bool streams = false;
};

class ToolRegistry : public NamedRegistry<Tool> {
public:
    ToolRegistry() : NamedRegistry("tool") {}
    const std::vector<Tool>& tools() const { return items(); }
};

}  // namespace mcpmtls::mcp
