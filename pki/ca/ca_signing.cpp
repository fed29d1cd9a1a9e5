// How pki signs: the CA loaded from its directory, serial numbers, key identifiers, the CA and
// leaf profiles and their extensions. issue, sign, rotate, renew and init (root or intermediate)
// all come through here, so a certificate's profile is decided in one place.
#include "pki/ca/ca_signing.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/ca/issuing_constraints.hpp"
#include "pki/x509_names.hpp"
#include "pki/names.hpp"

#include <botan/der_enc.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <cstdio>
#include <unistd.h>

namespace mcpmtls::pki {
namespace {

using std::chrono::system_clock;
namespace ext = Botan::Cert_Extension;

// CRLDistributionPoints with one DistributionPoint whose fullName is the URI (RFC 5280
// 4.2.1.13). Botan 2 decodes this extension but cannot encode it.
std::vector<uint8_t> encode_crl_distribution_point(const std::string& url) {
    std::vector<uint8_t> out;
    Botan::DER_Encoder(out)
        .start_cons(Botan::SEQUENCE)
        .start_cons(Botan::SEQUENCE)
        .start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC)  // distributionPoint
        .start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC)  // fullName
        .add_object(Botan::ASN1_Tag(6), Botan::CONTEXT_SPECIFIC, url)  // uniformResourceIdentifier
        .end_cons()
        .end_cons()
        .end_cons()
        .end_cons();
    return out;
}

}  // namespace

std::string signature_hash_for(const Botan::Private_Key& key) {
    const std::string algo = key.algo_name();
    if (algo == "Ed25519") return "Pure";
    if (algo == "ECDSA" && key.key_length() >= 384) return "SHA-384";
    return "SHA-256";
}

PrivateKey load_token_ca_key(const std::string& uri, const CaDirectory& dir) {
    try {
        return PrivateKey::from_token(uri, dir.token_options());
    } catch (const TokenError& e) {
        throw OperationError(e.what());
    }
}

PrivateKey make_token_ca_key(const std::string& uri, const CaDirectory& dir, KeyType type) {
    try {
        return PrivateKey::generate_in_token(uri, dir.token_options(), type);
    } catch (const TokenError& e) {
        throw OperationError(e.what());
    }
}

LoadedCa load_ca(const CaDirectory& dir, const std::string& passphrase) {
    auto cert = load_ca_certificate(dir);
    if (!dir.ca_key_override().empty() || file_exists(dir.ca_key_uri())) {
        const std::string uri = dir.ca_key_override().empty() ? trim(read_file(dir.ca_key_uri())) : dir.ca_key_override();
        if (!passphrase.empty())
            throw InputError("the CA key is in a token (" + uri + "): give its PIN with --pin-file, not a passphrase");
        auto key = load_token_ca_key(uri, dir);
        if (!cert.matches_key(key)) throw OperationError("the key " + uri + " in the token does not belong to " + dir.ca_cert());
        return {cert, key};
    }
    if (!file_exists(dir.ca_key()))
        throw InputError("the CA key " + dir.ca_key() + " is missing (if it is kept offline, bring it back to sign)");
    auto key = PrivateKey::load(dir.ca_key(), passphrase);
    if (!cert.matches_key(key)) throw InputError(dir.ca_key() + " does not belong to " + dir.ca_cert());
    return {cert, key};
}

Certificate load_ca_certificate(const CaDirectory& dir) {
    if (!file_exists(dir.ca_cert())) throw InputError("no CA in " + dir.dir() + " (run: pki init --dir " + dir.dir() + ")");
    return Certificate::load(dir.ca_cert());
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

Botan::Extensions ca_extensions(const std::vector<uint8_t>& public_key_info, const std::vector<uint8_t>& authority_key_id,
                                size_t path_len) {
    Botan::Extensions extensions;
    extensions.add(new ext::Basic_Constraints(true, path_len), true);
    extensions.add(new ext::Key_Usage(Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)), true);
    extensions.add(new ext::Subject_Key_ID(key_identifier(public_key_info)));
    extensions.add(new ext::Authority_Key_ID(authority_key_id));
    return extensions;
}

void add_crl_distribution_point(Botan::Extensions& extensions, const std::string& url) {
    if (url.empty()) return;
    extensions.add(new RawExtension(Botan::OID::from_string("X509v3.CRLDistributionPoints"),
                                    "X509v3.CRLDistributionPoints", encode_crl_distribution_point(url)));
}

void write_key_file(const std::string& path, const PrivateKey& key, const std::string& passphrase) {
    write_file_atomic(path, passphrase.empty() ? key.to_pem() : key.to_encrypted_pem(passphrase), 0600);
}

void check_ca_options(const CaInitOptions& options) {
    if (options.days < 1 || options.days > 36500) throw InputError("--days must be between 1 and 36500");
    if (options.common_name.empty()) throw InputError("--cn cannot be empty");
    const std::string& url = options.crl_url;
    if (!url.empty() && (!is_valid_uri(url) || !(starts_with(url, "http://") || starts_with(url, "https://"))))
        throw InputError("--crl-url must be an http:// or https:// URL, not '" + url + "'");
}

void require_no_ca(const CaDirectory& dir, bool force) {
    if (!force && (file_exists(dir.ca_cert()) || file_exists(dir.ca_key()) || file_exists(dir.ca_key_uri())))
        throw OperationError("a CA already exists in " + dir.dir() + " (use --force to replace it)");
}

