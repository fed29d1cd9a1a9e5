#include "pki/ca/authority.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/ca_signing.hpp"
#include "pki/x509_names.hpp"
#include "pki/names.hpp"

#include <optional>
#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/hex.h>
#include <botan/pem.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <cstdlib>
#include <functional>
#include <unistd.h>

namespace mcpmtls::pki {
namespace {

using std::chrono::system_clock;
namespace ext = Botan::Cert_Extension;

// A self-signed root: v3, CA:TRUE with pathLen `path_len` (0 by default: it signs leaves only,
// so a leaked leaf key can never act as a CA; 1 lets it sign an intermediate), keyCertSign +
// cRLSign, key identifiers, backdated for clock skew.
Certificate make_root(const PrivateKey& key, const std::string& common_name, long days, size_t path_len,
                      const Inventory& inventory) {
    const auto public_key = key.public_key_info();
    const auto extensions = ca_extensions(public_key, key_identifier(public_key), path_len);
    // O=mcp-mtls marks the CA this tool names by default; a name the user chose stays as given.
    const auto dn = make_dn(common_name, common_name == CaInitOptions{}.common_name);
    const auto now = system_clock::now();
    return sign(*key.impl().key, dn, public_key, dn, extensions, now - kClockSkewBackdate,
                now + std::chrono::hours(24) * days, random_serial(inventory));
}

}  // namespace

std::string crl_reason_name_checked(const std::string& reason) {
    static const char* known[] = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
                                  "cessationOfOperation", "certificateHold", "privilegeWithdrawn"};
    for (const char* name : known)
        if (reason == name) return reason;
    throw InputError("unknown revocation reason '" + reason +
                     "' (expected unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                     "cessationOfOperation, certificateHold or privilegeWithdrawn)");
}

namespace {

uint8_t crl_reason_code(const std::string& reason) {
    if (reason == "keyCompromise") return 1;
    if (reason == "cACompromise") return 2;
    if (reason == "affiliationChanged") return 3;
    if (reason == "superseded") return 4;
    if (reason == "cessationOfOperation") return 5;
    if (reason == "certificateHold") return 6;
    if (reason == "privilegeWithdrawn") return 9;
    return 0;
}

// A v2 CRL built field by field: Botan 2's X509_CA cannot set the CRL number we keep in the
// inventory, and we want the reason codes of every entry.
std::string build_crl_pem(const LoadedCa& ca, const std::vector<const InventoryEntry*>& revoked, long crl_number,
                          std::chrono::seconds validity) {
    Botan::System_RNG rng;
    const auto& ca_cert = ca.cert.impl().cert;
    const auto& ca_key = *ca.key.impl().key;
    Botan::AlgorithmIdentifier sig_algo;
    std::unique_ptr<Botan::PK_Signer> signer(Botan::choose_sig_format(ca_key, rng, signature_hash_for(ca_key), sig_algo));
    const auto now = system_clock::now();

    Botan::Extensions crl_extensions;
    crl_extensions.add(new ext::Authority_Key_ID(ca_cert.subject_key_id()));
    crl_extensions.add(new ext::CRL_Number(static_cast<size_t>(crl_number)));

    std::vector<uint8_t> tbs;
    Botan::DER_Encoder der(tbs);
    der.start_cons(Botan::SEQUENCE)
        .encode(size_t(1))  // v2
        .encode(sig_algo)
        .encode(ca_cert.subject_dn())
        .encode(Botan::X509_Time(now - kClockSkewBackdate))
        .encode(Botan::X509_Time(now + validity));
    if (!revoked.empty()) {
        der.start_cons(Botan::SEQUENCE);
        for (const auto* entry : revoked) {
            std::vector<uint8_t> serial_bytes = Botan::hex_decode(entry->serial);
            der.start_cons(Botan::SEQUENCE)
                .encode(Botan::BigInt(serial_bytes.data(), serial_bytes.size()))
                .encode(Botan::X509_Time(entry->revoked_at.value_or(now)));
            uint8_t code = crl_reason_code(entry->revocation_reason);
            if (code != 0) {
                std::vector<uint8_t> reason_value;
                Botan::DER_Encoder(reason_value).encode(size_t(code), Botan::ENUMERATED, Botan::UNIVERSAL);
                der.start_cons(Botan::SEQUENCE)
                    .start_cons(Botan::SEQUENCE)
                    .encode(Botan::OID::from_string("X509v3.ReasonCode"))
                    .encode(reason_value, Botan::OCTET_STRING)
                    .end_cons()
                    .end_cons();
            }
            der.end_cons();
        }
        der.end_cons();
    }
    // Botan encodes the extensions without their outer SEQUENCE (as make_cert expects).
    der.start_explicit(0).start_cons(Botan::SEQUENCE).encode(crl_extensions).end_cons().end_explicit();
    der.end_cons();

    auto signed_der = Botan::X509_Object::make_signed(signer.get(), rng, sig_algo,
                                                      Botan::secure_vector<uint8_t>(tbs.begin(), tbs.end()));
    Botan::X509_CRL check(signed_der);  // parses what we built: a malformed CRL never reaches disk
    return Botan::PEM_Code::encode(signed_der, "X509 CRL");
}

// CAs whose keys we hold: the current ca.key, and during a CA rotation the previous one.
std::vector<LoadedCa> signing_cas(const CaDirectory& dir, const std::string& passphrase) {
    std::vector<LoadedCa> cas;
    cas.push_back(load_ca(dir, passphrase));
    if (file_exists(dir.previous_ca_cert()) && file_exists(dir.previous_ca_key())) {
        auto cert = Certificate::load(dir.previous_ca_cert());
        auto key = PrivateKey::load(dir.previous_ca_key(), passphrase);
        cas.push_back({cert, key});
    }
    return cas;
}

}  // namespace

