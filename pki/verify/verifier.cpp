#include "pki/verify/verifier.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/verify/chain_rules.hpp"
#include "pki/key_policy.hpp"
#include "pki/names.hpp"

#include <algorithm>
#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <botan/x509path.h>

namespace mcpmtls::pki {

// ---------------------------------------------------------------------------------------------
// CRLs

struct RevocationList::Impl {
    Botan::X509_CRL crl;
    std::vector<uint8_t> der;
};

std::vector<RevocationList> RevocationList::parse_all(const std::string& data, const std::string& source) {
    std::vector<RevocationList> crls;
    auto add = [&](const std::vector<uint8_t>& der) {
        try {
            crls.emplace_back(std::make_shared<Impl>(Impl{Botan::X509_CRL(der), der}));
        } catch (const std::exception&) {
            throw InputError(source + ": corrupt CRL #" + std::to_string(crls.size() + 1));
        }
    };
    if (data.find("-----BEGIN") == std::string::npos) {
        if (data.empty()) throw InputError(source + " is empty");
        add(std::vector<uint8_t>(data.begin(), data.end()));
        return crls;
    }
    const std::string begin = "-----BEGIN X509 CRL-----", end = "-----END X509 CRL-----";
    size_t pos = 0;
    while ((pos = data.find(begin, pos)) != std::string::npos) {
        size_t stop = data.find(end, pos);
        if (stop == std::string::npos) throw InputError(source + ": truncated PEM (no END X509 CRL line)");
        std::string label;
        std::vector<uint8_t> der;
        try {
            auto decoded = Botan::PEM_Code::decode(data.substr(pos, stop + end.size() - pos), label);
            der.assign(decoded.begin(), decoded.end());
        } catch (const std::exception&) {
            throw InputError(source + ": corrupt PEM CRL #" + std::to_string(crls.size() + 1));
        }
        add(der);
        pos = stop + end.size();
    }
    if (crls.empty()) throw InputError(source + " holds no CRL");
    return crls;
}

std::vector<RevocationList> RevocationList::load_all(const std::string& path) { return parse_all(read_file(path), path); }

std::string RevocationList::issuer() const {
    auto cn = impl_->crl.issuer_dn().get_first_attribute("X520.CommonName");
    return cn.empty() ? impl_->crl.issuer_dn().to_string() : "CN=" + cn;
}
TimePoint RevocationList::this_update() const { return to_time_point(impl_->crl.this_update()); }
TimePoint RevocationList::next_update() const { return to_time_point(impl_->crl.next_update()); }
long RevocationList::number() const { return static_cast<long>(impl_->crl.crl_number()); }

std::vector<std::string> RevocationList::revoked_serials() const {
    std::vector<std::string> serials;
    for (const auto& entry : impl_->crl.get_revoked()) serials.push_back(to_hex(entry.serial_number()));
    return serials;
}

bool RevocationList::is_signed_by(const Certificate& ca) const {
    try {
        if (ca.impl().cert.subject_dn() != impl_->crl.issuer_dn()) return false;
        auto key = ca.impl().cert.load_subject_public_key();
        return impl_->crl.check_signature(*key);
    } catch (const std::exception&) {
        return false;
    }
}

std::string RevocationList::pem() const { return Botan::PEM_Code::encode(impl_->der, "X509 CRL"); }

// ---------------------------------------------------------------------------------------------
// Trust store

struct TrustStore::Impl {
    std::vector<Certificate> anchors;
    std::vector<RevocationList> crls;
    Botan::Certificate_Store_In_Memory botan_store;  // anchors only: Botan builds paths, CRLs are ours
};

TrustStore::TrustStore(std::vector<Certificate> anchors, std::vector<RevocationList> crls)
    : TrustStore(std::move(anchors), std::move(crls), CrlIssuers::anchors_only) {}

TrustStore::TrustStore(std::vector<Certificate> anchors, std::vector<RevocationList> crls, CrlIssuers crl_issuers)
    : impl_(std::make_shared<Impl>()) {
    if (anchors.empty()) throw InputError("the trust bundle holds no certificate");
    for (const auto& crl : crls) {
        if (crl_issuers == CrlIssuers::any_ca) break;
        bool trusted = std::any_of(anchors.begin(), anchors.end(), [&](const Certificate& ca) { return crl.is_signed_by(ca); });
        if (!trusted) throw InputError("CRL issued by " + crl.issuer() + " is not signed by a trusted CA");
    }
    for (const auto& ca : anchors) impl_->botan_store.add_certificate(ca.impl().cert);
    impl_->anchors = std::move(anchors);
    impl_->crls = std::move(crls);
}

std::shared_ptr<const TrustStore> TrustStore::load(const std::string& bundle_path, const std::string& crl_path) {
    auto anchors = Certificate::load_all(bundle_path);
    std::vector<RevocationList> crls;
    if (!crl_path.empty()) crls = RevocationList::load_all(crl_path);
    return std::make_shared<const TrustStore>(std::move(anchors), std::move(crls));
}

TrustStore TrustStore::with_crl_signers(std::vector<Certificate> anchors, std::vector<RevocationList> crls,
                                        const std::vector<Certificate>& intermediates) {
    for (const auto& crl : crls) {
        auto signs = [&](const Certificate& ca) { return ca.is_ca() && crl.is_signed_by(ca); };
        auto intermediate_signs = [&](const Certificate& ca) { return !ca.is_self_signed() && signs(ca); };
        if (std::none_of(anchors.begin(), anchors.end(), signs) &&
            std::none_of(intermediates.begin(), intermediates.end(), intermediate_signs))
            throw InputError("CRL issued by " + crl.issuer() + " is not signed by a trusted CA or by an intermediate CA of the chain");
    }
    return TrustStore(std::move(anchors), std::move(crls), CrlIssuers::any_ca);
}

const std::vector<Certificate>& TrustStore::anchors() const { return impl_->anchors; }
const std::vector<RevocationList>& TrustStore::crls() const { return impl_->crls; }

std::optional<TimePoint> TrustStore::earliest_crl_next_update() const {
    std::optional<TimePoint> earliest;
    for (const auto& crl : impl_->crls)
        if (!earliest || crl.next_update() < *earliest) earliest = crl.next_update();
    return earliest;
}

// ---------------------------------------------------------------------------------------------
// Policy

std::string purpose_eku_name(Purpose purpose) {
    switch (purpose) {
        case Purpose::server_auth: return "serverAuth";
        case Purpose::client_auth: return "clientAuth";
        case Purpose::any: return "any";
    }
    return "any";
}

std::string check_name(CheckFailure failure) {
    switch (failure) {
        case CheckFailure::untrusted_issuer: return "issuer";
        case CheckFailure::expired: return "expiry";
        case CheckFailure::not_yet_valid: return "not-before";
        case CheckFailure::host_mismatch: return "hostname";
        case CheckFailure::wrong_purpose: return "purpose";
        case CheckFailure::weak_key: return "key-strength";
        case CheckFailure::weak_signature: return "signature-algorithm";
        case CheckFailure::revoked: return "revocation";
        case CheckFailure::bad_signature: return "signature";
        case CheckFailure::not_a_ca: return "basic-constraints";
        case CheckFailure::path_length: return "path-length";
        case CheckFailure::name_constraints: return "name-constraints";
        case CheckFailure::revocation_unavailable: return "crl";
        case CheckFailure::malformed: return "encoding";
        case CheckFailure::other: return "other";
    }
    return "other";
}

bool skippable_when_relaxed(CheckFailure failure) {
    return failure == CheckFailure::untrusted_issuer || failure == CheckFailure::expired ||
           failure == CheckFailure::host_mismatch;
}

bool VerifyResult::only_relaxable_failures() const {
    return !failures.empty() && std::all_of(failures.begin(), failures.end(),
                                            [](const VerifyFailure& f) { return skippable_when_relaxed(f.kind); });
}

std::vector<std::string> VerifyResult::failed_check_names() const {
    std::vector<std::string> names;
    for (const auto& f : failures) names.push_back(check_name(f.kind));
    return names;
}

namespace {

using Code = Botan::Certificate_Status_Code;

VerifyFailure describe(Code code, size_t position, const Certificate* cert) {
    const bool leaf = position == 0;
    const std::string who = leaf ? "certificate" : "issuer certificate";
    const std::string which = (!leaf && cert) ? " (" + cert->subject() + ")" : "";
    switch (code) {
        case Code::CERT_HAS_EXPIRED: return {CheckFailure::expired, who + " has expired" + which};
        case Code::CERT_NOT_YET_VALID: return {CheckFailure::not_yet_valid, who + " is not yet valid" + which};
        case Code::CERT_ISSUER_NOT_FOUND: return {CheckFailure::untrusted_issuer, "issuer not found"};
        case Code::CANNOT_ESTABLISH_TRUST:
        case Code::CHAIN_LACKS_TRUST_ROOT:
            return {CheckFailure::untrusted_issuer, leaf && cert && cert->is_self_signed()
                                                         ? "self-signed certificate is not trusted"
                                                         : "issuer not found"};
        case Code::CERT_CHAIN_LOOP: return {CheckFailure::untrusted_issuer, "certificate chain loops"};
        case Code::CHAIN_NAME_MISMATCH: return {CheckFailure::untrusted_issuer, "issuer name does not match the chain"};
        case Code::CA_CERT_NOT_FOR_CERT_ISSUER: return {CheckFailure::not_a_ca, "issuer is not a CA" + which};
        case Code::CERT_CHAIN_TOO_LONG: return {CheckFailure::path_length, "path length exceeded" + which};
        case Code::NAME_CONSTRAINT_ERROR: return {CheckFailure::name_constraints, "name constraints violated"};
        case Code::SIGNATURE_ERROR: return {CheckFailure::bad_signature, "bad signature" + which};
        case Code::CERT_PUBKEY_INVALID: return {CheckFailure::malformed, "invalid public key" + which};
        case Code::SIGNATURE_ALGO_UNKNOWN:
        case Code::SIGNATURE_ALGO_BAD_PARAMS:
            return {CheckFailure::weak_signature, "unsupported signature algorithm" + which};
        case Code::SIGNATURE_METHOD_TOO_WEAK:
            return {CheckFailure::weak_key, "signing key too weak (below 112-bit security)" + which};
        case Code::UNTRUSTED_HASH: return {CheckFailure::weak_signature, "signature uses an untrusted hash (e.g. SHA-1)" + which};
        case Code::CERT_IS_REVOKED: return {CheckFailure::revoked, who + " is revoked" + which};
        case Code::CRL_HAS_EXPIRED: return {CheckFailure::revocation_unavailable, "CRL has expired (run pki crl)"};
        case Code::CRL_NOT_YET_VALID: return {CheckFailure::revocation_unavailable, "CRL is not yet valid"};
        case Code::CRL_BAD_SIGNATURE: return {CheckFailure::revocation_unavailable, "CRL signature is invalid"};
        case Code::CA_CERT_NOT_FOR_CRL_ISSUER:
            return {CheckFailure::revocation_unavailable, "CRL issuer may not sign CRLs"};
        case Code::UNKNOWN_CRITICAL_EXTENSION:
            return {CheckFailure::malformed, "unknown critical extension" + which};
        case Code::DUPLICATE_CERT_EXTENSION: return {CheckFailure::malformed, "duplicate extension" + which};
        case Code::EXT_IN_V1_V2_CERT:
        case Code::V2_IDENTIFIERS_IN_V1_CERT: return {CheckFailure::malformed, "extensions in a v1/v2 certificate" + which};
        default:
            return {CheckFailure::other, std::string(Botan::to_string(code)) + which};
    }
}

bool dns_name_matches(std::string pattern, std::string host) {
    pattern = to_lower(pattern);
    host = to_lower(host);
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!pattern.empty() && pattern.back() == '.') pattern.pop_back();
    if (pattern == host) return true;
    // RFC 6125 6.4.3: a wildcard only as the whole left-most label, matching exactly one label.
    if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
        auto dot = host.find('.');
        if (dot == std::string::npos || dot == 0) return false;
        return host.substr(dot + 1) == pattern.substr(2) && pattern.find('.', 2) != std::string::npos;
    }
    return false;
}

