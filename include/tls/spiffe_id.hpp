#pragma once
// SPIFFE IDs as X.509-SVIDs carry them (spiffe://TRUST-DOMAIN/PATH, the certificate's only URI
// SAN), parsed strictly as the SPIFFE ID specification and go-spiffe do: a lower-case trust
// domain of letters, digits, '.', '-' and '_'; path segments of letters, digits, '.', '-' and
// '_', none empty, "." or ".."; no port, user, query, fragment or percent-encoding. A URI that
// is not such an ID never matches a SPIFFE rule, so that a look-alike cannot pass for one.
#include <optional>
#include <string>

namespace mcpmtls::tls {

struct SpiffeId {
    std::string trust_domain;  // "prod.acme"
    std::string path;          // "/ns/prod/sa/agent"; empty for the trust domain's own ID
};

std::optional<SpiffeId> parse_spiffe_id(const std::string& uri);
bool is_trust_domain_name(const std::string& name);

// Throws InputError when `pattern` (an --allow-client value or an authorization rule's client)
// starts with spiffe:// but is neither a SPIFFE ID nor one followed by a '*' wildcard: such a
// rule could never match, and a typo in an allow-list must not pass silently.
void check_identity_pattern(const std::string& pattern);

// "prod.acme" or "spiffe://prod.acme" -> "prod.acme"; throws InputError for anything else.
std::string parse_trust_domain(const std::string& text);

}  // namespace mcpmtls::tls
