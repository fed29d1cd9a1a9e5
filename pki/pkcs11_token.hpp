#pragma once
// A token (HSM, YubiKey, TPM through tpm2-pkcs11, SoftHSM2) reached through its module's own
// PKCS#11 C interface, named by an RFC 7512 URI: `pkcs11:token=mcp;object=weather`.
//
// One implementation for everything that touches a token: the servers and the client look a key
// up here before OpenSSL's engine loads it (tls/pkcs11_key), and the CA signs with a token key
// through here (pki/token_key). Each refusal (module, token, PIN, object) is one line naming what
// was wrong, since a module reports a bare CKR_ code and the engine several lines of its own.
//
// The PIN never comes from the command line: `--pin-file FILE`, or `pin-source` in the URI; a
// URI with `pin-value` is refused.
#include "common/error.hpp"
#include "common/options.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::pki {

struct Pkcs11Options {
    std::string module_path;  // empty: the URI's module-path, else default_pkcs11_module()
    std::string pin_file;     // empty: the URI's pin-source, else no PIN (a token without login)
};

// What a token refused (module, token, PIN, object). An InputError, as the servers and the
// client report it (exit 2); pki reports it as a failed operation (exit 1).
struct TokenError : InputError {
    using InputError::InputError;
};

bool is_pkcs11_uri(const std::string& key);

// --pkcs11-module and --pin-file, for every program whose key may be in a token.
std::vector<Option> pkcs11_option_rows();
// Those settings as given.
Pkcs11Options pkcs11_options_from(const Args& args);

// p11-kit's proxy module (every module the system registers with p11-kit), as the build found it.
std::string default_pkcs11_module();

// An RFC 7512 URI taken apart.
struct Pkcs11Uri {
    std::map<std::string, std::string> attributes;  // path and query attributes, decoded
    // The same URI without the PIN attributes (pin-source, pin-value), which we resolve
    // ourselves: what the engine is given, and what a CA directory records.
    std::string without_pin;
    std::string attribute(const std::string& name) const;
};

// Throws InputError for a URI it cannot read, one with pin-value, one naming no key
// (object= or id=) or a non-private object.
Pkcs11Uri parse_pkcs11_uri(const std::string& text);

// A PIN, overwritten when it is no longer needed.
struct SecretText {
    std::string text;
    SecretText() = default;
    explicit SecretText(std::string t) : text(std::move(t)) {}
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;
    ~SecretText();
};

// The PIN from --pin-file or the URI's pin-source (a path, or a file: URI); empty without either.
std::string read_pkcs11_pin(const Pkcs11Uri& uri, const Pkcs11Options& options);
// --pkcs11-module, else the URI's module-path, else default_pkcs11_module().
std::string pkcs11_module_for(const Pkcs11Uri& uri, const Pkcs11Options& options);

class Pkcs11Module;

// A session with one token, logged in when the token needs it: open while this object lives
// (the login is undone and the module finalized with the last session of the process).
// Operations are serialized: a PKCS#11 session is not for two threads at once.
class TokenSession {
public:
    using Handle = unsigned long;

    // The first token matching the URI's token attributes that holds the private key it names
    // (`existing_key`), or simply the first matching token (to make a key in). Throws TokenError:
    // missing module, no matching token, no PIN, wrong or locked PIN, no such private key.
    static std::shared_ptr<TokenSession> open(const Pkcs11Uri& uri, const Pkcs11Options& options, bool existing_key);
    ~TokenSession();
    TokenSession(const TokenSession&) = delete;
    TokenSession& operator=(const TokenSession&) = delete;

    const std::string& token_name() const { return token_name_; }  // "token 'mcp'"

    // The private key the URI names (object= label, id=), and the public key object beside it.
    std::optional<Handle> find_private_key(const Pkcs11Uri& uri);
    std::optional<Handle> find_public_key(const Pkcs11Uri& uri);
    // Whether any object of the token has this label.
    bool has_object_labelled(const std::string& label);

    // A value attribute (CKA_EC_PARAMS, CKA_EC_POINT, CKA_ID...) of an object.
    std::vector<uint8_t> attribute(Handle object, unsigned long type);
    bool flag(Handle object, unsigned long type);

    struct KeyPair {
        Handle public_key = 0;
        Handle private_key = 0;
    };
    // An EC key pair made in the token: the private half on the token, private, sensitive, not
    // extractable, for signing only.
    KeyPair generate_ec_key(const std::vector<uint8_t>& ec_params_der, const std::string& label, const std::vector<uint8_t>& id);

    // Removes an object from the token (a key pair made for nothing).
    void destroy(Handle object);

    // CKM_ECDSA over a digest: the raw signature r || s.
    std::vector<uint8_t> sign_ecdsa(Handle key, const std::vector<uint8_t>& digest);

private:
    TokenSession(std::shared_ptr<Pkcs11Module> module, unsigned long slot, bool read_write);
    void login(const std::string& pin);
    std::optional<Handle> find_key(unsigned long key_class, const Pkcs11Uri& uri);

    std::shared_ptr<Pkcs11Module> module_;
    unsigned long slot_ = 0;
    unsigned long handle_ = 0;
    bool counts_login_ = false;  // this session holds a count of its slot's login
    std::string token_name_;
    std::mutex mutex_;
};

}  // namespace mcpmtls::pki
