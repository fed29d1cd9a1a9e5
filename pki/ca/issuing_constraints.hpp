#pragma once
// Private to pki/: the name constraints an intermediate carries (pki init --intermediate
// --permit-*) and the check every leaf passes before it is signed. Botan 2 decodes
// NameConstraints but cannot encode them, so the extension's DER is built here.
#include "pki/ca/authority.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mcpmtls::pki {

// The value of a NameConstraints extension permitting `permitted`. When names are permitted but
// no IP range is, every IPv4 and IPv6 address is excluded: RFC 5280 leaves a form without
// constraints unconstrained, and an IP SAN would otherwise slip past a DNS-only intermediate.
// Throws InputError for a bad suffix, host or CIDR (host bits set, prefix out of range).
std::vector<uint8_t> encode_name_constraints(const PermittedNames& permitted);

// Throws OperationError when a name of `leaf` lies outside the name constraints of `ca` (the
// verifier's judgement, RFC 5280 4.2.1.10), or is of a form the CA permits none of while
// permitting others (stricter than RFC 5280: pki issues only what the constraints name). The
// message names the name and the constraints.
void require_names_within_constraints(const Certificate& leaf, const Certificate& ca);

}  // namespace mcpmtls::pki
