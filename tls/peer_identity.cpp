#include "tls/peer_identity.hpp"

#include "common/strings.hpp"

namespace mcpmtls::tls {

bool PeerIdentity::matches(const std::string& id) const {
    if (id.empty()) return false;
    if (!common_name.empty() && common_name == id) return true;
    for (const auto& uri : uris)
        if (uri == id) return true;
    const std::string lowered = to_lower(id);
    for (const auto& dns : dns_names)
        if (to_lower(dns) == lowered) return true;
    return false;
}

std::string PeerIdentity::display_name() const {
    if (!uris.empty()) return uris.front();
    if (!common_name.empty()) return common_name;
    if (!dns_names.empty()) return dns_names.front();
    return subject;
}

}  // namespace mcpmtls::tls
