// pki export: a certificate of DIR as PKCS#12, DER or a full PEM chain. The chain is completed
// up to the root from ca-bundle.crt (NAME.crt holds the leaf and its issuing CA only), because
// the systems that import these files usually want the whole path.
#include "pki/ca/export.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "pki/names.hpp"

#include <unistd.h>

namespace mcpmtls::pki {
namespace {

// NAME.crt's certificates, then the anchor of ca-bundle.crt that signed the last of them unless
// that one is a root already.
std::vector<Certificate> full_chain(const CaDirectory& dir, const std::string& name) {
    if (!file_exists(dir.leaf_cert(name))) throw OperationError("no certificate named '" + name + "' in " + dir.dir());
    auto chain = Certificate::load_all(dir.leaf_cert(name));
    if (chain.back().is_self_signed() || !file_exists(dir.bundle())) return chain;
    for (const auto& anchor : Certificate::load_all(dir.bundle()))
        if (anchor.subject() == chain.back().issuer() && chain.back().is_signed_by(anchor)) {
            chain.push_back(anchor);
            break;
        }
    return chain;
}

std::string der_text(const Certificate& cert) { return {cert.der().begin(), cert.der().end()}; }

}  // namespace

std::vector<std::string> export_certificate(const CaDirectory& dir, const ExportOptions& options) {
    validate_certificate_name(options.name);
    if (options.p12_path.empty() && options.der_path.empty() && options.chain_path.empty())
        throw InputError("export needs at least one of --p12 FILE, --der FILE and --chain FILE");
    if (!options.p12_path.empty() && options.passphrase.empty())
        throw InputError("a PKCS#12 file needs a passphrase, and an empty one is refused");

    // Every output is made before the first is written.
    const auto chain = full_chain(dir, options.name);
    std::vector<std::pair<std::string, std::pair<std::string, mode_t>>> outputs;  // path, content, mode
    if (!options.p12_path.empty()) {
        const auto key_path = dir.leaf_key(options.name);
        if (!file_exists(key_path))
            throw OperationError("'" + options.name + "' has no key in " + dir.dir() +
                                 " (signed from a CSR: its holder keeps the key), so no PKCS#12 file can be made here; "
                                 "--der and --chain work");
        const auto key = PrivateKey::load(key_path, "");
        if (!chain.front().matches_key(key)) throw InputError(key_path + " does not belong to " + dir.leaf_cert(options.name));
        outputs.push_back({options.p12_path, {make_pkcs12(key, chain, options.name, options.passphrase), 0600}});
    }
    if (!options.der_path.empty()) outputs.push_back({options.der_path, {der_text(chain.front()), 0644}});
    if (!options.chain_path.empty()) {
        std::string pem;
        for (const auto& cert : chain) pem += cert.pem();
        outputs.push_back({options.chain_path, {pem, 0644}});
    }

    std::vector<std::string> written;
    try {
        for (const auto& [path, content] : outputs) {
            write_file_atomic(path, content.first, content.second);
            written.push_back(path);
        }
    } catch (...) {
        for (const auto& path : written) ::unlink(path.c_str());
        throw;
    }
    return written;
}

}  // namespace mcpmtls::pki