// Botan checks that our rules do instead, completely: name constraints (Botan 2 ignores IPv6
// and mishandles directory names) and unknown critical extensions (Botan 2 does not know the
// policy extensions and treats an extension it cannot decode as unknown).
bool replaced_by_our_rules(Code code) {
    return code == Code::NAME_CONSTRAINT_ERROR || code == Code::UNKNOWN_CRITICAL_EXTENSION;
}

void add_failure(std::vector<VerifyFailure>& failures, VerifyFailure failure) {
    for (const auto& existing : failures)
        if (existing.kind == failure.kind && existing.message == failure.message) return;
    failures.push_back(std::move(failure));
}

void check_leaf_policy(const Certificate& leaf, const VerifyOptions& options, TimePoint at,
                       std::vector<VerifyFailure>& failures) {
    const auto& cert = leaf.impl().cert;
    if (options.purpose != Purpose::any && leaf.has_extended_key_usage_extension() &&
        !cert.allowed_extended_usage(Botan::OID::from_string(options.purpose == Purpose::server_auth ? "PKIX.ServerAuth"
                                                                                                     : "PKIX.ClientAuth")))
        add_failure(failures, {CheckFailure::wrong_purpose, "EKU does not allow " + purpose_eku_name(options.purpose)});
    if (options.purpose != Purpose::any && leaf.has_key_usage_extension() && !(cert.constraints() & Botan::DIGITAL_SIGNATURE))
        add_failure(failures, {CheckFailure::wrong_purpose, "key usage does not allow digitalSignature"});
    std::vector<VerifyFailure> tls;
    rules::check_tls_leaf(cert, options.purpose, tls);
    for (auto& f : tls) add_failure(failures, std::move(f));
    const size_t strength = leaf.public_key_strength_bits();
    if (strength < kMinimumKeyStrength)
        add_failure(failures, {CheckFailure::weak_key, "weak key: " + leaf.public_key_algorithm() + " (" +
                                                           std::to_string(strength) + "-bit security, need 112)"});
    // Compared as ASN.1 times: a notAfter after the year 2400 or a notBefore before 1970 does not
    // fit a system_clock time_point.
    const Botan::X509_Time now(at);
    if (now > cert.not_after()) add_failure(failures, {CheckFailure::expired, "certificate has expired"});
    if (now < cert.not_before()) add_failure(failures, {CheckFailure::not_yet_valid, "certificate is not yet valid"});
}