// The DER form once asked for (pki crl --der) is kept in step with every later CRL, so that
// what an HTTP server publishes never lags behind ca.crl.
void write_crl_locked(const CaDirectory& dir, Inventory& inventory, std::chrono::seconds validity,
                      const std::string& passphrase, bool der) {
    const long number = inventory.next_crl_number();
    const bool write_der = der || file_exists(dir.crl_der());
    std::string pem;
    std::vector<std::pair<std::string, std::string>> der_files;  // path, content
    for (const auto& ca : signing_cas(dir, passphrase)) {
        std::vector<const InventoryEntry*> revoked;
        for (const auto& entry : inventory.entries())
            if (entry.is_revoked() && entry.issuer_fingerprint_sha256 == ca.cert.fingerprint_sha256())
                revoked.push_back(&entry);
        const std::string crl = build_crl_pem(ca, revoked, number, validity);
        pem += crl;
        if (write_der) {
            std::string label;
            const auto bytes = Botan::PEM_Code::decode(crl, label);
            der_files.emplace_back(der_files.empty() ? dir.crl_der() : dir.previous_crl_der(),
                                   std::string(bytes.begin(), bytes.end()));
        }
    }
    write_file_atomic(dir.crl(), pem, 0644);
    for (const auto& [path, content] : der_files) write_file_atomic(path, content, 0644);
}

std::string leaf_kind_name(LeafKind kind) { return kind == LeafKind::server ? "server" : "client"; }

std::string passphrase_from(const std::string& passphrase_file) { return passphrase_from(passphrase_file, "PKI_PASSPHRASE"); }

std::string passphrase_from(const std::string& passphrase_file, const char* environment_variable) {
    if (!passphrase_file.empty()) {
        std::string content = read_file(passphrase_file);
        auto newline = content.find('\n');
        std::string first = content.substr(0, newline);
        if (!first.empty() && first.back() == '\r') first.pop_back();
        if (first.empty()) throw InputError(passphrase_file + " holds an empty passphrase");
        return first;
    }
    const char* env = std::getenv(environment_variable);
    return env ? std::string(env) : std::string();
}

