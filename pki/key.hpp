#pragma once
// Private keys. Botan stays behind this header (a move to Botan 3 touches pki/ and tls/ only).
#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::pki {

struct Pkcs11Options;

enum class KeyType { ecdsa_p256, ecdsa_p384, ed25519, rsa_3072 };

// PBKDF2-HMAC-SHA256 iterations for everything pki encrypts under a passphrase (CA keys,
// PKCS#12 files): the OWASP figure; such files are opened rarely.
constexpr int kPassphraseIterations = 310000;

// "ecdsa-p256" | "ecdsa-p384" | "ed25519" | "rsa-3072"; throws InputError otherwise.
KeyType parse_key_type(const std::string& name);
std::string key_type_name(KeyType type);

class PrivateKey {
public:
    static PrivateKey generate(KeyType type);
    // PKCS#8 PEM, encrypted (PBES2) or not. `source` names the file in error messages.
    // Throws InputError: "corrupt", "is encrypted: set PKI_PASSPHRASE...", "wrong passphrase".
    static PrivateKey from_pem(const std::string& pem, const std::string& passphrase, const std::string& source);
    static PrivateKey load(const std::string& path, const std::string& passphrase);
    // The EC key in a token that `uri` (RFC 7512) names: its signatures are made by the token
    // (pki/token_key.cpp), so certificates, CRLs and CSRs sign with it unchanged, and it is never
    // written out (to_pem throws OperationError). Checked by one signature against its public
    // key object. Throws TokenError (pki/pkcs11_token.hpp) for the module, token, PIN or object.
    static PrivateKey from_token(const std::string& uri, const Pkcs11Options& options);
    // A new key pair made in the token: labelled with the URI's object=, private, sensitive, not
    // extractable, for signing. ecdsa-p256 or ecdsa-p384 (InputError otherwise); TokenError when
    // the token already holds an object with that label.
    static PrivateKey generate_in_token(const std::string& uri, const Pkcs11Options& options, KeyType type);
    // The URI (without PIN attributes) of a key in a token; empty for a key in memory.
    std::string token_uri() const;
    // Removes a key that generate_in_token made, when what it was made for failed (a refused
    // enrollment leaves nothing in the token). Nothing for any other key; never throws.
    void discard_from_token() const noexcept;

    std::string to_pem() const;
    // PKCS#8 PBES2 (PBKDF2-SHA256, AES-256-CBC), readable by `openssl pkey -passin`.
    std::string to_encrypted_pem(const std::string& passphrase) const;
    // DER SubjectPublicKeyInfo of the matching public key.
    std::vector<uint8_t> public_key_info() const;
    std::string algorithm() const;  // "ECDSA", "Ed25519", "RSA"

    struct Impl;
    const Impl& impl() const { return *impl_; }

private:
    explicit PrivateKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

bool is_encrypted_key_pem(const std::string& pem);

}  // namespace mcpmtls::pki
