#include "mcp/prompts.hpp"

#include <stdexcept>

namespace mcpmtls::mcp {

void PromptRegistry::add(Prompt prompt) {
    if (prompt.name.empty()) throw std::invalid_argument("a prompt needs a name");
    if (find(prompt.name)) throw std::invalid_argument("prompt '" + prompt.name + "' is registered twice");
    prompts_.push_back(std::move(prompt));
}

const Prompt* PromptRegistry::find(const std::string& name) const {
    for (const auto& prompt : prompts_)
        if (prompt.name == name) return &prompt;
    return nullptr;
}

}  // namespace mcpmtls::mcp
