#pragma once
// Loading a certificate chain and its key for OpenSSL, checked before anything uses them, and
// describing peers for logs.
#include "common/error.hpp"
#include "pki/certificate.hpp"
#include "pki/verify/verifier.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/peer_identity.hpp"
#include "tls/pkcs11_key.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::tls {

// A leaf, its chain and its private key, as OpenSSL objects and as pki::Certificates.
struct KeyPair {
    X509Ptr leaf;
    X509StackPtr chain;  // certificates after the leaf in the file (may be empty)
    EvpPkeyPtr key;
    std::vector<pki::Certificate> certificates;  // leaf first
};

// The key does not belong to the certificate: while an engine rewrites the pair in place
// (spiffe-helper writes the certificate, then the key) this is a state to wait out, not an error.
struct KeyMismatch : InputError {
    using InputError::InputError;
};

// Throws InputError: unreadable, no certificate, key does not match (KeyMismatch), certificate
// expired. A key_path of pkcs11:... names a key in a token (tls/pkcs11_key.hpp), found with
// `pkcs11`.
KeyPair load_key_pair(const std::string& cert_path, const std::string& key_path, const Pkcs11Options& pkcs11 = {});

// DER of every certificate OpenSSL received from the peer, leaf first.
std::vector<pki::Certificate> peer_chain(X509* leaf, STACK_OF(X509)* presented);

PeerIdentity identity_of(const pki::Certificate& leaf);

// Fields of a handshake verdict event: peer, subject, SANs, serial, fingerprint.
nlohmann::json describe_peer(const PeerIdentity& identity, const std::string& peer_address);
std::string peer_address_of(const SSL* ssl);

}  // namespace mcpmtls::tls
