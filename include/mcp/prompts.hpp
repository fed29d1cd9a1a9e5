#pragma once
// Prompts (prompts/list, prompts/get): message templates a client offers its user, each one
// value holding its arguments (with optional completion) and the function that renders it.
#include "mcp/call_context.hpp"
#include "mcp/completion.hpp"
#include "mcp/named_registry.hpp"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

struct PromptArgument {
    std::string name;
    std::string description;
    bool required = false;
    Completer complete;  // optional
};

struct Prompt {
    std::string name;
    std::string title;
    std::string description;
    std::vector<PromptArgument> arguments;
    // The prompts/get result: {"messages": [...]} (see mcp::prompt_message), optionally a "description".
    // Throws InvalidParams (mcp/tool.hpp) for arguments it cannot use.
    std::function<nlohmann::json(const std::map<std::string, std::string>& arguments)> render;
    // Instead of `render`, for a prompt that asks the client something first (ctx.elicit(), ...):
    // with MCP 2026-07-28 the question becomes an input-required result.
    std::function<nlohmann::json(const std::map<std::string, std::string>& arguments, const ToolCallContext& ctx)> render_asking = nullptr;
};

class PromptRegistry : public NamedRegistry<Prompt> {
public:
    PromptRegistry() : NamedRegistry("prompt") {}
    const std::vector<Prompt>& prompts() const { return items(); }
};

}  // namespace mcpmtls::mcp
