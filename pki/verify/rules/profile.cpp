// Rules for one certificate wherever it sits in a path, and for a TLS leaf (docs/verification-
// policy.md: "Critical extensions", "Well-formed certificates", "The TLS leaf", algorithms).
// Botan 2 parses certificates leniently; these rules refuse what would let a certificate mean
// more than it says: critical extensions nobody enforces, names or extensions that do not decode
// (they could not be matched against name constraints or hosts), keys and signature algorithms
// outside the ones we accept, and leaves that are CAs or claim any purpose. Each rule has a
// security reason; RFC 5280 profile rules without one (key identifiers, serial number form,
// criticality of informational extensions) are not enforced, as Go's crypto/x509 and
// rustls-webpki do not enforce them: certificates made by common tools must work.
#include "pki/der.hpp"
#include "pki/key_policy.hpp"
#include "pki/verify/rule_support.hpp"
#include "pki/names.hpp"

#include <botan/pk_keys.h>
#include <botan/x509_ext.h>

#include <algorithm>
#include <set>

namespace mcpmtls::pki::rules {
namespace {

using der::GeneralName;

// Signature algorithm families allowed in a chain (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519);
// the hash is Botan's concern (SHA-1 and weaker are refused there).
bool allowed_signature_algorithm(const std::string& id) {
    static const std::set<std::string> allowed = {
        "1.2.840.113549.1.1.5",  "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
        "1.2.840.113549.1.1.14", "1.2.840.113549.1.1.10",  // RSA with SHA-1/256/384/512/224, RSASSA-PSS
        "1.2.840.10045.4.1",     "1.2.840.10045.4.3.1",    "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
        "1.2.840.10045.4.3.4",   // ECDSA with SHA-1/224/256/384/512
        "1.3.101.112",           // Ed25519
    };
    return allowed.count(id) > 0;
}

void check_key_algorithm(const Botan::X509_Certificate& cert, size_t position, std::vector<VerifyFailure>& failures) {
    std::unique_ptr<Botan::Public_Key> key;
    try {
        key = cert.load_subject_public_key();
    } catch (const std::exception&) {
        failures.push_back({CheckFailure::malformed, "invalid public key" + who(cert, position)});
        return;
    }
    const std::string refusal = key_algorithm_refusal(*key);
    if (!refusal.empty()) failures.push_back({CheckFailure::weak_key, refusal + who(cert, position)});
}

}  // namespace


void check_certificate(const Botan::X509_Certificate& cert, size_t position, bool is_anchor,
                       std::vector<VerifyFailure>& failures) {
    const std::string which = who(cert, position);
    auto malformed = [&](const std::string& what) { failures.push_back({CheckFailure::malformed, what + which}); };
    const auto extensions = extensions_of(cert);

    // Critical extensions: those the verifier (or Botan, for it) enforces, and informational ones
    // that mean the same critical or not. Any other critical extension says the issuer expects
    // a rule we do not apply: refused, as by every verifier.
    static const std::set<std::string> understood = {
        oid::kBasicConstraints, oid::kKeyUsage, oid::kExtKeyUsage, oid::kSubjectAltName, oid::kIssuerAltName,
        oid::kNameConstraints, oid::kCertificatePolicies, oid::kPolicyMappings, oid::kPolicyConstraints,
        oid::kInhibitAnyPolicy, oid::kCrlDistributionPoints, oid::kAuthorityKeyId, oid::kSubjectKeyId,
        oid::kAuthorityInfoAccess, oid::kSubjectInfoAccess};
    for (const auto& [id, ext] : extensions)
        if (ext.critical && !understood.count(id)) failures.push_back({CheckFailure::malformed, "unknown critical extension" + which});
    // Extensions Botan decodes for us must have decoded.
    static const std::map<std::string, std::string> botan_decoded = {
        {oid::kBasicConstraints, "basicConstraints"}, {oid::kKeyUsage, "keyUsage"}, {oid::kExtKeyUsage, "extendedKeyUsage"},
        {oid::kAuthorityKeyId, "authorityKeyIdentifier"}, {oid::kSubjectKeyId, "subjectKeyIdentifier"},
        {oid::kAuthorityInfoAccess, "authorityInfoAccess"}};
    for (const auto& [id, name] : botan_decoded) {
        if (!extensions.count(id)) continue;
        auto* object = cert.v3_extensions().get_extension_object(Botan::OID(id));
        if (!object || dynamic_cast<const Botan::Cert_Extension::Unknown_Extension*>(object)) malformed("malformed " + name + " extension");
    }

    // Names: they are matched against hosts, allow-lists and name constraints, so they must
    // decode, and a dNSName must be one (a name we cannot read could slip past a constraint).
    // Paths are built and CRLs matched by issuer name: an empty issuer, or a CA with an empty
    // subject, would match any other such CA.
    const bool ca = asserts_ca(extensions);
    try {
        if (der::parse_name(cert.raw_subject_dn()).empty() && ca) malformed("CA certificate with an empty subject");
        if (der::parse_name(cert.raw_issuer_dn()).empty()) malformed("empty issuer name");
    } catch (const der::Malformed&) {
        malformed("malformed subject or issuer name");
    }
    const Extension* san = find(extensions, oid::kSubjectAltName);
    if (san) {
        try {
            for (const auto& name : der::parse_general_names(san->value)) {
                if (name.type == GeneralName::ip && name.value.size() != 4 && name.value.size() != 16)
                    throw der::Malformed("bad IP");
                if (name.type == GeneralName::dns && !is_valid_dns_name(name.text, certificate_dns_rules()))
                    throw der::Malformed("bad DNS name");
                if ((name.type == GeneralName::uri || name.type == GeneralName::rfc822) && name.text.empty())
                    throw der::Malformed("empty name");
            }
        } catch (const der::Malformed&) {
            malformed("malformed subjectAltName");
        }
    }

    if (const Extension* dp = find(extensions, oid::kCrlDistributionPoints)) {
        try {
            der::parse_crl_distribution_points(dp->value);
        } catch (const der::Malformed&) {
            malformed("malformed cRLDistributionPoints extension");
        }
    }
    // Certificate policies are processed along the path (a CA's policy constraints are its
    // restrictions), so they must decode.
    if (const Extension* cp = find(extensions, oid::kCertificatePolicies)) {
        try {
            der::parse_certificate_policies(cp->value);
        } catch (const der::Malformed&) {
            malformed("malformed certificatePolicies extension");
        }
    }

    // Algorithms.
    check_key_algorithm(cert, position, failures);
    if (!is_anchor && !allowed_signature_algorithm(cert.signature_algorithm().get_oid().to_string()))
        failures.push_back({CheckFailure::weak_signature, "unsupported signature algorithm" + which});
}

// What a TLS leaf may not be, beyond an EKU that names another purpose (the verifier checks
// that one): anyExtendedKeyUsage is meant for CAs, and rustls and Chrome refuse it for a TLS
// peer; a CA certificate as the peer would let a key that can issue certificates act as a server
// or client too (rustls refuses it as well). A leaf without EKU may serve any purpose, as RFC
// 5280 says and Go and rustls accept.
void check_tls_leaf(const Botan::X509_Certificate& leaf, Purpose purpose, std::vector<VerifyFailure>& failures) {
    if (purpose == Purpose::any) return;
    const std::string name = purpose_eku_name(purpose);
    if (contains(eku_oids(leaf), oid::kAnyExtendedKeyUsage))
        failures.push_back({CheckFailure::wrong_purpose, "EKU anyExtendedKeyUsage is not accepted for " + name});
    if (asserts_ca(extensions_of(leaf)) && !leaf.is_self_signed())
        failures.push_back({CheckFailure::wrong_purpose, "certificate is a CA, not an end entity (not accepted for " + name + ")"});
}

void check_anchor_key(const Botan::X509_Certificate& anchor, size_t position, std::vector<VerifyFailure>& failures) {
    check_key_algorithm(anchor, position, failures);
}

}  // namespace mcpmtls::pki::rules
