#include "mcp/tool_policy.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

namespace mcpmtls::mcp {
namespace {

bool pattern_matches(const std::string& pattern, const std::string& value, bool case_insensitive) {
    std::string p = case_insensitive ? to_lower(pattern) : pattern;
    std::string v = case_insensitive ? to_lower(value) : value;
    if (!p.empty() && p.back() == '*') return starts_with(v, p.substr(0, p.size() - 1));
    return p == v;
}

bool client_matches(const std::string& pattern, const tls::PeerIdentity& client) {
    if (!client.common_name.empty() && pattern_matches(pattern, client.common_name, false)) return true;
    for (const auto& uri : client.uris)
        if (pattern_matches(pattern, uri, false)) return true;
    for (const auto& dns : client.dns_names)
        if (pattern_matches(pattern, dns, true)) return true;
    return false;
}

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
        for (const auto& pattern : rule.clients) client_ok = client_ok || client_matches(pattern, client);
        if (!client_ok) continue;
        for (const auto& pattern : rule.tools)
            if (pattern_matches(pattern, tool, false)) return true;
    }
    return false;
}

}  // namespace mcpmtls::mcp
