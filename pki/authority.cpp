#include "pki/authority.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/internal/botan_access.hpp"
#include "pki/internal/x509_names.hpp"
#include "pki/names.hpp"

#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/ecc_key.h>
#include <botan/hex.h>
#include <botan/pem.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <cstdlib>
#include <unistd.h>

namespace mcpmtls::pki {
namespace {

using std::chrono::system_clock;
namespace ext = Botan::Cert_Extension;

// Clocks of peers drift; a certificate must not be "not yet valid" on a machine a little behind.
constexpr auto kClockSkewBackdate = std::chrono::minutes(5);

std::string signature_hash_for(const Botan::Private_Key& key) {
    const std::string algo = key.algo_name();
    if (algo == "Ed25519") return "Pure";
    if (algo == "ECDSA" && key.key_length() >= 384) return "SHA-384";
    return "SHA-256";
}

// 159 random bits with the top bit of the first byte clear (positive) and the next one set, so
// the serial is always 20 bytes in DER: at least 128 bits of entropy, as step and cfssl do.
Botan::BigInt random_serial(const Inventory& inventory) {
    Botan::System_RNG rng;
    for (;;) {
        uint8_t bytes[20];
        rng.randomize(bytes, sizeof bytes);
        bytes[0] = static_cast<uint8_t>((bytes[0] & 0x7f) | 0x40);
        Botan::BigInt serial(bytes, sizeof bytes);
        if (!inventory.has_serial(to_hex(bytes, sizeof bytes))) return serial;
    }
}

Botan::X509_DN make_dn(const std::string& common_name, bool with_organization) {
    Botan::X509_DN dn;
    if (with_organization) dn.add_attribute("X520.Organization", "mcp-mtls");
    dn.add_attribute("X520.CommonName", common_name);
    return dn;
}

Certificate sign(const Botan::Private_Key& signer, const Botan::X509_DN& issuer_dn,
                 const std::vector<uint8_t>& subject_public_key, const Botan::X509_DN& subject_dn,
                 const Botan::Extensions& extensions, system_clock::time_point not_before,
                 system_clock::time_point not_after, const Botan::BigInt& serial) {
    Botan::System_RNG rng;
    Botan::AlgorithmIdentifier sig_algo;
    std::unique_ptr<Botan::PK_Signer> signer_op(
        Botan::choose_sig_format(signer, rng, signature_hash_for(signer), sig_algo));
    auto cert = Botan::X509_CA::make_cert(signer_op.get(), rng, serial, sig_algo, subject_public_key,
                                          Botan::X509_Time(not_before), Botan::X509_Time(not_after), issuer_dn,
                                          subject_dn, extensions);
    return wrap_certificate(cert);
}

std::vector<uint8_t> key_identifier(const std::vector<uint8_t>& public_key_info) {
    // RFC 7093 method 1: leftmost 160 bits of SHA-256 of the public key... Botan computes it
    // over the SubjectPublicKeyInfo; any stable unique value satisfies RFC 5280.
    ext::Subject_Key_ID ski(public_key_info, "SHA-256");
    auto id = ski.get_key_id();
    id.resize(20);
    return id;
}

// A self-signed root: v3, CA:TRUE with pathLen 0 (it signs leaves only, so a leaked leaf key
// can never act as a CA), keyCertSign + cRLSign, key identifiers, backdated for clock skew.
Certificate make_root(const PrivateKey& key, const std::string& common_name, long days, const Inventory& inventory) {
    const auto public_key = key.public_key_info();
    const auto key_id = key_identifier(public_key);
    Botan::Extensions extensions;
    extensions.add(new ext::Basic_Constraints(true, 0), true);
    extensions.add(new ext::Key_Usage(Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)), true);
    extensions.add(new ext::Subject_Key_ID(key_id));
    extensions.add(new ext::Authority_Key_ID(key_id));
    const auto dn = make_dn(common_name, true);
    const auto now = system_clock::now();
    return sign(*key.impl().key, dn, public_key, dn, extensions, now - kClockSkewBackdate,
                now + std::chrono::hours(24) * days, random_serial(inventory));
}

struct LoadedCa {
    Certificate cert;
    PrivateKey key;
};

LoadedCa load_ca(const CaDirectory& dir, const std::string& passphrase) {
    if (!file_exists(dir.ca_cert()) || !file_exists(dir.ca_key()))
        throw InputError("no CA in " + dir.dir() + " (run: pki init --dir " + dir.dir() + ")");
    auto cert = Certificate::load(dir.ca_cert());
    auto key = PrivateKey::load(dir.ca_key(), passphrase);
    if (!cert.matches_key(key)) throw InputError(dir.ca_key() + " does not belong to " + dir.ca_cert());
    return {cert, key};
}

void write_key_file(const std::string& path, const PrivateKey& key, const std::string& passphrase) {
    write_file_atomic(path, passphrase.empty() ? key.to_pem() : key.to_encrypted_pem(passphrase), 0600);
}

std::string crl_reason_name_checked(const std::string& reason) {
    static const char* known[] = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
                                  "cessationOfOperation", "certificateHold", "privilegeWithdrawn"};
    for (const char* name : known)
        if (reason == name) return reason;
    throw InputError("unknown revocation reason '" + reason +
                     "' (expected unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                     "cessationOfOperation, certificateHold or privilegeWithdrawn)");
}

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

