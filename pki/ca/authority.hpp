#pragma once
// The certificate authority kept in a directory (default certs/): ca.crt, ca.key,
// ca-bundle.crt, ca.crl, NAME.crt, NAME.key and the inventory index.json (ca_directory.hpp).
// The directory's CA is a self-signed root (pki init) or an intermediate signed by the root of
// another directory (pki init --intermediate), which can then be kept offline.
#include "pki/ca/ca_directory.hpp"
#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/ca/inventory.hpp"
#include "pki/key.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::pki {

struct CaInitOptions {
    std::string common_name = "mcp-mtls root CA";
    KeyType key_type = KeyType::ecdsa_p256;
    long days = 3650;
    bool force = false;
    std::string passphrase;  // empty: the key is stored unencrypted (0600)
    // basicConstraints pathLenConstraint: how many intermediates may follow. 0 (the default) for
    // a root that signs leaves only; 1 for one that signs an intermediate.
    size_t path_len = 0;
    std::string crl_url;     // CRL distribution point of everything signed in this directory
    // A CA key in a token (pkcs11: URIs, reached with the directory's token_options()): made
    // there (`key_in`), or an existing key object (`key_uri`). DIR then records the URI in
    // ca.key.uri and holds no ca.key.
    std::string key_in;
    std::string key_uri;
};

// Creates a self-signed root CA. Throws OperationError when a CA exists and !force.
Certificate init_ca(const CaDirectory& dir, const CaInitOptions& options);

// What an intermediate may sign (RFC 5280 4.2.1.10 permitted subtrees), as typed:
// DNS suffixes ("example.com" covers it and its subdomains, ".example.com" only subdomains), URI
// hosts ("prod.example", e.g. a SPIFFE trust domain) and IP ranges in CIDR form ("10.0.0.0/8").
struct PermittedNames {
    std::vector<std::string> dns;
    std::vector<std::string> uri_hosts;
    std::vector<std::string> ip_ranges;
    bool empty() const { return dns.empty() && uri_hosts.empty() && ip_ranges.empty(); }
};

struct IntermediateInitOptions {
    CaInitOptions ca;             // the intermediate itself; ca.path_len is its own pathLen
    std::string root_dir;         // the directory of the root that signs it
    std::string root_passphrase;  // for an encrypted ROOTDIR/ca.key
    PermittedNames permitted;     // empty: no name constraints
};

struct IntermediateCa {
    Certificate certificate;
    Certificate root;
    std::string root_inventory_name;  // how ROOTDIR's inventory calls it (for pki revoke there)
    std::vector<std::string> notes;
};

// Creates DIR's CA as an intermediate signed by ROOTDIR's root CA: DIR/ca.crt is the
// intermediate, DIR/ca-bundle.crt the root (the trust anchor peers need), and ROOTDIR's inventory
// records it. Afterwards nothing in DIR needs ROOTDIR's key. InputError for bad options,
// OperationError when the root cannot sign a CA (its pathLen) or DIR holds a CA and !force.
IntermediateCa init_intermediate_ca(const CaDirectory& dir, const IntermediateInitOptions& options);

enum class LeafKind { server, client };
std::string leaf_kind_name(LeafKind kind);

// A new leaf, as pki issue and pki sign take it.
struct LeafRequest {
    LeafKind kind = LeafKind::client;
    std::string name;
    SubjectAltNames sans;  // the only source of names; server: localhost + 127.0.0.1 when empty
    std::chrono::seconds lifetime = std::chrono::hours(24 * 90);  // --days or --ttl
    std::string ca_passphrase;
};

struct IssueOptions : LeafRequest {
    KeyType key_type = KeyType::ecdsa_p256;
};

struct IssuedCertificate {
    Certificate certificate;
    InventoryEntry entry;
    std::vector<std::string> notes;  // e.g. "lifetime shortened to the CA's notAfter"
};

// Issues NAME.crt/NAME.key under the directory lock. Throws OperationError if NAME exists or a
// name lies outside the CA's name constraints.
IssuedCertificate issue_certificate(const CaDirectory& dir, const IssueOptions& options);

