#pragma once
// Which verified clients may see and call which tools. A valid certificate is identity, not yet
// permission: the policy (a server's --config "authorization" list) narrows it per tool.
//
//   "authorization": [
//     {"clients": ["spiffe://demo/coordinator", "spiffe://demo/agents/*"], "tools": ["*"]},
//     {"clients": ["intern"], "tools": ["echo", "get_*"]}
//   ]
//
// A client may use a tool when some rule names one of its identities (CN, DNS SAN or URI SAN,
// matched by PeerIdentity::matches, the matcher --allow-client uses too) and the tool; a
// trailing "*" matches any suffix. No rules at all: every verified client may use every tool.
#include "tls/peer_identity.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

class ToolPolicy {
public:
    ToolPolicy() = default;
    // Throws InputError with the offending rule's position.
    static ToolPolicy from_json(const nlohmann::json& rules);

    bool restricts() const { return !rules_.empty(); }
    bool allows(const tls::PeerIdentity& client, const std::string& tool) const;

private:
    struct Rule {
        std::vector<std::string> clients;
        std::vector<std::string> tools;
    };
    std::vector<Rule> rules_;
};

}  // namespace mcpmtls::mcp
