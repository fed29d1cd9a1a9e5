// A Botan private key whose signatures the token makes (Debian's Botan 2.19 is built without its
// own PKCS#11 module): an ECDSA public key, plus a signature operation that hashes here and asks
// the token for CKM_ECDSA over the digest. PKCS#11 returns r || s, the two message parts that
// Botan's PK_Signer DER-encodes for X.509, so X509_CA, CRLs and PKCS#10 requests sign with it
// unchanged.
#include "common/error.hpp"
#include "pki/botan_access.hpp"
#include "pki/key.hpp"
#include "pki/pkcs11_token.hpp"

#include <botan/ber_dec.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pk_ops.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <optional>
#include <p11-kit/pkcs11.h>

namespace mcpmtls::pki {
namespace {

// "EMSA1(SHA-256)" -> "SHA-256": the hash inside Botan's padding name for ECDSA.
std::string hash_of_padding(const std::string& padding) {
    const auto open = padding.find('('), close = padding.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return padding;
    return padding.substr(open + 1, close - open - 1);
}

class TokenSignature final : public Botan::PK_Ops::Signature {
public:
    TokenSignature(std::shared_ptr<TokenSession> session, TokenSession::Handle key, const std::string& hash, size_t part_size)
        : session_(std::move(session)), key_(key), hash_(Botan::HashFunction::create_or_throw(hash)), part_size_(part_size) {}

    void update(const uint8_t message[], size_t length) override { hash_->update(message, length); }

    Botan::secure_vector<uint8_t> sign(Botan::RandomNumberGenerator&) override {
        const auto signature = session_->sign_ecdsa(key_, hash_->final_stdvec());
        if (signature.size() != 2 * part_size_)
            throw OperationError(session_->token_name() + " returned an ECDSA signature of " + std::to_string(signature.size()) +
                                 " bytes, not " + std::to_string(2 * part_size_));
        return Botan::secure_vector<uint8_t>(signature.begin(), signature.end());
    }

    size_t signature_length() const override { return 2 * part_size_; }

private:
    std::shared_ptr<TokenSession> session_;
    TokenSession::Handle key_;
    std::unique_ptr<Botan::HashFunction> hash_;
    size_t part_size_;
};

class TokenEcdsaKey final : public Botan::ECDSA_PublicKey, public virtual Botan::Private_Key {
public:
    TokenEcdsaKey(const Botan::EC_Group& group, const Botan::PointGFp& point, std::shared_ptr<TokenSession> session,
                  TokenSession::Handle key, std::string uri)
        : Botan::EC_PublicKey(group, point),
          Botan::ECDSA_PublicKey(group, point),
          session_(std::move(session)),
          key_(key),
          uri_(std::move(uri)) {}

    Botan::secure_vector<uint8_t> private_key_bits() const override {
        throw OperationError("the key stays in the token: " + uri_ + " cannot be written to a file");
    }

    std::unique_ptr<Botan::PK_Ops::Signature> create_signature_op(Botan::RandomNumberGenerator&, const std::string& params,
                                                                  const std::string& provider) const override {
        if (!provider.empty() && provider != "base") throw Botan::Provider_Not_Found(algo_name(), provider);
        return std::make_unique<TokenSignature>(session_, key_, hash_of_padding(params), domain().get_order_bytes());
    }