Certificate init_ca(const CaDirectory& dir, const CaInitOptions& options) {
    check_ca_options(options);
    // A key in a token is reached (or made) before DIR is: a refused PIN leaves nothing behind.
    std::optional<PrivateKey> token_key;
    if (!options.key_in.empty() || !options.key_uri.empty()) {
        require_no_ca(dir, options.force);
        token_key = options.key_in.empty() ? load_token_ca_key(options.key_uri, dir)
                                           : make_token_ca_key(options.key_in, dir, options.key_type);
    }
    make_directories(dir.dir());
    FileLock lock(dir.lock());
    require_no_ca(dir, options.force);

    auto key = token_key ? *token_key : PrivateKey::generate(options.key_type);
    auto cert = make_root(key, options.common_name, options.days, options.path_len, Inventory());
    install_ca(dir, key, cert, cert.pem(), cert.fingerprint_sha256(), options);
    return cert;
}

namespace {

// Before anything is generated or signed. A key file without its certificate would be taken
// for the key of a certificate signed from a CSR, so it blocks the name too.
void require_new_name(const CaDirectory& dir, Inventory& inventory, const std::string& name) {
    if (file_exists(dir.leaf_cert(name)) || inventory.find_current(name))
        throw OperationError("a certificate named '" + name + "' already exists (use: pki rotate " + name + ")");
    if (file_exists(dir.leaf_key(name)))
        throw OperationError(dir.leaf_key(name) + " exists without its certificate; remove it or choose another name");
}

// NAME.crt (leaf, then the CA: the chain servers and clients send) and the inventory entry, plus
// NAME.key when the key is ours. Whatever fails, no half of it stays behind.
void write_new_leaf(const CaDirectory& dir, Inventory& inventory, const LoadedCa& ca, const SignedLeaf& leaf,
                    const PrivateKey* key) {
    const auto key_path = dir.leaf_key(leaf.entry.name);
    const auto cert_path = dir.leaf_cert(leaf.entry.name);
    inventory.add(leaf.entry);
    if (key) write_key_file(key_path, *key, "");
    try {
        write_file_atomic(cert_path, leaf.certificate.pem() + ca.cert.pem(), 0644);
        inventory.save(dir.inventory());
    } catch (...) {
        ::unlink(cert_path.c_str());
        if (key) ::unlink(key_path.c_str());
        throw;
    }
}

// The key a new leaf certifies: one generated here, or the public key of a CSR.
struct LeafKey {
    std::optional<PrivateKey> key;  // empty: the holder of a CSR keeps it
    std::vector<uint8_t> public_key_info;
    std::string key_type;
};

// What issue and sign share: the checks (before the CA key is even read), the lock, a name not
// taken yet, our profile for the kind, and NAME.crt (with NAME.key when the key is ours).
IssuedCertificate sign_new_leaf(const CaDirectory& dir, const LeafRequest& request, const std::function<LeafKey()>& make_key) {
    validate_certificate_name(request.name);
    check_lifetime(request.lifetime);
    const LeafProfile profile{request.kind, request.name, checked_sans(request.kind, request.sans), request.lifetime};

    FileLock lock(dir.lock());
    auto ca = load_ca(dir, request.ca_passphrase);
    auto inventory = Inventory::load(dir.inventory());
    require_new_name(dir, inventory, request.name);
    const LeafKey key = make_key();
    auto leaf = sign_leaf(ca, inventory, profile, key.public_key_info);
    leaf.entry.key_type = key.key_type;
    leaf.entry.from_csr = !key.key;
    write_new_leaf(dir, inventory, ca, leaf, key.key ? &*key.key : nullptr);
    return {leaf.certificate, leaf.entry, leaf.notes};
}

}  // namespace

IssuedCertificate issue_certificate(const CaDirectory& dir, const IssueOptions& options) {
    return sign_new_leaf(dir, options, [&] {
        auto key = PrivateKey::generate(options.key_type);
        return LeafKey{key, key.public_key_info(), key_type_name(options.key_type)};
    });
}

SignedRequest sign_certificate_request(const CaDirectory& dir, const CertificateRequest& request,
                                       const LeafRequest& options) {
    const auto issued = sign_new_leaf(
        dir, options, [&] { return LeafKey{std::nullopt, request.public_key_info(), request.public_key_algorithm()}; });
    SignedRequest result{issued, {}};
    const auto granted = issued.certificate.subject_alt_names();
    auto not_granted = [](const std::vector<std::string>& asked, const std::vector<std::string>& given) {
        std::vector<std::string> out;
        for (const auto& name : asked)
            if (std::find(given.begin(), given.end(), name) == given.end()) out.push_back(name);
        return out;
    };
    const auto asked = request.requested_names();
    result.names_not_granted.dns = not_granted(asked.dns, granted.dns);
    result.names_not_granted.ips = not_granted(asked.ips, granted.ips);
    result.names_not_granted.uris = not_granted(asked.uris, granted.uris);
    result.names_not_granted.emails = not_granted(asked.emails, granted.emails);
    return result;
}

