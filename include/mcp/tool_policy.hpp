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
//
// With OAuth (mcp/oauth.hpp), a rule may also name the token scopes its tools need; a rule with
// scopes and without clients only asks for scopes, for every client:
//
//     {"tools": ["get_forecast"], "scopes": ["weather:read"]},
//     {"clients": ["spiffe://demo/ops"], "tools": ["*"], "scopes": ["admin"]}
//
// A call needs every scope of every rule that names its tool and applies to its client; a token
// without them gets 403 insufficient_scope, naming them.
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

    bool restricts() const { return restricts_clients_; }
    bool allows(const tls::PeerIdentity& client, const std::string& tool) const;
    // The scopes a token must hold for `client` to call `tool` (sorted, without repeats).
    std::vector<std::string> required_scopes(const tls::PeerIdentity& client, const std::string& tool) const;
    // Every scope a rule names (for the resource's scopes_supported).
    std::vector<std::string> scopes() const;

private:
    struct Rule {
        std::vector<std::string> clients;  // empty: every client (a rule of scopes only)
        std::vector<std::string> tools;
        std::vector<std::string> scopes;
        bool applies_to(const tls::PeerIdentity& client) const;
    };
    bool restricts_clients_ = false;
    std::vector<Rule> rules_;
};

}  // namespace mcpmtls::mcp
