#pragma once
// Private to pki/: the dotted OIDs that more than one part of pki/ names (the rule engines, the
// DER parser, the human-readable names in x509_names.cpp). Spelt once so that a rule and the
// name printed for it cannot drift apart; an OID used in one table only stays beside it.
#include <string>

namespace mcpmtls::pki::oid {

// Certificate extensions (RFC 5280 4.2).
inline const std::string kSubjectKeyId = "2.5.29.14", kKeyUsage = "2.5.29.15", kSubjectAltName = "2.5.29.17",
                         kIssuerAltName = "2.5.29.18", kBasicConstraints = "2.5.29.19", kNameConstraints = "2.5.29.30",
                         kCrlDistributionPoints = "2.5.29.31", kCertificatePolicies = "2.5.29.32",
                         kPolicyMappings = "2.5.29.33", kAuthorityKeyId = "2.5.29.35", kPolicyConstraints = "2.5.29.36",
                         kExtKeyUsage = "2.5.29.37", kInhibitAnyPolicy = "2.5.29.54",
                         kAuthorityInfoAccess = "1.3.6.1.5.5.7.1.1", kSubjectInfoAccess = "1.3.6.1.5.5.7.1.11";
// CRL extensions (RFC 5280 5.2).
inline const std::string kCrlNumber = "2.5.29.20", kDeltaCrlIndicator = "2.5.29.27",
                         kIssuingDistributionPoint = "2.5.29.28";
// Certificate policies and their qualifiers (RFC 5280 4.2.1.4).
inline const std::string kAnyPolicy = "2.5.29.32.0", kCpsQualifier = "1.3.6.1.5.5.7.2.1",
                         kUserNoticeQualifier = "1.3.6.1.5.5.7.2.2";
// Extended key usages (RFC 5280 4.2.1.12).
inline const std::string kServerAuth = "1.3.6.1.5.5.7.3.1", kClientAuth = "1.3.6.1.5.5.7.3.2",
                         kCodeSigning = "1.3.6.1.5.5.7.3.3", kEmailProtection = "1.3.6.1.5.5.7.3.4",
                         kTimeStamping = "1.3.6.1.5.5.7.3.8", kOcspSigning = "1.3.6.1.5.5.7.3.9",
                         kAnyExtendedKeyUsage = "2.5.29.37.0";
// PKCS #9 emailAddress, an attribute of a Name.
inline const std::string kEmailAddress = "1.2.840.113549.1.9.1";

}  // namespace mcpmtls::pki::oid
