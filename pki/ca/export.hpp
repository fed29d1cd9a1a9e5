#pragma once
// A certificate exported for systems that do not read our PEM files: PKCS#12 for Java, browsers
// and Windows (the key encrypted under a passphrase), DER, and the whole chain in PEM. A key
// leaves the directory only inside the encrypted PKCS#12 file.
#include "pki/ca/ca_directory.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"

#include <string>
#include <vector>

namespace mcpmtls::pki {

struct ExportOptions {
    std::string name;
    std::string p12_path;    // the leaf, its chain and its key (0600)
    std::string der_path;    // the leaf certificate in DER
    std::string chain_path;  // PEM: the leaf, its intermediate if any, and the root
    std::string passphrase;  // encrypts the PKCS#12 file; required (not empty) with p12_path
};

// Writes what `options` asks for from DIR's NAME.crt, NAME.key and ca-bundle.crt, atomically,
// and returns the paths written. InputError for bad options, OperationError when NAME has no
// key here (signed from a CSR) and a PKCS#12 file is asked for. Nothing is left half-written.
std::vector<std::string> export_certificate(const CaDirectory& dir, const ExportOptions& options);

// PKCS#12 (RFC 7292) holding `key`, `chain` (leaf first) and the friendly name: both bags
// encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), integrity by an HMAC-SHA256 MAC.
std::string make_pkcs12(const PrivateKey& key, const std::vector<Certificate>& chain, const std::string& friendly_name,
                        const std::string& passphrase);

}  // namespace mcpmtls::pki
