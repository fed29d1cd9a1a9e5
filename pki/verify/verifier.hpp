#pragma once
// The one verifier: every trust decision (servers judging clients, the client judging servers,
// `pki verify`) goes through verify_chain() with one policy.
#include "pki/certificate.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::pki {

class RevocationList {
public:
    static std::vector<RevocationList> parse_all(const std::string& data, const std::string& source);
    static std::vector<RevocationList> load_all(const std::string& path);

    std::string issuer() const;
    TimePoint this_update() const;
    TimePoint next_update() const;
    long number() const;  // CRL number extension, 0 if absent
    std::vector<std::string> revoked_serials() const;  // lower-case hex
    bool is_signed_by(const Certificate& ca) const;
    std::string pem() const;

    struct Impl;
    const Impl& impl() const { return *impl_; }
    explicit RevocationList(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<const Impl> impl_;
};

// Trust anchors plus CRLs: immutable once built, shared by every handshake of a snapshot.
class TrustStore {
public:
    // Every CRL must be signed by one of the anchors (else InputError): a CRL from elsewhere
    // could otherwise be dropped in to revoke nothing, or to deny service.
    TrustStore(std::vector<Certificate> anchors, std::vector<RevocationList> crls);
    // Who may have issued the CRLs. `anchors_only` is the constructor above. `any_ca` also takes
    // CRLs of intermediate CAs (a CA hierarchy, or test suites such as NIST PKITS): each CRL is
    // then judged during path validation, against the certificate in the path that issued it
    // (signature, cRLSign key usage, validity), and a CRL nobody in the path issued is unused.
    enum class CrlIssuers { anchors_only, any_ca };
    TrustStore(std::vector<Certificate> anchors, std::vector<RevocationList> crls, CrlIssuers crl_issuers);
    static std::shared_ptr<const TrustStore> load(const std::string& bundle_path, const std::string& crl_path = "");
    // CRLs signed by an anchor or by one of `intermediates` (the CA certificates of a chain we
    // hold, which sign the CRLs of the leaves they issued: pki init --intermediate); any other
    // CRL is an InputError. Each CRL is then judged against the certificate of the path that
    // issued it (any_ca).
    static TrustStore with_crl_signers(std::vector<Certificate> anchors, std::vector<RevocationList> crls,
                                       const std::vector<Certificate>& intermediates);

    const std::vector<Certificate>& anchors() const;
    const std::vector<RevocationList>& crls() const;
    // The earliest CRL nextUpdate, if any CRL is loaded (verdict caches must not outlive it).
    std::optional<TimePoint> earliest_crl_next_update() const;

    struct Impl;
    const Impl& impl() const { return *impl_; }

private:
    std::shared_ptr<Impl> impl_;
};

// `any` skips the EKU and key-usage checks (pki verify without --purpose).
enum class Purpose { any, server_auth, client_auth };
std::string purpose_eku_name(Purpose purpose);  // "serverAuth" | "clientAuth" | "any"

// Why a chain failed; relaxed mode may skip untrusted_issuer, expired and host_mismatch only.
enum class CheckFailure {
    untrusted_issuer,  // issuer unknown, self-signed and not trusted
    expired,
    not_yet_valid,
    host_mismatch,
    wrong_purpose,     // EKU or key usage does not allow the purpose
    weak_key,
    weak_signature,
    revoked,
    bad_signature,
    not_a_ca,          // an issuer in the chain is not a CA
    path_length,
    name_constraints,
    revocation_unavailable,  // CRL expired, not yet valid, or badly signed
    malformed,
    other,
};
// Short check names for logs: "issuer", "expiry", "hostname", "eku", ...
std::string check_name(CheckFailure failure);
bool skippable_when_relaxed(CheckFailure failure);

struct VerifyFailure {
    CheckFailure kind;
    std::string message;  // one line, e.g. "certificate has expired"
};

// RFC 5280 6.1.1 certificate-policy inputs. The defaults (any policy, none required) suit
// TLS; certificate policies asserted or constrained by the chain are still processed.
struct PolicyInputs {
    std::vector<std::string> initial_policy_set;  // dotted OIDs; empty means anyPolicy
    bool initial_explicit_policy = false;         // the path must carry an acceptable policy
    bool initial_policy_mapping_inhibit = false;
    bool initial_any_policy_inhibit = false;
};

// How much of the trust anchor's own certificate counts. RFC 5280 6.1.1 (d) makes an anchor
// just a name and a public key; RFC 5937 lets a relying party enforce the constraints its
// certificate carries as well. The product enforces them (stricter: our `pki init` root has
// pathLen 0, and a root that is no CA or has expired should not silently keep vouching); the
// conformance harness selects `ignore` where a suite declares RFC 5280 anchors.
enum class AnchorConstraints {
    enforce,  // judged like any CA of the path: basicConstraints cA and pathLen, keyUsage
              // keyCertSign, EKU, name constraints, certificate policies, profile rules
    ignore,   // only the anchor's name and key: none of its extensions apply to the path
};
enum class AnchorValidity {
    enforce,  // the anchor's notBefore/notAfter must hold at the validation time
    ignore,   // RFC 5280: an anchor stays trusted as long as the trust store holds it
};

struct VerifyOptions {
    Purpose purpose = Purpose::client_auth;
    std::string host;                 // DNS name or IP literal; empty: no host check
    std::optional<TimePoint> at;      // default: now
    PolicyInputs policy;
    // Apply to an anchor that issued at least one certificate of the path; a certificate that
    // is both the peer and the trust anchor is always judged as the peer.
    AnchorConstraints anchor_constraints = AnchorConstraints::enforce;
    AnchorValidity anchor_validity = AnchorValidity::enforce;
};

struct VerifyResult {
    std::vector<VerifyFailure> failures;  // most important first; empty when valid
    bool valid() const { return failures.empty(); }
    std::string reason() const { return failures.empty() ? "OK" : failures.front().message; }
    // True if every failure is one --relaxed may accept (and there is at least one).
    bool only_relaxable_failures() const;
    std::vector<std::string> failed_check_names() const;
};

// `chain` is what the peer presented: leaf first, then any intermediates (untrusted).
VerifyResult verify_chain(const std::vector<Certificate>& chain, const TrustStore& trust, const VerifyOptions& options);

// RFC 6125 host matching against the SANs only (no CN fallback); IPs match IP SANs exactly.
bool certificate_matches_host(const Certificate& cert, const std::string& host);

}  // namespace mcpmtls::pki
