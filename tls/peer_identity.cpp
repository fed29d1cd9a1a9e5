#include "tls/peer_identity.hpp"

#include "common/strings.hpp"

namespace mcpmtls::tls {

std::optional<SpiffeId> PeerIdentity::spiffe_id() const {
    if (uris.size() != 1) return std::nullopt;
    return parse_spiffe_id(uris.front());
}

bool PeerIdentity::matches(const std::string& pattern) const {
    if (pattern.empty()) return false;
    if (starts_with(pattern, "spiffe://")) {
        const auto id = spiffe_id();
        if (!id) return false;
        const auto rule = parse_spiffe_id(pattern);
        if (rule && rule->path.empty()) return rule->trust_domain == id->trust_domain;
        return wildcard_match(pattern, uris.front(), false);
    }
    if (!common_name.empty() && wildcard_match(pattern, common_name, false)) return true;
    for (const auto& uri : uris)
        if (wildcard_match(pattern, uri, false)) return true;
    for (const auto& dns : dns_names)
        if (wildcard_match(pattern, dns, true)) return true;
    return false;
}

std::string PeerIdentity::display_name() const {
    if (!uris.empty()) return uris.front();
    if (!common_name.empty()) return common_name;
    if (!dns_names.empty()) return dns_names.front();
    return subject;
}

}  // namespace mcpmtls::tls