void write_crl_locked(const CaDirectory& dir, Inventory& inventory, std::chrono::seconds validity,
                      const std::string& passphrase) {
    const long number = inventory.next_crl_number();
    std::string pem;
    for (const auto& ca : signing_cas(dir, passphrase)) {
        std::vector<const InventoryEntry*> revoked;
        for (const auto& entry : inventory.entries())
            if (entry.is_revoked() && entry.issuer_fingerprint_sha256 == ca.cert.fingerprint_sha256())
                revoked.push_back(&entry);
        pem += build_crl_pem(ca, revoked, number, validity);
    }
    write_file_atomic(dir.crl(), pem, 0644);
}

}  // namespace

std::string leaf_kind_name(LeafKind kind) { return kind == LeafKind::server ? "server" : "client"; }

std::string passphrase_from(const std::string& passphrase_file) {
    if (!passphrase_file.empty()) {
        std::string content = read_file(passphrase_file);
        auto newline = content.find('\n');
        std::string first = content.substr(0, newline);
        if (!first.empty() && first.back() == '\r') first.pop_back();
        if (first.empty()) throw InputError(passphrase_file + " holds an empty passphrase");
        return first;
    }
    const char* env = std::getenv("PKI_PASSPHRASE");
    return env ? std::string(env) : std::string();
}

Certificate init_ca(const CaDirectory& dir, const CaInitOptions& options) {
    if (options.days < 1 || options.days > 36500) throw InputError("--days must be between 1 and 36500");
    if (options.common_name.empty()) throw InputError("--cn cannot be empty");
    make_directories(dir.dir());
    FileLock lock(dir.lock());
    if (!options.force && (file_exists(dir.ca_cert()) || file_exists(dir.ca_key())))
        throw OperationError("a CA already exists in " + dir.dir() + " (use --force to replace it)");

    auto key = PrivateKey::generate(options.key_type);
    auto cert = make_root(key, options.common_name, options.days, Inventory());

    Inventory inventory;
    auto entry = InventoryEntry::from_certificate(cert, "ca", "ca", cert.fingerprint_sha256());
    entry.lifetime_days = options.days;
    entry.key_type = key_type_name(options.key_type);
    inventory.add(entry);
    if (options.force && file_exists(dir.inventory()))
        ::rename(dir.inventory().c_str(), (dir.inventory() + ".replaced").c_str());
    // Key first: a certificate whose key is missing is worse than a stray key.
    write_key_file(dir.ca_key(), key, options.passphrase);
    write_file_atomic(dir.ca_cert(), cert.pem(), 0644);
    write_file_atomic(dir.bundle(), cert.pem(), 0644);
    inventory.save(dir.inventory());
    ::unlink(dir.previous_ca_cert().c_str());
    ::unlink(dir.previous_ca_key().c_str());
    ::unlink(dir.crl().c_str());
    return cert;
}

