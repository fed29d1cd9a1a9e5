// pki init --intermediate: a CA signed by the root of another directory, so that the root key can
// live offline and only the intermediate signs day to day. The root must allow a CA below it
// (pathLen), and records what it signed in its own inventory so that it can revoke it later;
// afterwards nothing in the intermediate's directory needs the root's key.
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/ca/authority.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/ca_signing.hpp"
#include "pki/ca/issuing_constraints.hpp"
#include "pki/x509_names.hpp"
#include "pki/names.hpp"

#include <botan/x509_ext.h>

#include <climits>
#include <cstdlib>

namespace mcpmtls::pki {
namespace {

using std::chrono::system_clock;

std::string canonical_path(const std::string& path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) throw InputError("cannot resolve " + path);
    return resolved;
}

// How ROOTDIR's inventory names the intermediate: its directory's name, numbered when another
// certificate there has it already. The entry of the intermediate being replaced (--force)
// gives its name back.
std::string inventory_name(const Inventory& root_inventory, const std::string& dir_path, const std::string& replaced_fingerprint) {
    std::string base = dir_path.substr(dir_path.rfind('/') + 1);
    try {
        validate_certificate_name(base);
    } catch (const InputError&) {
        base = "intermediate";
    }
    for (int n = 1;; ++n) {
        const std::string name = n == 1 ? base : base + "-" + std::to_string(n);
        bool taken = false;
        for (const auto& entry : root_inventory.entries())
            if (entry.name == name && (entry.status == "valid" || entry.status == "revoked") &&
                entry.fingerprint_sha256 != replaced_fingerprint)
                taken = true;
        if (!taken) return name;
    }
}

// The root's pathLen must leave room for this CA and the CAs it may have below it.
void require_root_may_sign_ca(const Certificate& root, const CaDirectory& root_dir, size_t path_len) {
    if (!root.is_self_signed())
        throw InputError("the CA in " + root_dir.dir() + " is not a root (it is itself signed by another CA); "
                         "--root-dir takes the directory of a root made by pki init");
    const auto root_limit = root.path_length();
    if (!root_limit) return;
    if (*root_limit == 0)
        throw OperationError("the root CA in " + root_dir.dir() + " has pathLen 0 and can sign only leaves; make a root "
                             "that can sign an intermediate with: pki init --path-len 1 --dir " + root_dir.dir());
    if (path_len >= *root_limit)
        throw InputError("--path-len " + std::to_string(path_len) + " is more than the root allows (its pathLen " +
                         std::to_string(*root_limit) + " permits at most " + std::to_string(*root_limit - 1) + ")");
}

}  // namespace

IntermediateCa init_intermediate_ca(const CaDirectory& dir, const IntermediateInitOptions& options) {
    check_ca_options(options.ca);
    const auto name_constraints =
        options.permitted.empty() ? std::vector<uint8_t>() : encode_name_constraints(options.permitted);
    const CaDirectory root_dir(options.root_dir);
    load_ca_certificate(root_dir);  // a mistyped ROOTDIR is reported before DIR is made
    make_directories(dir.dir());
    if (canonical_path(dir.dir()) == canonical_path(root_dir.dir()))
        throw InputError("--root-dir must be another directory than --dir (the root signs the intermediate's CA)");

    // Root first, then the intermediate: every pki command takes one directory's lock at a time,
    // so this order cannot deadlock with them.
    FileLock root_lock(root_dir.lock());
    FileLock lock(dir.lock());
    require_no_ca(dir, options.ca.force);
    const auto root_cert = load_ca_certificate(root_dir);
    require_root_may_sign_ca(root_cert, root_dir, options.ca.path_len);
    // The root's passphrase has its own flag and variable: name them, not those of DIR's key.
    if (options.root_passphrase.empty() && file_exists(root_dir.ca_key()) && is_encrypted_key_pem(read_file(root_dir.ca_key())))
        throw InputError(root_dir.ca_key() + " is encrypted: set PKI_ROOT_PASSPHRASE or use --root-passphrase-file");
    const auto root = load_ca(root_dir, options.root_passphrase);
    auto root_inventory = Inventory::load(root_dir.inventory());

    std::vector<std::string> notes;
    const auto now = system_clock::now();
    auto not_after = now + std::chrono::hours(24) * options.ca.days;
    if (not_after > root_cert.not_after()) {
        not_after = root_cert.not_after();
        notes.push_back("lifetime shortened to end with the root CA certificate on " + format_rfc3339(not_after));
    }
    if (not_after <= now) throw OperationError("the root CA certificate has expired");

    auto key = PrivateKey::generate(options.ca.key_type);
    const auto public_key = key.public_key_info();
    auto extensions = ca_extensions(public_key, root_cert.impl().cert.subject_key_id(), options.ca.path_len);
    if (!name_constraints.empty())
        extensions.add(new RawExtension(Botan::OID::from_string("X509v3.NameConstraints"), "X509v3.NameConstraints",
                                        name_constraints),
                       true);
    add_crl_distribution_point(extensions, root_inventory.crl_url());
    // O=mcp-mtls only on the default name, as for a root.
    const bool default_name = options.ca.common_name == CaInitOptions{}.common_name;
    const auto cert = sign(*root.key.impl().key, root_cert.impl().cert.subject_dn(), public_key,
                           make_dn(options.ca.common_name, default_name), extensions, now - kClockSkewBackdate, not_after,
                           random_serial(root_inventory));
    const std::string replaced = file_exists(dir.ca_cert()) ? Certificate::load(dir.ca_cert()).fingerprint_sha256() : "";
    IntermediateCa result{cert, root_cert, inventory_name(root_inventory, canonical_path(dir.dir()), replaced), notes};

    // The root's record first: if ROOTDIR cannot be written (read-only media), DIR is untouched.
    for (auto& entry : root_inventory.entries())
        if (!replaced.empty() && entry.fingerprint_sha256 == replaced && entry.status == "valid") entry.status = "superseded";
    auto entry = InventoryEntry::from_certificate(result.certificate, result.root_inventory_name, "intermediate",
                                                  root_cert.fingerprint_sha256());
    entry.lifetime_days = options.ca.days;
    entry.key_type = key_type_name(options.ca.key_type);
    root_inventory.add(entry);
    root_inventory.save(root_dir.inventory());

    install_ca(dir, key, result.certificate, root_cert.pem(), root_cert.fingerprint_sha256(), options.ca);
    return result;
}

}  // namespace mcpmtls::pki