struct ChainOutcome {
    rules::Path path;  // leaf first, anchor last; empty when no path was found
    Botan::CertificatePathStatusCodes statuses;
    Code overall;
};

// Botan 2 ends a path only at a self-signed trusted certificate. When it finds no path, look
// for one that ends at any CA certificate of the trust store (an issuing intermediate trusted
// directly) and judge it with Botan's own chain checks, except those on the anchor's
// own signature: an anchor is trusted as it is, not because of who signed it. (Revocation is
// checked afterwards, as for every path.)
std::optional<ChainOutcome> path_to_non_self_signed_anchor(const std::vector<Certificate>& chain, const TrustStore& trust,
                                                           TimePoint at, const Botan::Path_Validation_Restrictions& restrictions) {
    auto is_anchor = [&](const Certificate& c) {
        return std::any_of(trust.anchors().begin(), trust.anchors().end(), [&](const Certificate& a) { return a.der() == c.der(); });
    };
    std::vector<const Certificate*> path{&chain.front()};
    for (size_t depth = 0; depth < 16; ++depth) {
        const Certificate& current = *path.back();
        if (path.size() > 1 && is_anchor(current)) break;
        const Certificate* issuer = nullptr;
        auto consider = [&](const Certificate& candidate) {
            if (issuer || candidate.der() == current.der()) return;
            if (candidate.impl().cert.subject_dn() != current.impl().cert.issuer_dn()) return;
            if (std::find(path.begin(), path.end(), &candidate) != path.end()) return;
            if (current.is_signed_by(candidate)) issuer = &candidate;
        };
        for (const auto& a : trust.anchors()) consider(a);
        for (size_t i = 1; i < chain.size(); ++i) consider(chain[i]);
        if (!issuer) return std::nullopt;
        path.push_back(issuer);
    }
    const Certificate& anchor = *path.back();
    // A self-issued anchor Botan did not accept has a bad self-signature or key identifiers:
    // Botan's verdict stands.
    if (path.size() < 2 || !is_anchor(anchor) || anchor.impl().cert.subject_dn() == anchor.impl().cert.issuer_dn())
        return std::nullopt;

    ChainOutcome out;
    for (const auto* c : path) out.path.push_back(std::make_shared<const Botan::X509_Certificate>(c->impl().cert));
    out.statuses = Botan::PKIX::check_chain(out.path, at, "", Botan::Usage_Type::UNSPECIFIED,
                                            restrictions.minimum_key_strength(), restrictions.trusted_hashes());
    for (auto code : {Code::CHAIN_LACKS_TRUST_ROOT, Code::SIGNATURE_ERROR, Code::CHAIN_NAME_MISMATCH, Code::SIGNATURE_METHOD_TOO_WEAK,
                      Code::UNTRUSTED_HASH, Code::SIGNATURE_ALGO_UNKNOWN, Code::SIGNATURE_ALGO_BAD_PARAMS})
        out.statuses.back().erase(code);
    out.overall = Botan::PKIX::overall_status(out.statuses);
    return out;
}

