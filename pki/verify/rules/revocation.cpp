// Revocation by CRL, RFC 5280 6.3 (docs/verification-policy.md, "Revocation"): for each
// certificate of the path but the anchor, which of its issuer's CRLs count (signed by the
// issuer's key or a rolled-over key of the same name, allowed to sign CRLs, in scope by their
// issuingDistributionPoint, current), whether together they cover every reason, and whether one
// lists the certificate. A certificate whose issuer has no CRL at all is not checked.
#include "pki/der.hpp"
#include "pki/verify/rule_support.hpp"

#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509_ext.h>

#include <algorithm>

namespace mcpmtls::pki::rules {
namespace {

using der::GeneralName;

constexpr unsigned kAllReasons = 0x1fe;  // ReasonFlags bits 1..8 (keyCompromise .. aACompromise)

unsigned reason_bits(const std::vector<uint8_t>& bit_string) {
    unsigned bits = 0;
    for (size_t byte = 1; byte < bit_string.size() && byte <= 2; ++byte)
        for (int bit = 0; bit < 8; ++bit)
            if (bit_string[byte] & (0x80 >> bit)) bits |= 1u << ((byte - 1) * 8 + bit);
    return bits;
}

// A distribution point's names in one comparable form each; a name relative to the CRL issuer
// becomes the issuer's name plus that RDN (RFC 5280 4.2.1.13).
std::vector<std::string> dp_names(const der::DistributionPointName& name, const std::vector<uint8_t>& crl_issuer) {
    auto dn_form = [](const std::vector<der::Rdn>& rdns) {
        std::string out = "dn:";
        for (const auto& rdn : rdns) {
            out += "/";
            for (const auto& a : rdn) out += a.oid + "=" + a.value + "+";
        }
        return out;
    };
    std::vector<std::string> out;
    for (const auto& g : name.full_names) {
        if (g.type == GeneralName::directory) out.push_back(dn_form(der::parse_name(g.value)));
        else out.push_back(std::to_string(static_cast<int>(g.type)) + ":" + g.text + std::string(g.value.begin(), g.value.end()));
    }
    if (name.relative) {
        auto rdns = der::parse_name(crl_issuer);
        rdns.push_back(*name.relative);
        out.push_back(dn_form(rdns));
    }
    return out;
}

bool crl_verifies(const Botan::X509_CRL& crl, const Botan::X509_Certificate& signer) {
    try {
        auto key = signer.load_subject_public_key();
        return crl.check_signature(*key);
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

void check_revocation(const Path& path, const std::vector<const Botan::X509_CRL*>& crls, TimePoint at,
                      std::vector<VerifyFailure>& failures) {
    const Botan::X509_Time now(at);
    for (size_t i = 0; i + 1 < path.size(); ++i) {
        const auto& cert = *path[i];
        const std::string who_msg = i == 0 ? "certificate" : "issuer certificate";
        const std::string which = i == 0 ? "" : label(cert);
        std::vector<const Botan::X509_CRL*> from_issuer;
        for (const auto* crl : crls)
            if (crl->issuer_dn() == cert.issuer_dn()) from_issuer.push_back(crl);
        if (from_issuer.empty()) continue;  // no CRL from this issuer: not checked

        const auto extensions = extensions_of(cert);
        const bool cert_is_ca = asserts_ca(extensions);
        std::vector<der::DistributionPoint> points;
        if (const Extension* dp = find(extensions, oid::kCrlDistributionPoints)) {
            try {
                points = der::parse_crl_distribution_points(dp->value);
            } catch (const der::Malformed&) {
            }
        }
        unsigned covered = 0;
        bool revoked = false;
        std::string problem;
        for (const auto* crl : from_issuer) {
            // Signed by the issuer's key, or (key rollover) by a certificate of the same name
            // in the path that carries a newer key.
            const Botan::X509_Certificate* signer = nullptr;
            for (size_t j = i + 1; j < path.size() && !signer; ++j)
                if (path[j]->subject_dn() == cert.issuer_dn() && crl_verifies(*crl, *path[j])) signer = path[j].get();
            if (!signer) {
                problem = "CRL signature is invalid";
                continue;
            }
            if (signer->v3_extensions().extension_set(Botan::OID(oid::kKeyUsage)) && !(signer->constraints() & Botan::CRL_SIGN)) {
                problem = "CRL issuer may not sign CRLs";
                continue;
            }
            unsigned reasons = kAllReasons;
            bool in_scope = true, unknown_critical = false;
            for (const auto& [id, raw] : crl->extensions().extensions_raw()) {
                const std::string dotted = id.to_string();
                if (dotted == oid::kDeltaCrlIndicator) in_scope = false;  // a delta CRL: not used
                if (dotted == oid::kIssuingDistributionPoint) {
                    try {
                        auto idp = der::parse_issuing_distribution_point(raw.first);
                        if (idp.indirect || idp.only_attribute) in_scope = false;
                        if (idp.only_user && cert_is_ca) in_scope = false;
                        if (idp.only_ca && !cert_is_ca) in_scope = false;
                        if (idp.only_some_reasons) reasons = reason_bits(*idp.only_some_reasons) & kAllReasons;
                        if (idp.name) {
                            bool match = false;
                            const auto issuer = cert.raw_issuer_dn();
                            const auto theirs = dp_names(*idp.name, issuer);
                            for (const auto& point : points)
                                if (point.name && point.crl_issuer.empty())
                                    for (const auto& a : dp_names(*point.name, issuer))
                                        match = match || std::find(theirs.begin(), theirs.end(), a) != theirs.end();
                            if (!match) in_scope = false;
                        }
                    } catch (const der::Malformed&) {
                        in_scope = false;
                    }
                } else if (raw.second && dotted != oid::kCrlNumber && dotted != oid::kAuthorityKeyId &&
                           dotted != oid::kDeltaCrlIndicator) {
                    unknown_critical = true;
                }
            }
            if (!in_scope) continue;
            if (unknown_critical) {
                failures.push_back({CheckFailure::revocation_unavailable, "CRL has an unknown critical extension"});
                revoked = true;
                continue;
            }
            if (now < crl->this_update()) {
                problem = "CRL is not yet valid";
                continue;
            }
            if (now > crl->next_update()) {
                problem = "CRL has expired (run pki crl)";
                continue;
            }
            covered |= reasons;
            for (const auto& entry : crl->get_revoked())
                if (entry.serial_number() == cert.serial_number() && entry.reason_code() != Botan::CRL_Code::REMOVE_FROM_CRL)
                    revoked = true;
        }
        if (revoked) {
            failures.push_back({CheckFailure::revoked, who_msg + " is revoked" + which});
        } else if ((covered & kAllReasons) != kAllReasons) {
            failures.push_back({CheckFailure::revocation_unavailable,
                                problem.empty() ? "no CRL from the issuer covers the " + who_msg + which : problem + which});
        }
    }
}

}  // namespace mcpmtls::pki::rules
