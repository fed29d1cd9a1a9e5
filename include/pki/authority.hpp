#pragma once
// The certificate authority kept in a directory (default certs/): ca.crt, ca.key,
// ca-bundle.crt, ca.crl, NAME.crt, NAME.key and the inventory index.json (ca_directory.hpp).
#include "pki/ca_directory.hpp"
#include "pki/certificate.hpp"
#include "pki/inventory.hpp"
#include "pki/key.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace mcpmtls::pki {

struct CaInitOptions {
    std::string common_name = "mcp-mtls root CA";
    KeyType key_type = KeyType::ecdsa_p256;
    long days = 3650;
    bool force = false;
    std::string passphrase;  // empty: the key is stored unencrypted (0600)
};

// Creates a self-signed root CA. Throws OperationError when a CA exists and !force.
Certificate init_ca(const CaDirectory& dir, const CaInitOptions& options);

enum class LeafKind { server, client };
std::string leaf_kind_name(LeafKind kind);

struct IssueOptions {
    LeafKind kind = LeafKind::client;
    std::string name;
    SubjectAltNames sans;  // server: defaults to localhost + 127.0.0.1 when empty
    long days = 90;
    KeyType key_type = KeyType::ecdsa_p256;
    std::string ca_passphrase;
};

struct IssuedCertificate {
    Certificate certificate;
    InventoryEntry entry;
    std::vector<std::string> notes;  // e.g. "lifetime shortened to the CA's notAfter"
};

// Issues NAME.crt/NAME.key under the directory lock. Throws OperationError if NAME exists.
IssuedCertificate issue_certificate(const CaDirectory& dir, const IssueOptions& options);

// Revocation: marks the certificate revoked and rewrites ca.crl. `reason` is an RFC 5280 name
// (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
// cessationOfOperation, certificateHold, privilegeWithdrawn). Returns the revoked entry.
InventoryEntry revoke_certificate(const CaDirectory& dir, const std::string& name_or_empty,
                                  const std::string& serial_or_empty, const std::string& reason,
                                  const std::string& ca_passphrase);

// Writes ca.crl for every CA key still held (one CRL per CA, concatenated PEM).
void write_crl(const CaDirectory& dir, std::chrono::seconds validity, const std::string& ca_passphrase);

struct RotationResult {
    InventoryEntry old_entry;
    InventoryEntry new_entry;
    std::string bundle_dir;  // rotation/NAME-<UTC timestamp>/
    bool old_revoked = false;
};

// A new key and certificate for the same identity (SANs, kind, lifetime), written over
// NAME.crt/NAME.key, plus a rotation bundle with a manifest. With revoke_old, the previous
// certificate is revoked (reason superseded) once the new one is in place.
RotationResult rotate_certificate(const CaDirectory& dir, const std::string& name, bool revoke_old,
                                  const std::string& ca_passphrase);

struct CaRotationResult {
    Certificate new_ca;
    Certificate old_ca;
    std::vector<InventoryEntry> still_on_old_ca;  // --finish refused because of these
};

// Starts a CA rotation: new CA key and certificate become ca.crt/ca.key, the old ones are kept
// as ca-previous.* (to sign CRLs), ca-bundle.crt trusts both. Throws OperationError if a
// rotation is already in progress.
CaRotationResult start_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase);
// Ends it: drops the old CA from the bundle and deletes its key, but only when no unexpired,
// unrevoked certificate in the inventory was issued by it (else OperationError listing them).
CaRotationResult finish_ca_rotation(const CaDirectory& dir, const std::string& ca_passphrase);

// The passphrase from PKI_PASSPHRASE or a --passphrase-file (first line); empty if neither.
std::string passphrase_from(const std::string& passphrase_file);

}  // namespace mcpmtls::pki