InventoryEntry revoke_certificate(const CaDirectory& dir, const std::string& name, const std::string& serial,
                                  const std::string& reason, const std::string& ca_passphrase) {
    const std::string checked_reason = crl_reason_name_checked(reason.empty() ? "unspecified" : reason);
    FileLock lock(dir.lock());
    auto inventory = Inventory::load(dir.inventory());
    InventoryEntry* entry = nullptr;
    if (!serial.empty()) {
        entry = inventory.find_serial(normalize_serial_hex(serial));
        if (!entry) throw OperationError("no certificate with serial " + serial + " in the inventory");
    } else {
        entry = inventory.find_current(name);
        if (!entry) throw OperationError("no certificate named '" + name + "' in the inventory");
    }
    if (entry->kind == "ca") throw OperationError("a CA is not revoked by its own CRL; use pki rotate-ca");
    // An intermediate this root signed (pki init --intermediate) is revoked here, in the root's CRL.
    if (entry->is_revoked()) throw OperationError("certificate '" + entry->name + "' (serial " + entry->serial + ") is already revoked");
    entry->status = "revoked";
    entry->revoked_at = system_clock::now();
    entry->revocation_reason = checked_reason;
    InventoryEntry result = *entry;
    // CRL first: if signing fails (wrong passphrase) the inventory still says "valid".
    write_crl_locked(dir, inventory, std::chrono::hours(24 * 7), ca_passphrase);
    inventory.save(dir.inventory());
    return result;
}

void write_crl(const CaDirectory& dir, std::chrono::seconds validity, const std::string& ca_passphrase, bool der) {
    FileLock lock(dir.lock());
    auto inventory = Inventory::load(dir.inventory());
    write_crl_locked(dir, inventory, validity, ca_passphrase, der);
    inventory.save(dir.inventory());
}

}  // namespace mcpmtls::pki

