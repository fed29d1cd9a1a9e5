#pragma once
// Prompts (prompts/list, prompts/get): message templates a client offers its user, each one
// value holding its arguments (with optional completion) and the function that renders it.
#include "mcp/completion.hpp"

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
};

class PromptRegistry {
public:
    // Throws std::invalid_argument on an empty or duplicate name.
    void add(Prompt prompt);
    const Prompt* find(const std::string& name) const;
    bool empty() const { return prompts_.empty(); }
    const std::vector<Prompt>& prompts() const { return prompts_; }

private:
    std::vector<Prompt> prompts_;
};

}  // namespace mcpmtls::mcp
