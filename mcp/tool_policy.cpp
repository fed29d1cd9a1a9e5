#include "mcp/tool_policy.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

namespace mcpmtls::mcp {
namespace {

std::vector<std::string> strings(const nlohmann::json& rule, const char* key, size_t index) {
    const std::string where = "authorization rule " + std::to_string(index + 1);
    if (!rule.contains(key) || !rule[key].is_array() || rule[key].empty())
        throw InputError(where + " needs a non-empty \"" + key + "\" list");
    std::vector<std::string> out;
    for (const auto& item : rule[key]) {
        if (!item.is_string() || item.get<std::string>().empty())
            throw InputError(where + ": \"" + key + "\" must hold non-empty strings");
        out.push_back(item.get<std::string>());
    }
    return out;
}

}  // namespace

ToolPolicy ToolPolicy::from_json(const nlohmann::json& rules) {
    if (!rules.is_array()) throw InputError("\"authorization\" must be a list of {\"clients\": [...], \"tools\": [...]}");
    ToolPolicy policy;
    for (size_t i = 0; i < rules.size(); ++i) {
        if (!rules[i].is_object()) throw InputError("authorization rule " + std::to_string(i + 1) + " must be an object");
        for (auto it = rules[i].begin(); it != rules[i].end(); ++it)
            if (it.key() != "clients" && it.key() != "tools")
                throw InputError("authorization rule " + std::to_string(i + 1) + ": unknown key '" + it.key() + "'");
        policy.rules_.push_back({strings(rules[i], "clients", i), strings(rules[i], "tools", i)});
    }
    return policy;
}

bool ToolPolicy::allows(const tls::PeerIdentity& client, const std::string& tool) const {
    if (rules_.empty()) return true;
    for (const auto& rule : rules_) {
        bool client_ok = false;
        for (const auto& pattern : rule.clients) client_ok = client_ok || client.matches(pattern);
        if (!client_ok) continue;
        for (const auto& pattern : rule.tools)
            if (wildcard_match(pattern, tool, false)) return true;
    }
    return false;
}

}  // namespace mcpmtls::mcp