// Botan 2 judges the trust anchor like every CA of the path. When the options say the anchor's
// constraints or validity do not count (RFC 5280 6.1.1 (d): the anchor is a name and a key),
// take back exactly the statuses Botan derived from them, and redo Botan's path-length count
// without the anchor's pathLenConstraint (RFC 5280 6.1.2 (k): max_path_length starts at n and
// only certificates of the path lower it). Everything Botan found about the certificates below
// the anchor, including their signatures by the anchor's key, stands.
void relax_anchor_statuses(ChainOutcome& outcome, const TrustStore& trust, const VerifyOptions& options) {
    const auto& path = outcome.path;
    auto& statuses = outcome.statuses;
    if (path.size() < 2 || statuses.size() != path.size()) return;  // a lone peer is judged as the peer
    const bool keep_constraints = options.anchor_constraints == AnchorConstraints::enforce;
    const bool keep_validity = options.anchor_validity == AnchorValidity::enforce;
    if (keep_constraints && keep_validity) return;
    // Only a certificate of the trust store is a name and a key we trust; whatever else ends a
    // path keeps every status Botan gave it.
    if (std::none_of(trust.anchors().begin(), trust.anchors().end(),
                     [&](const Certificate& c) { return c.impl().cert == *path.back(); }))
        return;
    const size_t a = path.size() - 1;
    auto is_validity = [](Code code) { return code == Code::CERT_HAS_EXPIRED || code == Code::CERT_NOT_YET_VALID; };
    auto is_trust = [](Code code) {
        return code == Code::CHAIN_LACKS_TRUST_ROOT || code == Code::CANNOT_ESTABLISH_TRUST ||
               code == Code::CERT_ISSUER_NOT_FOUND || code == Code::CERT_CHAIN_LOOP;
    };
    for (auto it = statuses[a].begin(); it != statuses[a].end();) {
        // At the anchor's own index Botan reports on the anchor alone: its validity, its
        // extensions, serial number and names, its self-signature (it issued itself). Whether
        // the path reached a trusted certificate at all is never taken back.
        const bool keep = is_trust(*it) || (is_validity(*it) ? keep_validity : keep_constraints);
        it = keep ? std::next(it) : statuses[a].erase(it);
    }
    if (!keep_constraints) {
        // "Issuer is not a CA" below the anchor is about the anchor's basicConstraints/keyUsage.
        statuses[a - 1].erase(Code::CA_CERT_NOT_FOR_CERT_ISSUER);
        for (auto& s : statuses) s.erase(Code::CERT_CHAIN_TOO_LONG);
        size_t max_path_length = a;
        for (size_t i = a - 1; i > 0; --i) {
            const auto& cert = *path[i];
            if (cert.subject_dn() != cert.issuer_dn()) {  // self-issued CAs do not count (6.1.4 (l))
                if (max_path_length == 0) statuses[i].insert(Code::CERT_CHAIN_TOO_LONG);
                else --max_path_length;
            }
            if (cert.path_limit() != Botan::Cert_Extension::NO_CERT_PATH_LIMIT && cert.path_limit() < max_path_length)
                max_path_length = cert.path_limit();
        }
    }
    outcome.overall = Botan::PKIX::overall_status(statuses);
}

