#include "tls/credential_snapshot.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"

#include <openssl/evp.h>

namespace mcpmtls::tls {
namespace {

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return to_hex(digest, len);
}

// The trust of `snap` from its bundle and CRL texts; an unchanged trust keeps `previous`'s
// generation and verdict cache.
void build_trust(CredentialSnapshot& snap, const ServerFiles& files, const CredentialSnapshot* previous) {
    std::vector<pki::RevocationList> crls;
    if (!snap.file_crl.empty()) crls = pki::RevocationList::parse_all(snap.file_crl, files.crl_path);
    if (!snap.fetched_crl.empty())
        for (auto& crl : pki::RevocationList::parse_all(snap.fetched_crl, snap.crl_url)) crls.push_back(std::move(crl));
    // A CRL may come from an intermediate of our own chain (it issues the clients too).
    const auto& ours = snap.credentials.certificates;
    const std::vector<pki::Certificate> intermediates(ours.begin() + 1, ours.end());
    auto anchors = pki::Certificate::parse_all(snap.bundle_text, files.ca_path);
    snap.trust = std::make_shared<const pki::TrustStore>(pki::TrustStore::with_crl_signers(anchors, std::move(crls), intermediates));
    snap.trust_without_crls = std::make_shared<const pki::TrustStore>(pki::TrustStore::with_crl_signers(std::move(anchors), {}, intermediates));
    snap.trust_digest = sha256_hex(snap.bundle_text + '\0' + snap.file_crl + '\0' + snap.fetched_crl);
    const bool same_trust = previous && previous->trust_digest == snap.trust_digest;
    snap.trust_generation = previous ? previous->trust_generation + (same_trust ? 0 : 1) : 1;
    snap.verdicts = same_trust ? previous->verdicts : std::make_shared<VerdictCache>();
}

// Another owner of the same OpenSSL objects (a snapshot that changes only its CRL).
KeyPair share(const KeyPair& pair) {
    KeyPair copy;
    X509_up_ref(pair.leaf.get());
    copy.leaf.reset(pair.leaf.get());
    EVP_PKEY_up_ref(pair.key.get());
    copy.key.reset(pair.key.get());
    copy.chain.reset(X509_chain_up_ref(pair.chain.get()));
    copy.certificates = pair.certificates;
    return copy;
}

}  // namespace

std::optional<std::string> CredentialSnapshot::revocation_problem(std::chrono::system_clock::time_point now) const {
    if (!crl_url.empty() && fetched_crl.empty()) return "no CRL fetched from " + crl_url + " yet";
    if (auto next = trust->earliest_crl_next_update(); next && *next < now)
        return "the CRL is stale (its nextUpdate " + format_rfc3339(*next) + " has passed)";
    return std::nullopt;
}

std::shared_ptr<const CredentialSnapshot> load_snapshot(const ServerFiles& files, uint64_t generation,
                                                        const CredentialSnapshot* previous) {
    auto snap = std::make_shared<CredentialSnapshot>();
    snap->generation = snap->credentials_generation = generation;
    snap->credentials = load_key_pair(files.cert_path, files.key_path, files.pkcs11);
    snap->bundle_text = read_file(files.ca_path);
    const bool use_crl = !files.crl_path.empty() && (!files.crl_optional || file_exists(files.crl_path));
    if (use_crl) snap->file_crl = read_file(files.crl_path);
    if (use_crl && snap->file_crl.empty()) throw InputError(files.crl_path + " is empty");
    snap->crl_url = files.crl_url;
    if (previous) snap->fetched_crl = previous->fetched_crl;
    build_trust(*snap, files, previous);
    if (auto next = snap->trust->earliest_crl_next_update(); next && *next < std::chrono::system_clock::now())
        log_event(spdlog::level::warn, "crl_expired",
                  {{"file", files.crl_path}, {"next_update", format_rfc3339(*next)},
                   {"effect", "clients are judged by --crl-stale until a fresh CRL is installed (pki crl)"}});
    return snap;
}

std::shared_ptr<const CredentialSnapshot> with_fetched_crl(const ServerFiles& files, const CredentialSnapshot& current,
                                                           const std::string& crl, uint64_t generation) {
    const auto fetched = pki::RevocationList::parse_all(crl, files.crl_url);
    if (!current.fetched_crl.empty()) {
        // CRL numbers grow with every CRL of an issuer (RFC 5280 5.2.3); without them, the dates.
        const auto& next = fetched.front();
        const auto in_use = pki::RevocationList::parse_all(current.fetched_crl, files.crl_url).front();
        const bool numbered = next.number() > 0 && in_use.number() > 0;
        if (numbered ? next.number() < in_use.number() : next.this_update() < in_use.this_update())
            throw InputError(files.crl_url + " served a CRL older than the one in use (thisUpdate " +
                             format_rfc3339(fetched.front().this_update()) + ", number " +
                             std::to_string(fetched.front().number()) + ")");
    }
    auto snap = std::make_shared<CredentialSnapshot>();
    snap->generation = generation;
    snap->credentials = share(current.credentials);
    snap->credentials_generation = current.credentials_generation;
    snap->bundle_text = current.bundle_text;
    snap->file_crl = current.file_crl;
    snap->crl_url = current.crl_url;
    snap->fetched_crl = crl;
    build_trust(*snap, files, &current);  // throws unless a trusted CA signed the CRL
    return snap;
}

}  // namespace mcpmtls::tls