namespace {

SubjectAltNames checked_sans(const IssueOptions& options) {
    SubjectAltNames sans = options.sans;
    for (const auto& dns : sans.dns)
        if (!is_valid_dns_name(dns, options.kind == LeafKind::server)) throw InputError("bad DNS name '" + dns + "'");
    for (auto& ip : sans.ips) {
        std::string canonical = canonical_ip(ip);
        if (canonical.empty()) throw InputError("bad IP address '" + ip + "'");
        ip = canonical;
    }
    for (const auto& uri : sans.uris)
        if (!is_valid_uri(uri)) throw InputError("bad URI '" + uri + "' (expected e.g. spiffe://demo/coordinator)");
    for (const auto& email : sans.emails)
        if (!is_valid_email(email)) throw InputError("bad e-mail address '" + email + "'");
    if (options.kind == LeafKind::server && sans.dns.empty() && sans.ips.empty()) {
        sans.dns = {"localhost"};
        sans.ips = {"127.0.0.1"};
    }
    if (options.kind == LeafKind::server && (!sans.uris.empty() || !sans.emails.empty()))
        throw InputError("server certificates take --dns and --ip names only");
    return sans;
}

struct NewLeaf {
    Certificate certificate;
    PrivateKey key;
    InventoryEntry entry;
    std::vector<std::string> notes;
};

// Signs a leaf for `options` with the loaded CA; writes nothing. Caller holds the lock.
NewLeaf make_leaf(const LoadedCa& ca, const Inventory& inventory, const IssueOptions& options) {
    const SubjectAltNames sans = checked_sans(options);
    std::vector<std::string> notes;
    const auto now = system_clock::now();
    auto not_after = now + std::chrono::hours(24) * options.days;
    if (not_after > ca.cert.not_after()) {
        not_after = ca.cert.not_after();
        notes.push_back("lifetime shortened to end with the CA certificate on " + format_rfc3339(not_after));
    }
    if (not_after <= now) throw OperationError("the CA certificate has expired; rotate the CA first");

    auto key = PrivateKey::generate(options.key_type);
    const auto public_key = key.public_key_info();
    Botan::Extensions extensions;
    extensions.add(new ext::Basic_Constraints(false), true);
    extensions.add(new ext::Key_Usage(Botan::DIGITAL_SIGNATURE), true);
    extensions.add(new ext::Extended_Key_Usage({Botan::OID::from_string(
        options.kind == LeafKind::server ? "PKIX.ServerAuth" : "PKIX.ClientAuth")}));
    if (!sans.empty())
        extensions.add(new RawExtension(Botan::OID::from_string("X509v3.SubjectAlternativeName"),
                                        "X509v3.SubjectAlternativeName", encode_general_names(sans)));
    extensions.add(new ext::Subject_Key_ID(key_identifier(public_key)));
    extensions.add(new ext::Authority_Key_ID(ca.cert.impl().cert.subject_key_id()));

    auto cert = sign(*ca.key.impl().key, ca.cert.impl().cert.subject_dn(), public_key, make_dn(options.name, false),
                     extensions, now - kClockSkewBackdate, not_after, random_serial(inventory));
    auto entry = InventoryEntry::from_certificate(cert, options.name, leaf_kind_name(options.kind),
                                                  ca.cert.fingerprint_sha256());
    entry.lifetime_days = options.days;
    entry.key_type = key_type_name(options.key_type);
    return {cert, key, entry, notes};
}

}  // namespace