int severity(CheckFailure kind) {
    // Which reason to show first: the chain's trust, then what the certificate is, then time.
    switch (kind) {
        case CheckFailure::revoked: return 0;
        case CheckFailure::bad_signature: return 1;
        case CheckFailure::untrusted_issuer: return 2;
        case CheckFailure::malformed: return 3;
        case CheckFailure::not_a_ca: return 4;
        case CheckFailure::path_length: return 5;
        case CheckFailure::name_constraints: return 6;
        case CheckFailure::weak_signature: return 7;
        case CheckFailure::weak_key: return 8;
        case CheckFailure::wrong_purpose: return 9;
        case CheckFailure::expired: return 10;
        case CheckFailure::not_yet_valid: return 11;
        case CheckFailure::revocation_unavailable: return 12;
        case CheckFailure::host_mismatch: return 13;
        case CheckFailure::other: return 14;
    }
    return 15;
}

}  // namespace

bool certificate_matches_host(const Certificate& cert, const std::string& host) {
    const auto sans = cert.subject_alt_names();
    const std::string ip = canonical_ip(host);
    if (!ip.empty()) {
        for (const auto& candidate : sans.ips)
            if (canonical_ip(candidate) == ip) return true;
        return false;
    }
    for (const auto& pattern : sans.dns)
        if (dns_name_matches(pattern, host)) return true;
    return false;
}

