#include "tls/peer_identity.hpp"

#include "common/strings.hpp"

namespace mcpmtls::tls {

bool PeerIdentity::matches(const std::string& pattern) const {
    if (pattern.empty()) return false;
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
