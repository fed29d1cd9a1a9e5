#include "pki/key.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "pki/botan_access.hpp"

#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

namespace mcpmtls::pki {

KeyType parse_key_type(const std::string& name) {
    if (name == "ecdsa-p256") return KeyType::ecdsa_p256;
    if (name == "ecdsa-p384") return KeyType::ecdsa_p384;
    if (name == "ed25519") return KeyType::ed25519;
    if (name == "rsa-3072") return KeyType::rsa_3072;
    throw InputError("unknown key type '" + name + "' (expected ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072)");
}

std::string key_type_name(KeyType type) {
    switch (type) {
        case KeyType::ecdsa_p256: return "ecdsa-p256";
        case KeyType::ecdsa_p384: return "ecdsa-p384";
        case KeyType::ed25519: return "ed25519";
        case KeyType::rsa_3072: return "rsa-3072";
    }
    return "unknown";
}

PrivateKey PrivateKey::generate(KeyType type) {
    Botan::System_RNG rng;
    auto impl = std::make_shared<Impl>();
    switch (type) {
        case KeyType::ecdsa_p256:
            impl->key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
            break;
        case KeyType::ecdsa_p384:
            impl->key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp384r1"));
            break;
        case KeyType::ed25519:
            impl->key = std::make_unique<Botan::Ed25519_PrivateKey>(rng);
            break;
        case KeyType::rsa_3072:
            impl->key = std::make_unique<Botan::RSA_PrivateKey>(rng, 3072);
            break;
    }
    return PrivateKey(std::move(impl));
}

bool is_encrypted_key_pem(const std::string& pem) {
    return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos;
}

PrivateKey PrivateKey::from_pem(const std::string& pem, const std::string& passphrase, const std::string& source) {
    const bool encrypted = is_encrypted_key_pem(pem);
    if (encrypted && passphrase.empty())
        throw InputError(source + " is encrypted: set PKI_PASSPHRASE or use --passphrase-file");
    auto impl = std::make_shared<Impl>();
    try {
        Botan::DataSource_Memory data(pem);
        impl->key = encrypted ? Botan::PKCS8::load_key(data, passphrase) : Botan::PKCS8::load_key(data);
    } catch (const std::exception&) {
        // Botan cannot tell a wrong passphrase from a damaged file; PBES2 padding failures are
        // by far the common case for an intact PEM, so say that.
        if (encrypted) throw InputError("wrong passphrase for " + source + " (or the key is corrupt)");
        throw InputError(source + " is not a valid PKCS#8 private key (corrupt PEM?)");
    }
    if (!impl->key) throw InputError(source + " holds no private key");
    return PrivateKey(std::move(impl));
}

PrivateKey PrivateKey::load(const std::string& path, const std::string& passphrase) {
    return from_pem(read_file(path), passphrase, path);
}

std::string PrivateKey::to_pem() const { return Botan::PKCS8::PEM_encode(*impl_->key); }

std::string PrivateKey::to_encrypted_pem(const std::string& passphrase) const {
    Botan::System_RNG rng;
    return Botan::PKCS8::PEM_encode_encrypted_pbkdf_iter(*impl_->key, rng, passphrase, kPassphraseIterations,
                                                         "AES-256/CBC", "SHA-256");
}

std::vector<uint8_t> PrivateKey::public_key_info() const { return impl_->key->subject_public_key(); }

std::string PrivateKey::algorithm() const { return impl_->key->algo_name(); }

}  // namespace mcpmtls::pki
