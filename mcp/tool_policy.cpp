#include "mcp/tool_policy.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

#include <set>

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
    if (!rules.is_array())
        throw InputError("\"authorization\" must be a list of {\"clients\": [...], \"tools\": [...], \"scopes\": [...]}");
    ToolPolicy policy;
    for (size_t i = 0; i < rules.size(); ++i) {
        if (!rules[i].is_object()) throw InputError("authorization rule " + std::to_string(i + 1) + " must be an object");
        for (auto it = rules[i].begin(); it != rules[i].end(); ++it)
            if (it.key() != "clients" && it.key() != "tools" && it.key() != "scopes")
                throw InputError("authorization rule " + std::to_string(i + 1) + ": unknown key '" + it.key() + "'");
        Rule rule;
        rule.tools = strings(rules[i], "tools", i);
        // A rule without clients only asks for scopes; one with neither would mean nothing.
        if (rules[i].contains("scopes")) rule.scopes = strings(rules[i], "scopes", i);
        if (rules[i].contains("clients") || rule.scopes.empty()) {
            rule.clients = strings(rules[i], "clients", i);
            policy.restricts_clients_ = true;
        }
        policy.rules_.push_back(std::move(rule));
    }
    return policy;
}

bool ToolPolicy::Rule::applies_to(const tls::PeerIdentity& client) const {
    if (clients.empty()) return true;
    for (const auto& pattern : clients)
        if (client.matches(pattern)) return true;
    return false;
}

bool ToolPolicy::allows(const tls::PeerIdentity& client, const std::string& tool) const {
    if (!restricts_clients_) return true;
    for (const auto& rule : rules_) {
        if (rule.clients.empty() || !rule.applies_to(client)) continue;
        for (const auto& pattern : rule.tools)
            if (wildcard_match(pattern, tool, false)) return true;
    }
    return false;
}

std::vector<std::string> ToolPolicy::required_scopes(const tls::PeerIdentity& client, const std::string& tool) const {
    std::set<std::string> needed;
    for (const auto& rule : rules_) {
        if (rule.scopes.empty() || !rule.applies_to(client)) continue;
        for (const auto& pattern : rule.tools)
            if (wildcard_match(pattern, tool, false)) {
                needed.insert(rule.scopes.begin(), rule.scopes.end());
                break;
            }
    }
    return {needed.begin(), needed.end()};
}

std::vector<std::string> ToolPolicy::scopes() const {
    std::set<std::string> all;
    for (const auto& rule : rules_) all.insert(rule.scopes.begin(), rule.scopes.end());
    return {all.begin(), all.end()};
}

}  // namespace mcpmtls::mcp
