// Rules over the whole path rather than one certificate: a CA's keyUsage must allow
// keyCertSign (RFC 5280 6.1.4 (n)), an issuer's EKU limits what it vouches for (as in Chrome),
// and the path engines (name constraints, policies) run over the certificates whose own
// extensions count: the anchor's only when anchor_constraints_apply().
#include "pki/verify/rule_support.hpp"

namespace mcpmtls::pki::rules {
namespace {

std::string purpose_oid(Purpose purpose) { return purpose == Purpose::server_auth ? oid::kServerAuth : oid::kClientAuth; }

}  // namespace

bool anchor_constraints_apply(const Path& path, const VerifyOptions& options) {
    return options.anchor_constraints == AnchorConstraints::enforce || path.size() < 2;
}

void check_path(const Path& path, const VerifyOptions& options, std::vector<VerifyFailure>& failures) {
    if (path.empty()) return;
    const bool anchor_counts = anchor_constraints_apply(path, options);
    // Index of the highest certificate whose own extensions constrain the path.
    const size_t first_ca = anchor_counts ? path.size() - 1 : path.size() - 2;
    for (size_t i = 1; i <= first_ca; ++i) {
        const auto& ca = *path[i];
        const auto extensions = extensions_of(ca);
        // A CA whose keyUsage is present must allow keyCertSign (RFC 5280 4.2.1.3, 6.1.4 (n)).
        if (asserts_ca(extensions) && find(extensions, oid::kKeyUsage) && !(ca.constraints() & Botan::KEY_CERT_SIGN))
            failures.push_back({CheckFailure::not_a_ca, "issuer is not a CA" + label(ca) + ": key usage lacks keyCertSign"});
        // The EKU of an issuer, when present, restricts what it can vouch for.
        if (options.purpose != Purpose::any && find(extensions, oid::kExtKeyUsage)) {
            const auto ekus = eku_oids(ca);
            if (!contains(ekus, purpose_oid(options.purpose)) && !contains(ekus, oid::kAnyExtendedKeyUsage))
                failures.push_back({CheckFailure::wrong_purpose, "issuer EKU does not allow " + purpose_eku_name(options.purpose) + label(ca)});
        }
    }
    check_name_constraints(path, first_ca, failures);
    const std::string policy = check_policies(path, options.policy, anchor_counts);
    if (!policy.empty()) failures.push_back({CheckFailure::other, "certificate policies: " + policy});
}

}  // namespace mcpmtls::pki::rules
