#include "tls/pkcs11_key.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

#include <mutex>
#include <openssl/engine.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ui.h>
#include <vector>

namespace mcpmtls::tls {
namespace {

// An answer to any question the engine would ask on the terminal: none. A server has no
// terminal, and a missing PIN was refused before the engine was asked.
struct UiMethodDeleter { void operator()(UI_METHOD* p) const { UI_destroy_method(p); } };
UI_METHOD* no_prompt() {
    static const std::unique_ptr<UI_METHOD, UiMethodDeleter> method([] {
        UI_METHOD* m = UI_create_method("mcp-mtls: no PIN prompt");
        UI_method_set_reader(m, [](UI*, UI_STRING*) { return 0; });
        return m;
    }());
    return method.get();
}

std::string openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    char text[256] = "no reason given";
    if (code) ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
}

// The engine, set up for one module. Never released: the keys it made may sit in SSL_CTXs until
// the process ends, and finishing the engine would unload the module under them.
struct Engine {
    ENGINE* engine = nullptr;
    std::string module_path;
};

Engine& engine_for(const std::string& module_path) {
    static Engine* shared = new Engine;
    if (shared->engine) {
        if (shared->module_path != module_path)
            throw InputError("one PKCS#11 module per process: " + shared->module_path + " is in use, not " + module_path);
        return *shared;
    }
    // The structural reference is dropped on every way out; ENGINE_init's functional one is kept.
    struct EngineDeleter { void operator()(ENGINE* p) const { ENGINE_free(p); } };
    const std::unique_ptr<ENGINE, EngineDeleter> engine(ENGINE_by_id("pkcs11"));
    if (!engine) {
        ERR_clear_error();
        throw InputError("OpenSSL's pkcs11 engine is not installed (Debian: libengine-pkcs11-openssl)");
    }
    if (ENGINE_ctrl_cmd_string(engine.get(), "MODULE_PATH", module_path.c_str(), 0) != 1 || ENGINE_init(engine.get()) != 1)
        throw InputError("OpenSSL's pkcs11 engine cannot use " + module_path + ": " + openssl_error());
    shared->engine = engine.get();
    shared->module_path = module_path;
    return *shared;
}

}  // namespace

bool is_pkcs11_uri(const std::string& key) { return pki::is_pkcs11_uri(key); }

std::vector<Option> pkcs11_option_rows() { return pki::pkcs11_option_rows(); }

Pkcs11Options pkcs11_options_of(const Args& args, const std::string& key) {
    if (!is_pkcs11_uri(key))
        for (const char* name : {"pkcs11-module", "pin-file"})
            if (args.given(name)) throw InputError(std::string("--") + name + " is for a key in a token, but --key is the file " + key);
    return pki::pkcs11_options_from(args);
}

std::string default_pkcs11_module() { return pki::default_pkcs11_module(); }

EvpPkeyPtr load_pkcs11_key(const std::string& uri_text, const Pkcs11Options& options) {
    const pki::Pkcs11Uri uri = pki::parse_pkcs11_uri(uri_text);
    const pki::SecretText pin(pki::read_pkcs11_pin(uri, options));
    const std::string module_path = pki::pkcs11_module_for(uri, options);
    // One load at a time: the look-up and the engine share the module's initialization, and the
    // PIN is the engine's state between setting it and loading the key.
    static std::mutex loading;
    std::lock_guard<std::mutex> lock(loading);
    // Looked up (and the session closed) before the engine initializes the module itself.
    pki::TokenSession::open(uri, options, /*existing_key=*/true);
    Engine& engine = engine_for(module_path);
    if (!pin.text.empty() && ENGINE_ctrl_cmd_string(engine.engine, "PIN", pin.text.c_str(), 0) != 1)
        throw InputError("OpenSSL's pkcs11 engine does not take the PIN: " + openssl_error());
    EvpPkeyPtr key(ENGINE_load_private_key(engine.engine, uri.without_pin.c_str(), no_prompt(), nullptr));
    if (!key) throw InputError("OpenSSL's pkcs11 engine cannot load " + uri.without_pin + ": " + openssl_error());
    ERR_clear_error();
    return key;
}

bool signs_for(EVP_PKEY* key, X509* certificate) { return !signing_failure(key, certificate); }

std::optional<std::string> signing_failure(EVP_PKEY* key, X509* certificate) {
    EVP_PKEY* public_key = X509_get0_pubkey(certificate);
    if (!public_key) {
        ERR_clear_error();
        return "the certificate has no public key";
    }
    static const unsigned char challenge[] = "mcp-mtls: does the token hold this certificate's key?";
    struct MdCtxDeleter { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> sign(EVP_MD_CTX_new()), verify(EVP_MD_CTX_new());
    // Ed25519 signs the message itself (no digest); every other key type signs a SHA-256.
    const EVP_MD* digest = EVP_PKEY_id(public_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    std::vector<unsigned char> signature(static_cast<size_t>(EVP_PKEY_size(key)) + 16);
    size_t length = signature.size();
    if (!sign || !verify) return "out of memory";
    if (EVP_DigestSignInit(sign.get(), nullptr, digest, nullptr, key) != 1 ||
        EVP_DigestSign(sign.get(), signature.data(), &length, challenge, sizeof challenge) != 1)
        return "the key does not sign: " + openssl_error();
    const bool verified = EVP_DigestVerifyInit(verify.get(), nullptr, digest, nullptr, public_key) == 1 &&
                          EVP_DigestVerify(verify.get(), signature.data(), length, challenge, sizeof challenge) == 1;
    ERR_clear_error();
    if (!verified) return "the key's signature does not verify with the certificate's public key";
    return std::nullopt;
}

}  // namespace mcpmtls::tls