namespace mcpmtls::pki {
namespace {

std::string compact_utc_timestamp(std::chrono::system_clock::time_point t) {
    std::string s = format_rfc3339(t);  // 2026-11-24T03:00:00Z -> 20261124T030000Z
    std::string out;
    for (char c : s)
        if (c != '-' && c != ':') out.push_back(c);
    return out;
}

nlohmann::json manifest_side(const InventoryEntry& e) {
    return {{"serial", e.serial},
            {"fingerprint_sha256", e.fingerprint_sha256},
            {"not_before", format_rfc3339(e.not_before)},
            {"not_after", format_rfc3339(e.not_after)},
            {"issuer", e.issuer}};
}

}  // namespace

RotationResult rotate_certificate(const CaDirectory& dir, const std::string& name, bool revoke_old,
                                  const std::string& ca_passphrase) {
    validate_certificate_name(name);
    FileLock lock(dir.lock());
    const auto ca = load_ca(dir, ca_passphrase);
    auto inventory = Inventory::load(dir.inventory());
    return rotate_locked(dir, ca, inventory, name, revoke_old, ca_passphrase);
}

RotationResult rotate_locked(const CaDirectory& dir, const LoadedCa& ca, Inventory& inventory, const std::string& name,
                             bool revoke_old, const std::string& ca_passphrase, const std::string& log_event) {
    auto* current = inventory.find_current(name);
    if (!current) throw OperationError("no certificate named '" + name + "' in the inventory");
    if (current->kind == "ca") throw OperationError("use pki rotate-ca to rotate the CA");
    if (!current->is_leaf())
        throw OperationError("'" + name + "' is an intermediate CA: have this root sign a new one in another directory "
                             "(pki init --intermediate --root-dir ROOTDIR --dir NEWDIR)");
    const InventoryEntry old_entry = *current;

    const LeafKind kind = old_entry.kind == "server" ? LeafKind::server : LeafKind::client;
    const LeafProfile profile{kind, name, old_entry.sans, old_entry.requested_lifetime()};
    // A leaf signed from a CSR keeps its holder's key, which never was here (as step ca renew
    // does); every other leaf gets a new key of the same type.
    std::optional<PrivateKey> key;
    if (!old_entry.from_csr)
        key = PrivateKey::generate(old_entry.key_type.empty() ? KeyType::ecdsa_p256 : parse_key_type(old_entry.key_type));
    auto leaf = sign_leaf(ca, inventory, profile,
                          key ? key->public_key_info() : old_entry.certificate().impl().cert.subject_public_key_info());
    leaf.entry.key_type = old_entry.key_type;
    leaf.entry.from_csr = old_entry.from_csr;
    const std::string chain_text = ca.cert.pem();
    const std::string cert_text = leaf.certificate.pem() + chain_text;

    const auto now = system_clock::now();
    RotationResult result;
    result.old_entry = old_entry;
    result.new_entry = leaf.entry;
    // The bundle first: whatever fails later, the operator has the new pair.
    result.bundle_dir = dir.rotation_bundle(name + "-" + compact_utc_timestamp(now));
    for (int n = 2; file_exists(result.bundle_dir); ++n)  // two rotations within one second
        result.bundle_dir = dir.rotation_bundle(name + "-" + compact_utc_timestamp(now) + "-" + std::to_string(n));
    make_directories(dir.rotation_dir(), 0700);
    make_directories(result.bundle_dir, 0700);
    const CaDirectory bundle(result.bundle_dir);  // the CA directory's names: files can be copied over
    if (key) write_key_file(bundle.leaf_key(name), *key, "");
    write_file_atomic(bundle.leaf_cert(name), cert_text, 0644);
    write_file_atomic(bundle.path("chain.crt"), chain_text, 0644);
    write_file_atomic(bundle.bundle(), read_file(dir.bundle()), 0644);

    // Key, then certificate: a watcher that reads between the two sees a mismatch, rejects it and
    // keeps serving the old pair; its next look finds the matching new pair.
    if (key) write_key_file(dir.leaf_key(name), *key, "");
    write_file_atomic(dir.leaf_cert(name), cert_text, 0644);

    auto* old = inventory.find_serial(old_entry.serial);
    old->status = "superseded";
    if (revoke_old) {
        old->status = "revoked";
        old->revoked_at = system_clock::now();
        old->revocation_reason = "superseded";
        result.old_revoked = true;
    }
    leaf.entry.log_event = log_event;
    inventory.add(leaf.entry);
    nlohmann::json files = {name + ".crt", "chain.crt", "ca-bundle.crt"};
    if (key) files.insert(files.begin() + 1, name + ".key");
    nlohmann::json manifest = {
        {"name", name},
        {"kind", old_entry.kind},
        {"rotated_at", format_rfc3339(now)},
        {"old", manifest_side(old_entry)},
        {"new", manifest_side(leaf.entry)},
        {"old_revoked", revoke_old},
        {"same_key", !key},
        // Long enough for every server to reload and every client to reconnect.
        {"revoke_old_after", format_rfc3339(now + std::chrono::hours(24))},
        {"files", files},
    };
    write_file_atomic(bundle.path("manifest.json"), manifest.dump(2) + "\n", 0644);
    if (revoke_old) write_crl_locked(dir, inventory, std::chrono::hours(24 * 7), ca_passphrase);
    inventory.save(dir.inventory());
    return result;
}

CaRotationResult start_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase) {
    FileLock lock(dir.lock());
    if (file_exists(dir.ca_key_uri()))
        throw OperationError("the CA key of " + dir.dir() + " is in a token (" + dir.ca_key_uri() +
                             "); rotate-ca makes file keys only: start a new CA with pki init --key-in in another directory");
    if (file_exists(dir.previous_ca_cert()))
        throw OperationError("a CA rotation is already in progress (finish it with: pki rotate-ca --finish)");
    if (!load_ca_certificate(dir).is_self_signed())
        throw OperationError("the CA in " + dir.dir() + " is an intermediate: have its root sign a new one in another "
                             "directory (pki init --intermediate --root-dir ROOTDIR --dir NEWDIR) and issue there; peers "
                             "trust the root, so the leaves of both verify side by side");
    auto old_ca = load_ca(dir, ca_passphrase);
    auto inventory = Inventory::load(dir.inventory());
    auto* old_entry = inventory.find_current("ca");
    const long days = old_entry && old_entry->lifetime_days > 0 ? old_entry->lifetime_days : 3650;
    const KeyType key_type = old_entry && !old_entry->key_type.empty() ? parse_key_type(old_entry->key_type) : KeyType::ecdsa_p256;

    // A distinct subject: two CAs with one name would make path building guess.
    std::string base = old_ca.cert.common_name();
    auto generation_mark = base.rfind(" G");
    long generation = 1;
    if (generation_mark != std::string::npos && generation_mark + 2 < base.size() &&
        base.find_first_not_of("0123456789", generation_mark + 2) == std::string::npos) {
        generation = std::stol(base.substr(generation_mark + 2));
        base = base.substr(0, generation_mark);
    }
    auto key = PrivateKey::generate(key_type);
    auto cert = make_root(key, base + " G" + std::to_string(generation + 1), days,
                          old_ca.cert.path_length().value_or(Botan::Cert_Extension::NO_CERT_PATH_LIMIT), inventory);

    if (old_entry) old_entry->name = "ca-previous";
    auto entry = InventoryEntry::from_certificate(cert, "ca", "ca", cert.fingerprint_sha256());
    entry.lifetime_days = days;
    entry.key_type = key_type_name(key_type);
    entry.log_event = "rotate";
    inventory.add(entry);

    const bool encrypted = is_encrypted_key_pem(read_file(dir.ca_key()));
    write_file_atomic(dir.previous_ca_key(), read_file(dir.ca_key()), 0600);
    write_file_atomic(dir.previous_ca_cert(), old_ca.cert.pem(), 0644);
    write_key_file(dir.ca_key(), key, encrypted ? ca_passphrase : "");
    write_file_atomic(dir.ca_cert(), cert.pem(), 0644);
    // New first: peers that look only at the first anchor still find the CA that new leaves use.
    write_file_atomic(dir.bundle(), cert.pem() + old_ca.cert.pem(), 0644);
    if (file_exists(dir.crl())) write_crl_locked(dir, inventory, std::chrono::hours(24 * 7), ca_passphrase);
    inventory.save(dir.inventory());
    return {cert, old_ca.cert, {}};
}