struct SignedRequest {
    IssuedCertificate issued;
    // Names the request asked for that the options did not give: reported, never signed.
    SubjectAltNames names_not_granted;
};

// Signs a checked CSR (csr.hpp) with the profile of `options.kind`: writes NAME.crt (leaf and
// CA) and an inventory entry marked from_csr; there is no key to write. Same refusals as issue.
SignedRequest sign_certificate_request(const CaDirectory& dir, const CertificateRequest& request,
                                       const LeafRequest& options);

// Revocation: marks the certificate revoked and rewrites ca.crl. `reason` is an RFC 5280 name
// (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
// cessationOfOperation, certificateHold, privilegeWithdrawn). Returns the revoked entry.
InventoryEntry revoke_certificate(const CaDirectory& dir, const std::string& name_or_empty,
                                  const std::string& serial_or_empty, const std::string& reason,
                                  const std::string& ca_passphrase);

// Writes ca.crl for every CA key still held (one CRL per CA, concatenated PEM). The DER form,
// which HTTP servers publish, holds one CRL per file: ca.crl.der (and ca-previous.crl.der
// during a CA rotation) is written with `der`, and rewritten with every CRL once it exists.
void write_crl(const CaDirectory& dir, std::chrono::seconds validity, const std::string& ca_passphrase,
               bool der = false);

struct RotationResult {
    InventoryEntry old_entry;
    InventoryEntry new_entry;
    std::string bundle_dir;  // rotation/NAME-<UTC timestamp>/
    bool old_revoked = false;
};

// A new key and certificate for the same identity (SANs, kind, lifetime), written over
// NAME.crt/NAME.key, plus a rotation bundle with a manifest. With revoke_old, the previous
// certificate is revoked (reason superseded) once the new one is in place. A leaf signed from a
// CSR keeps its holder's public key (there is no key here to replace): only NAME.crt changes.
RotationResult rotate_certificate(const CaDirectory& dir, const std::string& name, bool revoke_old,
                                  const std::string& ca_passphrase);

// Valid leaves (server and client, not revoked) whose notAfter falls before now + window, the
// already expired included, in inventory order.
std::vector<InventoryEntry> leaves_expiring_within(const CaDirectory& dir, std::chrono::seconds window);

struct RenewalOutcome {
    InventoryEntry old_entry;
    std::optional<RotationResult> rotation;  // empty when it failed
    std::string error;                       // why, when it failed
};

// pki renew: rotates every leaf of leaves_expiring_within() as rotate_certificate does, under
// one lock. When the CA cannot be loaded (an encrypted key without its passphrase) every
// outcome carries that error and nothing is written.
std::vector<RenewalOutcome> renew_certificates(const CaDirectory& dir, std::chrono::seconds window,
                                               const std::string& ca_passphrase);

struct CaRotationResult {
    Certificate new_ca;
    Certificate old_ca;
    std::vector<InventoryEntry> still_on_old_ca;  // --finish refused because of these
};

// Starts a CA rotation: new CA key and certificate become ca.crt/ca.key, the old ones are kept
// as ca-previous.* (to sign CRLs), ca-bundle.crt trusts both. Throws OperationError if a
// rotation is already in progress, or if DIR's CA is an intermediate (its root signs a new one in
// another directory).
CaRotationResult start_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase);
// Ends it: drops the old CA from the bundle and deletes its key, but only when no unexpired,
// unrevoked certificate in the inventory was issued by it (else OperationError listing them).
CaRotationResult finish_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase);

// The passphrase from PKI_PASSPHRASE or a --passphrase-file (first line); empty if neither.
std::string passphrase_from(const std::string& passphrase_file);
// The same with another environment variable (PKI_ROOT_PASSPHRASE, PKI_EXPORT_PASSPHRASE).
std::string passphrase_from(const std::string& passphrase_file, const char* environment_variable);

}  // namespace mcpmtls::pki