namespace {
VerifyResult verify_chain_unguarded(const std::vector<Certificate>& chain, const TrustStore& trust, const VerifyOptions& options);
}

// Never throws: the chain comes from the peer, and Botan throws on some malformed inputs (a DSA
// key without parameters, for one) deep inside path validation.
VerifyResult verify_chain(const std::vector<Certificate>& chain, const TrustStore& trust, const VerifyOptions& options) {
    try {
        return verify_chain_unguarded(chain, trust, options);
    } catch (const std::exception& e) {
        VerifyResult result;
        result.failures.push_back({CheckFailure::malformed, std::string("certificate could not be verified: ") + e.what()});
        return result;
    }
}

namespace {

VerifyResult verify_chain_unguarded(const std::vector<Certificate>& chain, const TrustStore& trust, const VerifyOptions& options) {
    VerifyResult result;
    if (chain.empty()) {
        result.failures.push_back({CheckFailure::malformed, "no certificate presented"});
        return result;
    }
    const TimePoint at = options.at.value_or(std::chrono::system_clock::now());
    const Certificate& leaf = chain.front();
    check_leaf_policy(leaf, options, at, result.failures);

    std::vector<Botan::X509_Certificate> end_certs;
    end_certs.reserve(chain.size());
    for (const auto& cert : chain) end_certs.push_back(cert.impl().cert);
    // Purpose and host are judged above and below, with our own rules and messages.
    Botan::Path_Validation_Restrictions restrictions(false, kMinimumKeyStrength);
    std::vector<Botan::Certificate_Store*> stores{const_cast<Botan::Certificate_Store_In_Memory*>(&trust.impl().botan_store)};
    Botan::Path_Validation_Result botan_result =
        Botan::x509_path_validate(end_certs, restrictions, stores, "", Botan::Usage_Type::UNSPECIFIED, at);
    ChainOutcome outcome{botan_result.cert_path(), botan_result.all_statuses(), botan_result.result()};
    if (!botan_result.successful_validation() && outcome.path.empty())
        if (auto other = path_to_non_self_signed_anchor(chain, trust, at, restrictions)) outcome = std::move(*other);
    relax_anchor_statuses(outcome, trust, options);

    const auto& path = outcome.path;
    if (outcome.overall != Code::OK && outcome.overall != Code::VERIFIED) {
        const auto& statuses = outcome.statuses;
        bool described = false;
        for (size_t i = 0; i < statuses.size(); ++i) {
            const Certificate* cert = i < chain.size() ? &chain[i] : nullptr;
            std::optional<Certificate> path_cert;
            if (i < path.size() && path[i]) path_cert = wrap_certificate(*path[i]);
            for (auto code : statuses[i]) {
                if (code < Code::FIRST_ERROR_STATUS || replaced_by_our_rules(code)) continue;
                // Botan's INVALID_USAGE on the leaf means keyCertSign without cA (RFC 5280
                // 4.2.1.3): inconsistent, but harmless, since only a CA may issue; Go and
                // rustls accept it, and so do we.
                if (code == Code::INVALID_USAGE && i == 0) continue;
                add_failure(result.failures, describe(code, i, path_cert ? &*path_cert : cert));
                described = true;
            }
        }
        if (!described && !replaced_by_our_rules(outcome.overall) && path.empty())
            add_failure(result.failures, describe(outcome.overall, 0, &leaf));
    }

    // Our rules: on the path Botan built (leaf to anchor), or on the leaf alone if there is none.
    std::vector<VerifyFailure> ours;
    if (path.empty()) {
        rules::check_certificate(leaf.impl().cert, 0, leaf.is_self_signed(), ours);
    } else {
        const bool anchor_counts = rules::anchor_constraints_apply(path, options);
        for (size_t i = 0; i < path.size(); ++i) {
            if (i + 1 == path.size() && !anchor_counts) rules::check_anchor_key(*path[i], i, ours);
            else rules::check_certificate(*path[i], i, i + 1 == path.size(), ours);
        }
        rules::check_path(path, options, ours);
        std::vector<const Botan::X509_CRL*> crls;
        for (const auto& crl : trust.crls()) crls.push_back(&crl.impl().crl);
        rules::check_revocation(path, crls, at, ours);
    }
    for (auto& f : ours) add_failure(result.failures, std::move(f));

    if (!options.host.empty() && !certificate_matches_host(leaf, options.host))
        add_failure(result.failures, {CheckFailure::host_mismatch, "host name '" + options.host + "' does not match the certificate"});

    std::stable_sort(result.failures.begin(), result.failures.end(),
                     [](const VerifyFailure& a, const VerifyFailure& b) { return severity(a.kind) < severity(b.kind); });
    return result;
}

}  // namespace

}  // namespace mcpmtls::pki
