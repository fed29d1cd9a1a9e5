#pragma once
// Private to pki/: the verification rules the verifier adds on top of Botan's path validation
// (docs/verification-policy.md describes each one), implemented in pki/verify/rules/, one file per
// engine. Positions count from the leaf (0) to the trust anchor (path.size() - 1).
#include "pki/verify/verifier.hpp"

#include <botan/x509_crl.h>
#include <botan/x509cert.h>

#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::pki::rules {

using Path = std::vector<std::shared_ptr<const Botan::X509_Certificate>>;

// " (CN=..., O=...)": how messages name a certificate other than the leaf.
std::string label(const Botan::X509_Certificate& cert);

// Encoding and profile rules for one certificate wherever it sits: critical extensions,
// well-formed names, serial number, key identifiers, allowed key and signature algorithms.
// `is_anchor`: the trust anchor's own (self-)signature algorithm is not judged.
void check_certificate(const Botan::X509_Certificate& cert, size_t position, bool is_anchor,
                       std::vector<VerifyFailure>& failures);

// The anchor under AnchorConstraints::ignore: only its key is judged (a key too weak to trust
// is weak wherever it sits); its extensions, serial number and names play no part.
void check_anchor_key(const Botan::X509_Certificate& anchor, size_t position, std::vector<VerifyFailure>& failures);

// Whether the rules judge the anchor at the end of `path` as one of its CAs (the options ask
// for it, or the path is the anchor alone, which is then judged as the peer).
bool anchor_constraints_apply(const Path& path, const VerifyOptions& options);

// What a TLS client or server certificate must be (purpose server_auth or client_auth).
void check_tls_leaf(const Botan::X509_Certificate& leaf, Purpose purpose, std::vector<VerifyFailure>& failures);

// Rules over the whole path: CA key usage, EKU of the issuers, name constraints (all forms,
// replacing Botan's), certificate policies (RFC 5280 6.1 with the options' inputs). The
// anchor's own extensions count only when anchor_constraints_apply().
void check_path(const Path& path, const VerifyOptions& options, std::vector<VerifyFailure>& failures);

// Revocation by CRL for every certificate of the path but the anchor. A certificate whose
// issuer has no CRL in `crls` is not checked; otherwise the issuer's CRLs that are validly
// signed and in scope must together cover every reason, be current, and not list it.
void check_revocation(const Path& path, const std::vector<const Botan::X509_CRL*>& crls, TimePoint at,
                      std::vector<VerifyFailure>& failures);

}  // namespace mcpmtls::pki::rules
