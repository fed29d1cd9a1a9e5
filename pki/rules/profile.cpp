// Rules for one certificate wherever it sits in a path, and for a TLS leaf (docs/verification-
// policy.md: "Critical extensions", "Well-formed certificates", "The TLS leaf", algorithms).
// Botan 2 parses certificates leniently; these rules refuse what RFC 5280 4.1-4.2 forbids and it
// lets through (critical extensions nobody enforces, bad serial numbers, malformed names, missing
// key identifiers, unknown qualifiers in critical policies), keys and signature algorithms outside
// the ones we accept, and leaves whose EKU or cA would let a TLS key serve another purpose.
#include "pki/internal/der.hpp"
#include "pki/internal/key_policy.hpp"
#include "pki/internal/rule_support.hpp"
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

    // Critical extensions: those the verifier (or Botan, for it) enforces; a few must never be
    // critical (RFC 5280 4.2.1.1, 4.2.1.2, 4.2.2.1, 4.2.2.2).
    static const std::set<std::string> processed = {
        oid::kBasicConstraints, oid::kKeyUsage, oid::kExtKeyUsage, oid::kSubjectAltName, oid::kIssuerAltName,
        oid::kNameConstraints, oid::kCertificatePolicies, oid::kPolicyMappings, oid::kPolicyConstraints,
        oid::kInhibitAnyPolicy, oid::kCrlDistributionPoints};
    static const std::map<std::string, std::string> never_critical = {
        {oid::kAuthorityKeyId, "authorityKeyIdentifier"}, {oid::kSubjectKeyId, "subjectKeyIdentifier"},
        {oid::kAuthorityInfoAccess, "authorityInfoAccess"}, {oid::kSubjectInfoAccess, "subjectInfoAccess"}};
    for (const auto& [id, ext] : extensions) {
        if (!ext.critical) continue;
        if (auto it = never_critical.find(id); it != never_critical.end()) malformed("critical " + it->second + " extension");
        else if (!processed.count(id)) failures.push_back({CheckFailure::malformed, "unknown critical extension" + which});
    }
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

    // Serial number: positive, at most 20 octets (RFC 5280 4.1.2.2); an anchor's serial number
    // plays no part in trusting it (some public roots have serial 0).
    const auto serial = cert.serial_number();
    const bool zero = std::all_of(serial.begin(), serial.end(), [](uint8_t b) { return b == 0; });
    if (is_anchor) {
    } else if (cert.is_serial_negative()) malformed("negative serial number");
    else if (zero) malformed("serial number is zero");
    else {
        size_t first = 0;
        while (first + 1 < serial.size() && serial[first] == 0) ++first;
        const size_t octets = serial.size() - first + ((serial[first] & 0x80) ? 1 : 0);
        if (octets > 20) malformed("serial number longer than 20 octets");
    }

    // Names: a well-formed subjectAltName; an empty subject needs a critical one (4.2.1.6).
    bool empty_subject = false;
    try {
        empty_subject = der::parse_name(cert.raw_subject_dn()).empty();
    } catch (const der::Malformed&) {
        malformed("malformed subject name");
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
    if (empty_subject && (!san || !san->critical)) malformed("empty subject without a critical subjectAltName");

    // Key identifiers (4.2.1.1, 4.2.1.2): CAs have a subjectKeyIdentifier; every certificate
    // not self-issued has an authorityKeyIdentifier with a keyIdentifier.
    const bool ca = asserts_ca(extensions);
    if (ca && !find(extensions, oid::kSubjectKeyId)) malformed("CA certificate without subjectKeyIdentifier");
    const Extension* aki = find(extensions, oid::kAuthorityKeyId);
    if (!aki && !self_issued(cert) && cert.x509_version() == 3) malformed("certificate without authorityKeyIdentifier");
    if (aki) {
        try {
            if (!der::parse_authority_key_id(aki->value).has_key_id) malformed("authorityKeyIdentifier without keyIdentifier");
        } catch (const der::Malformed&) {
        }
    }
    if (const Extension* dp = find(extensions, oid::kCrlDistributionPoints)) {
        try {
            der::parse_crl_distribution_points(dp->value);
        } catch (const der::Malformed&) {
            malformed("malformed cRLDistributionPoints extension");
        }
    }
    // In a critical certificatePolicies, policy qualifiers must be ones RFC 5280 defines
    // (CPS pointer, user notice): an unknown qualifier is unknown critical content.
    if (const Extension* cp = find(extensions, oid::kCertificatePolicies)) {
        try {
            for (const auto& info : der::parse_certificate_policies(cp->value))
                for (const auto& q : info.qualifier_oids)
                    if (cp->critical && q != oid::kCpsQualifier && q != oid::kUserNoticeQualifier)
                        malformed("unknown policy qualifier in critical certificatePolicies");
        } catch (const der::Malformed&) {
            malformed("malformed certificatePolicies extension");
        }
    }
    // nameConstraints only in CA certificates (4.2.1.10).
    if (!ca && find(extensions, oid::kNameConstraints)) malformed("nameConstraints in a certificate that is not a CA");

    // Algorithms.
    check_key_algorithm(cert, position, failures);
    if (!is_anchor && !allowed_signature_algorithm(cert.signature_algorithm().get_oid().to_string()))
        failures.push_back({CheckFailure::weak_signature, "unsupported signature algorithm" + which});
}

void check_tls_leaf(const Botan::X509_Certificate& leaf, Purpose purpose, std::vector<VerifyFailure>& failures) {
    if (purpose == Purpose::any) return;
    const std::string name = purpose_eku_name(purpose);
    const auto extensions = extensions_of(leaf);
    const auto ekus = eku_oids(leaf);
    if (!find(extensions, oid::kExtKeyUsage))
        failures.push_back({CheckFailure::wrong_purpose, "EKU does not allow " + name + " (the certificate has no extendedKeyUsage)"});
    if (contains(ekus, oid::kAnyExtendedKeyUsage))
        failures.push_back({CheckFailure::wrong_purpose, "EKU anyExtendedKeyUsage is not accepted for " + name});
    for (const auto& [id, what] : {std::pair<std::string, std::string>{oid::kCodeSigning, "codeSigning"},
                                   {oid::kTimeStamping, "timeStamping"}, {oid::kOcspSigning, "OCSPSigning"}})
        if (contains(ekus, id))
            failures.push_back({CheckFailure::wrong_purpose, "EKU also allows " + what + " (not accepted for " + name + ")"});
    if (asserts_ca(extensions) && !leaf.is_self_signed())
        failures.push_back({CheckFailure::wrong_purpose, "certificate is a CA, not an end entity (not accepted for " + name + ")"});
}

void check_anchor_key(const Botan::X509_Certificate& anchor, size_t position, std::vector<VerifyFailure>& failures) {
    check_key_algorithm(anchor, position, failures);
}

}  // namespace mcpmtls::pki::rules
