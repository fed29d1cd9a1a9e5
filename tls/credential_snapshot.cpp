#include "tls/credential_snapshot.hpp"

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

}  // namespace

std::shared_ptr<const CredentialSnapshot> load_snapshot(const ServerFiles& files, uint64_t generation,
                                                        const CredentialSnapshot* previous) {
    auto snap = std::make_shared<CredentialSnapshot>();
    snap->generation = generation;
    snap->credentials = load_key_pair(files.cert_path, files.key_path);
    const std::string bundle = read_file(files.ca_path);
    const bool use_crl = !files.crl_path.empty() && (!files.crl_optional || file_exists(files.crl_path));
    const std::string crl = use_crl ? read_file(files.crl_path) : std::string();
    std::vector<pki::RevocationList> crls;
    if (use_crl) crls = pki::RevocationList::parse_all(crl, files.crl_path);
    // A CRL may come from an intermediate of our own chain (it issues the clients too).
    const auto& ours = snap->credentials.certificates;
    snap->trust = std::make_shared<const pki::TrustStore>(pki::TrustStore::with_crl_signers(
        pki::Certificate::parse_all(bundle, files.ca_path), std::move(crls),
        std::vector<pki::Certificate>(ours.begin() + 1, ours.end())));
    snap->trust_digest = sha256_hex(bundle + '\0' + crl);
    const bool same_trust = previous && previous->trust_digest == snap->trust_digest;
    snap->trust_generation = previous ? previous->trust_generation + (same_trust ? 0 : 1) : 1;
    snap->verdicts = same_trust ? previous->verdicts : std::make_shared<VerdictCache>();
    if (auto next = snap->trust->earliest_crl_next_update(); next && *next < std::chrono::system_clock::now())
        log_event(spdlog::level::warn, "crl_expired",
                  {{"file", files.crl_path}, {"next_update", format_rfc3339(*next)},
                   {"effect", "every client certificate is refused until a fresh CRL is installed (pki crl)"}});
    return snap;
}

}  // namespace mcpmtls::tls
