#pragma once
// A PKCS#10 certificate signing request, checked before anything is signed from it: hosts that
// generate their own keys send one to `pki sign`. Only the public key is taken from it; the
// names it asks for are reported, and the profile (EKU, key usage, lifetime) is ours.
#include "pki/certificate.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::pki {

class CertificateRequest {
public:
    // A PEM "CERTIFICATE REQUEST" or DER. Throws InputError naming `source` when it is not a CSR
    // (another PEM, garbage), its self-signature does not verify, or its key is one the verifier
    // would refuse (RSA below 2048 bits, curves other than P-256/P-384/P-521, other algorithms).
    static CertificateRequest parse(const std::string& data, const std::string& source);
    static CertificateRequest load(const std::string& path);

    std::vector<uint8_t> public_key_info() const;  // DER SubjectPublicKeyInfo
    std::string public_key_algorithm() const;      // "ECDSA P-256", "RSA 3072", "Ed25519"
    std::string subject() const;
    SubjectAltNames requested_names() const;       // from its extensionRequest, if any
    // extendedKeyUsage in its extensionRequest ("serverAuth", "clientAuth", dotted OIDs); empty
    // when it asks for none. The profile decides; a request for another purpose is refused.
    std::vector<std::string> requested_extended_key_usages() const;

    struct Impl;

private:
    explicit CertificateRequest(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

}  // namespace mcpmtls::pki