void install_ca(const CaDirectory& dir, const PrivateKey& key, const Certificate& cert, const std::string& trust_anchor_pem,
                const std::string& issuer_fingerprint, const CaInitOptions& options) {
    Inventory inventory;
    auto entry = InventoryEntry::from_certificate(cert, "ca", "ca", issuer_fingerprint);
    entry.lifetime_days = options.days;
    entry.key_type = key_type_name(options.key_type);
    inventory.add(entry);
    inventory.set_crl_url(options.crl_url);
    if (options.force && file_exists(dir.inventory()))
        ::rename(dir.inventory().c_str(), (dir.inventory() + ".replaced").c_str());
    // A new CA starts a new log: the old one records what the replaced CA did, and stays beside it.
    if (file_exists(dir.issuance_log()))
        ::rename(dir.issuance_log().c_str(), (dir.issuance_log() + ".replaced").c_str());
    // Key first: a certificate whose key is missing is worse than a stray key. A key in a token
    // is recorded by its URI (no PIN in it), and no ca.key is written.
    if (key.token_uri().empty()) {
        write_key_file(dir.ca_key(), key, options.passphrase);
        ::unlink(dir.ca_key_uri().c_str());
    } else {
        write_file_atomic(dir.ca_key_uri(), key.token_uri() + "\n", 0644);
        ::unlink(dir.ca_key().c_str());
    }
    write_file_atomic(dir.ca_cert(), cert.pem(), 0644);
    write_file_atomic(dir.bundle(), trust_anchor_pem, 0644);
    inventory.save(dir.inventory());
    for (const auto& stale : {dir.previous_ca_cert(), dir.previous_ca_key(), dir.crl(), dir.crl_der(), dir.previous_crl_der()})
        ::unlink(stale.c_str());
}

SubjectAltNames checked_sans(LeafKind kind, const SubjectAltNames& requested) {
    SubjectAltNames sans = requested;
    for (const auto& dns : sans.dns)
        if (!is_valid_dns_name(dns, kind == LeafKind::server)) throw InputError("bad DNS name '" + dns + "'");
    for (auto& ip : sans.ips) {
        std::string canonical = canonical_ip(ip);
        if (canonical.empty()) throw InputError("bad IP address '" + ip + "'");
        ip = canonical;
    }
    for (const auto& uri : sans.uris)
        if (!is_valid_uri(uri)) throw InputError("bad URI '" + uri + "' (expected e.g. spiffe://demo/coordinator)");
    for (const auto& email : sans.emails)
        if (!is_valid_email(email)) throw InputError("bad e-mail address '" + email + "'");
    if (kind == LeafKind::server && sans.dns.empty() && sans.ips.empty()) {
        sans.dns = {"localhost"};
        sans.ips = {"127.0.0.1"};
    }
    if (kind == LeafKind::server && (!sans.uris.empty() || !sans.emails.empty()))
        throw InputError("server certificates take --dns and --ip names only");
    return sans;
}

// Backdated for clock skew, but never by more than a quarter of the lifetime: a two-minute
// certificate backdated five minutes would be past two thirds of its life, when its holder
// renews, the moment it arrives.
static std::chrono::seconds leaf_backdate(std::chrono::seconds lifetime) {
    return std::min<std::chrono::seconds>(kClockSkewBackdate, lifetime / 4);
}

void check_lifetime(std::chrono::seconds lifetime) {
    if (lifetime < std::chrono::minutes(1) || lifetime > std::chrono::hours(24 * 3650))
        throw InputError("a certificate's lifetime must be between 1 minute and 3650 days");
}

SignedLeaf sign_leaf(const LoadedCa& ca, const Inventory& inventory, const LeafProfile& profile,
                     const std::vector<uint8_t>& public_key_info) {
    std::vector<std::string> notes;
    const auto now = system_clock::now();
    auto not_after = now + profile.lifetime;
    if (not_after > ca.cert.not_after()) {
        not_after = ca.cert.not_after();
        notes.push_back("lifetime shortened to end with the CA certificate on " + format_rfc3339(not_after));
    }
    if (not_after <= now) throw OperationError("the CA certificate has expired; rotate the CA first");

    Botan::Extensions extensions;
    extensions.add(new ext::Basic_Constraints(false), true);
    extensions.add(new ext::Key_Usage(Botan::DIGITAL_SIGNATURE), true);
    extensions.add(new ext::Extended_Key_Usage({Botan::OID::from_string(
        profile.kind == LeafKind::server ? "PKIX.ServerAuth" : "PKIX.ClientAuth")}));
    if (!profile.sans.empty())
        extensions.add(new RawExtension(Botan::OID::from_string("X509v3.SubjectAlternativeName"),
                                        "X509v3.SubjectAlternativeName", encode_general_names(profile.sans)));
    extensions.add(new ext::Subject_Key_ID(key_identifier(public_key_info)));
    extensions.add(new ext::Authority_Key_ID(ca.cert.impl().cert.subject_key_id()));
    add_crl_distribution_point(extensions, inventory.crl_url());

    auto cert = sign(*ca.key.impl().key, ca.cert.impl().cert.subject_dn(), public_key_info,
                     make_dn(profile.name, false), extensions, now - leaf_backdate(profile.lifetime), not_after,
                     random_serial(inventory));
    require_names_within_constraints(cert, ca.cert);
    auto entry = InventoryEntry::from_certificate(cert, profile.name, leaf_kind_name(profile.kind),
                                                  ca.cert.fingerprint_sha256());
    entry.set_requested_lifetime(profile.lifetime);
    return {cert, entry, notes};
}

}  // namespace mcpmtls::pki
