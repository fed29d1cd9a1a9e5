#pragma once
// Private to pki/: what every command that signs shares (the CA loaded from its directory,
// serials, key identifiers, the leaf profile), so that issue, sign, rotate, renew and
// init --intermediate make certificates the same way and no command grows its own variant.
#include "pki/ca/authority.hpp"

#include <botan/bigint.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509_dn.h>

#include <chrono>
#include <string>
#include <vector>

namespace mcpmtls::pki {

// Clocks of peers drift; a certificate must not be "not yet valid" on a machine a little behind.
constexpr auto kClockSkewBackdate = std::chrono::minutes(5);

struct LoadedCa {
    Certificate cert;
    PrivateKey key;
};

// DIR's ca.crt and ca.key (decrypted with `passphrase` when encrypted). InputError when missing,
// unreadable or not a pair.
LoadedCa load_ca(const CaDirectory& dir, const std::string& passphrase);
// The CA key in a token that `uri` names (load) or a new one made there (make), reached with
// DIR's token_options(). What the token refuses is an OperationError (pki's exit 1).
PrivateKey load_token_ca_key(const std::string& uri, const CaDirectory& dir);
PrivateKey make_token_ca_key(const std::string& uri, const CaDirectory& dir, KeyType type);
// The CA certificate only, for what needs no key (name constraints, an intermediate's root).
Certificate load_ca_certificate(const CaDirectory& dir);

// The hash a CA key signs certificates and CRLs with ("Pure" for Ed25519).
std::string signature_hash_for(const Botan::Private_Key& key);
Botan::BigInt random_serial(const Inventory& inventory);
std::vector<uint8_t> key_identifier(const std::vector<uint8_t>& public_key_info);
Botan::X509_DN make_dn(const std::string& common_name, bool with_organization);
Certificate sign(const Botan::Private_Key& signer, const Botan::X509_DN& issuer_dn,
                 const std::vector<uint8_t>& subject_public_key, const Botan::X509_DN& subject_dn,
                 const Botan::Extensions& extensions, std::chrono::system_clock::time_point not_before,
                 std::chrono::system_clock::time_point not_after, const Botan::BigInt& serial);
// A CA certificate (basicConstraints cA with `path_len`, keyCertSign and cRLSign, key
// identifiers): extensions that make_root and init --intermediate add to.
Botan::Extensions ca_extensions(const std::vector<uint8_t>& public_key_info, const std::vector<uint8_t>& authority_key_id,
                                size_t path_len);
// The CRL distribution point (RFC 5280 4.2.1.13) of certificates signed in a directory whose
// inventory names one (pki init --crl-url); nothing when `url` is empty.
void add_crl_distribution_point(Botan::Extensions& extensions, const std::string& url);

void write_key_file(const std::string& path, const PrivateKey& key, const std::string& passphrase);

// --days, --cn, --crl-url of pki init (root or intermediate). InputError otherwise.
void check_ca_options(const CaInitOptions& options);
// OperationError when DIR holds a CA and `force` is not given.
void require_no_ca(const CaDirectory& dir, bool force);
// Makes `cert`/`key` DIR's CA: ca.key (encrypted with options.passphrase), ca.crt,
// ca-bundle.crt holding `trust_anchor_pem`, and a fresh inventory with the CA's entry and the CRL
// URL; what belonged to a replaced CA (previous CA, CRL) goes. The caller holds DIR's lock.
void install_ca(const CaDirectory& dir, const PrivateKey& key, const Certificate& cert, const std::string& trust_anchor_pem,
                const std::string& issuer_fingerprint, const CaInitOptions& options);

// Validates the names of a leaf (InputError) and gives a server without names the defaults.
SubjectAltNames checked_sans(LeafKind kind, const SubjectAltNames& sans);
// --days N or --ttl D: at least a minute, at most ten years. InputError otherwise.
void check_lifetime(std::chrono::seconds lifetime);

struct LeafProfile {
    LeafKind kind = LeafKind::client;
    std::string name;              // the subject's CN and the inventory name
    SubjectAltNames sans;          // as checked_sans() returns them
    std::chrono::seconds lifetime{0};
};

struct SignedLeaf {
    Certificate certificate;
    InventoryEntry entry;            // key_type and from_csr are the caller's to set
    std::vector<std::string> notes;  // e.g. "lifetime shortened to end with the CA certificate"
};

// Signs `public_key_info` (DER SubjectPublicKeyInfo) as a leaf of our profile for its kind, with
// the directory's CRL distribution point. Refuses (OperationError, naming the constraint) names
// outside the CA's name constraints. Writes nothing; the caller holds the directory lock.
SignedLeaf sign_leaf(const LoadedCa& ca, const Inventory& inventory, const LeafProfile& profile,
                     const std::vector<uint8_t>& public_key_info);

// A new certificate for the current NAME (rotate, renew): a new key, or for a leaf signed from a
// CSR the same public key again. Writes NAME.crt (and NAME.key), a rotation bundle, the CRL when
// the old one is revoked, and saves the inventory. The caller holds the lock. `log_event` is
// what issuance.log calls it: "rotate" (pki rotate) or "renew" (pki renew).
RotationResult rotate_locked(const CaDirectory& dir, const LoadedCa& ca, Inventory& inventory, const std::string& name,
                             bool revoke_old, const std::string& ca_passphrase, const std::string& log_event = "rotate");

// An RFC 5280 reason name as pki revoke takes it; InputError listing them otherwise.
std::string crl_reason_name_checked(const std::string& reason);

// Writes ca.crl (and ca.crl.der when it exists or `der`) from the inventory, bumping its CRL
// number; the caller holds the lock and saves the inventory afterwards.
void write_crl_locked(const CaDirectory& dir, Inventory& inventory, std::chrono::seconds validity,
                      const std::string& passphrase, bool der = false);

}  // namespace mcpmtls::pki