    const std::string& uri() const { return uri_; }
    // The objects made for this key by generate_in_token, which discard() removes.
    void made_here(TokenSession::Handle public_key) { made_public_ = public_key; }
    void discard() const {
        if (!made_public_) return;
        session_->destroy(key_);
        session_->destroy(*made_public_);
    }

private:
    std::shared_ptr<TokenSession> session_;
    TokenSession::Handle key_;
    std::string uri_;
    std::optional<TokenSession::Handle> made_public_;
};

// The public half of a token's EC key from its public key object: CKA_EC_PARAMS names the curve,
// CKA_EC_POINT is the point, DER-wrapped in an OCTET STRING (PKCS#11 2.40; a few modules give it bare).
std::unique_ptr<TokenEcdsaKey> key_from_objects(const std::shared_ptr<TokenSession>& session, TokenSession::Handle private_key,
                                                TokenSession::Handle public_key, const std::string& uri) {
    const auto params = session->attribute(public_key, CKA_EC_PARAMS);
    auto point = session->attribute(public_key, CKA_EC_POINT);
    if (params.empty() || point.empty())
        throw TokenError(uri + " in " + session->token_name() + " is not an EC key (only ECDSA keys sign for the CA here)");
    try {
        const Botan::EC_Group group(params);
        if (!point.empty() && point[0] == 0x04 && point.size() != 1 + 2 * group.get_p_bytes()) {
            std::vector<uint8_t> bare;
            Botan::BER_Decoder(point).decode(bare, Botan::OCTET_STRING).verify_end();
            point = bare;
        }
        return std::make_unique<TokenEcdsaKey>(group, group.OS2ECP(point), session, private_key, uri);
    } catch (const Botan::Exception& e) {
        throw TokenError(uri + " in " + session->token_name() + ": its public key cannot be read (" + e.what() + ")");
    }
}

// One signature, checked with the public key object: the private key the URI names is its pair.
void require_pair(const TokenEcdsaKey& key, const std::string& uri) {
    Botan::System_RNG rng;
    static const std::string challenge = "mcp-mtls: does the token hold this key pair?";
    Botan::PK_Signer signer(key, rng, "EMSA1(SHA-256)");
    const auto signature = signer.sign_message(reinterpret_cast<const uint8_t*>(challenge.data()), challenge.size(), rng);
    Botan::PK_Verifier verifier(key, "EMSA1(SHA-256)");
    if (!verifier.verify_message(reinterpret_cast<const uint8_t*>(challenge.data()), challenge.size(), signature.data(),
                                 signature.size()))
        throw TokenError("the private and public key objects of " + uri + " are not one key pair");
}

}  // namespace

PrivateKey PrivateKey::from_token(const std::string& uri_text, const Pkcs11Options& options) {
    const auto uri = parse_pkcs11_uri(uri_text);
    const auto session = TokenSession::open(uri, options, /*existing_key=*/true);
    const auto private_key = session->find_private_key(uri);
    const auto public_key = session->find_public_key(uri);
    if (!private_key) throw TokenError("no private key " + uri.without_pin + " in " + session->token_name());
    if (!public_key) throw TokenError("no public key object beside " + uri.without_pin + " in " + session->token_name());
    auto key = key_from_objects(session, *private_key, *public_key, uri.without_pin);
    require_pair(*key, uri.without_pin);
    auto impl = std::make_shared<Impl>();
    impl->key = std::move(key);
    return PrivateKey(std::move(impl));
}

PrivateKey PrivateKey::generate_in_token(const std::string& uri_text, const Pkcs11Options& options, KeyType type) {
    if (type != KeyType::ecdsa_p256 && type != KeyType::ecdsa_p384)
        throw InputError("a key made in a token is ecdsa-p256 or ecdsa-p384, not " + key_type_name(type));
    const auto uri = parse_pkcs11_uri(uri_text);
    const std::string label = uri.attribute("object");
    if (label.empty()) throw InputError(uri.without_pin + ": name the new key with object=LABEL");
    const auto session = TokenSession::open(uri, options, /*existing_key=*/false);
    if (session->has_object_labelled(label))
        throw TokenError(session->token_name() + " already holds an object labelled '" + label +
                         "' (choose another object=, or name the existing key with --key)");
    const std::string given_id = uri.attribute("id");
    std::vector<uint8_t> id(given_id.begin(), given_id.end());
    if (id.empty()) {
        // A fresh CKA_ID: what tools such as pkcs11-tool and OpenSSL's engine pair objects by.
        id.resize(16);
        Botan::System_RNG().randomize(id.data(), id.size());
    }
    const Botan::EC_Group group(type == KeyType::ecdsa_p256 ? "secp256r1" : "secp384r1");
    const auto pair = session->generate_ec_key(group.DER_encode(Botan::EC_DOMPAR_ENC_OID), label, id);
    auto key = key_from_objects(session, pair.private_key, pair.public_key, uri.without_pin);
    key->made_here(pair.public_key);
    auto impl = std::make_shared<Impl>();
    impl->key = std::move(key);
    return PrivateKey(std::move(impl));
}

void PrivateKey::discard_from_token() const noexcept {
    try {
        if (const auto* key = dynamic_cast<const TokenEcdsaKey*>(impl_->key.get())) key->discard();
    } catch (const std::exception&) {
        // The key stays in the token: the caller is already reporting why it was not used.
    }
}

std::string PrivateKey::token_uri() const {
    const auto* key = dynamic_cast<const TokenEcdsaKey*>(impl_->key.get());
    return key ? key->uri() : "";
}

}  // namespace mcpmtls::pki