CaRotationResult finish_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase) {
    FileLock lock(dir.lock());
    if (!file_exists(dir.previous_ca_cert())) throw OperationError("no CA rotation in progress");
    auto new_ca = load_ca(dir, ca_passphrase);
    auto old_cert = Certificate::load(dir.previous_ca_cert());
    auto inventory = Inventory::load(dir.inventory());
    CaRotationResult result{new_ca.cert, old_cert, {}};
    const auto now = system_clock::now();
    for (const auto& entry : inventory.entries())
        if (entry.kind != "ca" && entry.issuer_fingerprint_sha256 == old_cert.fingerprint_sha256() &&
            entry.status == "valid" && entry.not_after > now)
            result.still_on_old_ca.push_back(entry);
    if (!result.still_on_old_ca.empty()) {
        std::string names;
        for (const auto& e : result.still_on_old_ca) names += (names.empty() ? "" : ", ") + e.name;
        throw OperationError("still issued by the old CA and valid: " + names + " (rotate them first: pki rotate NAME)");
    }
    for (auto& entry : inventory.entries())
        if (entry.kind == "ca" && entry.fingerprint_sha256 == old_cert.fingerprint_sha256()) entry.status = "retired";
    write_file_atomic(dir.bundle(), new_ca.cert.pem(), 0644);
    ::unlink(dir.previous_ca_key().c_str());
    ::unlink(dir.previous_ca_cert().c_str());
    if (file_exists(dir.crl())) write_crl_locked(dir, inventory, std::chrono::hours(24 * 7), ca_passphrase);
    inventory.save(dir.inventory());
    return result;
}

}  // namespace mcpmtls::pki