IssuedCertificate issue_certificate(const CaDirectory& dir, const IssueOptions& options) {
    validate_certificate_name(options.name);
    if (options.days < 1 || options.days > 3650) throw InputError("--days must be between 1 and 3650");
    checked_sans(options);  // bad input is reported before the CA key is even read

    FileLock lock(dir.lock());
    auto ca = load_ca(dir, options.ca_passphrase);
    auto inventory = Inventory::load(dir.inventory());
    if (file_exists(dir.leaf_cert(options.name)) || inventory.find_current(options.name))
        throw OperationError("a certificate named '" + options.name + "' already exists (use: pki rotate " +
                             options.name + ")");
    auto leaf = make_leaf(ca, inventory, options);
    inventory.add(leaf.entry);

    const auto key_path = dir.leaf_key(options.name);
    const auto cert_path = dir.leaf_cert(options.name);
    write_key_file(key_path, leaf.key, "");
    try {
        write_file_atomic(cert_path, leaf.certificate.pem() + ca.cert.pem(), 0644);
        inventory.save(dir.inventory());
    } catch (...) {
        ::unlink(cert_path.c_str());
        ::unlink(key_path.c_str());
        throw;
    }
    return {leaf.certificate, leaf.entry, leaf.notes};
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

void write_crl(const CaDirectory& dir, std::chrono::seconds validity, const std::string& ca_passphrase) {
    FileLock lock(dir.lock());
    auto inventory = Inventory::load(dir.inventory());
    write_crl_locked(dir, inventory, validity, ca_passphrase);
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
    auto ca = load_ca(dir, ca_passphrase);
    auto inventory = Inventory::load(dir.inventory());
    auto* current = inventory.find_current(name);
    if (!current) throw OperationError("no certificate named '" + name + "' in the inventory");
    if (current->kind == "ca") throw OperationError("use pki rotate-ca to rotate the CA");
    const InventoryEntry old_entry = *current;

    IssueOptions options;
    options.kind = old_entry.kind == "server" ? LeafKind::server : LeafKind::client;
    options.name = name;
    options.sans = old_entry.sans;
    options.days = old_entry.lifetime_days > 0 ? old_entry.lifetime_days : 90;
    options.key_type = old_entry.key_type.empty() ? KeyType::ecdsa_p256 : parse_key_type(old_entry.key_type);
    auto leaf = make_leaf(ca, inventory, options);
    const std::string key_text = leaf.key.to_pem();
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
    write_file_atomic(bundle.leaf_key(name), key_text, 0600);
    write_file_atomic(bundle.leaf_cert(name), cert_text, 0644);
    write_file_atomic(bundle.path("chain.crt"), chain_text, 0644);
    write_file_atomic(bundle.bundle(), read_file(dir.bundle()), 0644);

    // Key, then certificate: a watcher that reads between the two sees a mismatch, rejects it and
    // keeps serving the old pair; its next look finds the matching new pair.
    write_file_atomic(dir.leaf_key(name), key_text, 0600);
    write_file_atomic(dir.leaf_cert(name), cert_text, 0644);

    auto* old = inventory.find_serial(old_entry.serial);
    old->status = "superseded";
    if (revoke_old) {
        old->status = "revoked";
        old->revoked_at = system_clock::now();
        old->revocation_reason = "superseded";
        result.old_revoked = true;
    }
    inventory.add(leaf.entry);
    nlohmann::json manifest = {
        {"name", name},
        {"kind", old_entry.kind},
        {"rotated_at", format_rfc3339(now)},
        {"old", manifest_side(old_entry)},
        {"new", manifest_side(leaf.entry)},
        {"old_revoked", revoke_old},
        // Long enough for every server to reload and every client to reconnect.
        {"revoke_old_after", format_rfc3339(now + std::chrono::hours(24))},
        {"files", {name + ".crt", name + ".key", "chain.crt", "ca-bundle.crt"}},
    };
    write_file_atomic(bundle.path("manifest.json"), manifest.dump(2) + "\n", 0644);
    if (revoke_old) write_crl_locked(dir, inventory, std::chrono::hours(24 * 7), ca_passphrase);
    inventory.save(dir.inventory());
    return result;
}

CaRotationResult start_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase) {
    FileLock lock(dir.lock());
    if (file_exists(dir.previous_ca_cert()))
        throw OperationError("a CA rotation is already in progress (finish it with: pki rotate-ca --finish)");
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
    auto cert = make_root(key, base + " G" + std::to_string(generation + 1), days, inventory);

    if (old_entry) old_entry->name = "ca-previous";
    auto entry = InventoryEntry::from_certificate(cert, "ca", "ca", cert.fingerprint_sha256());
    entry.lifetime_days = days;
    entry.key_type = key_type_name(key_type);
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
