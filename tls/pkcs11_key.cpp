#include "tls/pkcs11_key.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"

#include <dlfcn.h>
#include <map>
#include <mutex>
#include <openssl/engine.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ui.h>
#include <p11-kit/pkcs11.h>
#include <vector>

#ifndef MCPMTLS_P11_KIT_PROXY
#define MCPMTLS_P11_KIT_PROXY "p11-kit-proxy.so"  // found by the dynamic loader's search path
#endif

namespace mcpmtls::tls {
namespace {

// An RFC 7512 URI taken apart: attributes decoded, and the text the engine is given (the same
// URI without the PIN attributes, which we resolve ourselves).
struct Pkcs11Uri {
    std::map<std::string, std::string> attributes;  // path and query attributes, decoded
    std::string engine_text;
};

std::string percent_decode(const std::string& text, const std::string& uri) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
            throw InputError("--key " + uri + ": a '%' not followed by two hex digits");
        out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
        i += 2;
    }
    return out;
}

// The URI as an error may show it: a pin-value's PIN replaced, since errors reach logs.
std::string without_pin(std::string uri) {
    for (auto at = uri.find("pin-value="); at != std::string::npos; at = uri.find("pin-value=", at + 1)) {
        const auto from = at + 10;
        const auto to = uri.find_first_of(";&", from);
        uri.replace(from, to == std::string::npos ? std::string::npos : to - from, "...");
    }
    return uri;
}

Pkcs11Uri parse_uri(const std::string& text) {
    Pkcs11Uri parsed;
    const std::string body = text.substr(7);  // after "pkcs11:"
    const std::string uri = without_pin(text);
    const auto question = body.find('?');
    std::vector<std::string> kept_path, kept_query;
    auto take = [&](const std::string& part, std::vector<std::string>& kept) {
        if (part.empty()) return;
        const auto eq = part.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("--key " + uri + ": '" + part + "' is not NAME=VALUE");
        const std::string name = part.substr(0, eq);
        if (parsed.attributes.count(name)) throw InputError("--key " + uri + ": " + name + " is given twice");
        parsed.attributes[name] = percent_decode(part.substr(eq + 1), uri);
        if (name != "pin-source" && name != "pin-value") kept.push_back(part);
    };
    for (const auto& part : split(body.substr(0, question), ';')) take(part, kept_path);
    if (question != std::string::npos)
        for (const auto& part : split(body.substr(question + 1), '&')) take(part, kept_query);
    if (parsed.attributes.count("pin-value"))
        throw InputError("--key " + uri + ": a PIN in the URI (pin-value) is refused; give --pin-file FILE or pin-source=FILE");
    if (parsed.attributes.count("type") && parsed.attributes["type"] != "private")
        throw InputError("--key " + uri + ": names a " + parsed.attributes["type"] + " object; a key is type=private");
    if (!parsed.attributes.count("object") && !parsed.attributes.count("id"))
        throw InputError("--key " + uri + ": name the key with object=LABEL or id=%XX...");
    parsed.engine_text = "pkcs11:" + join(kept_path, ";") + (kept_query.empty() ? "" : "?" + join(kept_query, "&"));
    return parsed;
}

// A PIN, overwritten when it is no longer needed (the engine keeps its own copy, to log in again).
struct WipedOnExit {
    std::string text;
    ~WipedOnExit() { OPENSSL_cleanse(text.data(), text.size()); }
};

// The PIN from --pin-file or the URI's pin-source (a path, or a file: URI); empty without either.
std::string read_pin(const Pkcs11Uri& uri, const Pkcs11Options& options) {
    std::string path = options.pin_file;
    if (auto source = uri.attributes.find("pin-source"); source != uri.attributes.end()) {
        if (!path.empty()) throw InputError("the PIN is given twice: --pin-file and pin-source in the --key URI");
        path = source->second;
        if (starts_with(path, "file://")) path = path.substr(7);
        else if (starts_with(path, "file:")) path = path.substr(5);
        if (!path.empty() && path[0] == '|')
            throw InputError("pin-source " + source->second + ": only a file is supported, not a command");
    }
    if (path.empty()) return "";
    if (!file_exists(path)) throw InputError("PIN file " + path + " does not exist");
    std::string pin = read_file(path);
    while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
    if (pin.empty()) throw InputError("PIN file " + path + " is empty");
    return pin;
}

std::string padded_field(const unsigned char* field, size_t size) {
    std::string text(reinterpret_cast<const char*>(field), size);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
    return text;
}

std::string rv_text(CK_RV rv) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "CKR 0x%lx", static_cast<unsigned long>(rv));
    return hex;
}

// The module loaded and initialized through its own PKCS#11 interface, for looking the key up.
// When the engine already initialized it in this process (a reload), C_Initialize says so and
// the module is left initialized: finalizing it would end the engine's sessions.
class Module {
public:
    explicit Module(const std::string& path) : path_(path) {
        if (!file_exists(path))
            throw InputError("PKCS#11 module " + path + " does not exist (install the token's module, or name it with --pkcs11-module)");
        handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) throw InputError("PKCS#11 module " + path + " cannot be loaded: " + ::dlerror());
        auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
        if (!get_list || get_list(&f_) != CKR_OK || !f_) throw InputError(path + " is not a PKCS#11 module (no C_GetFunctionList)");
        CK_C_INITIALIZE_ARGS args{};
        args.flags = CKF_OS_LOCKING_OK;
        const CK_RV rv = f_->C_Initialize(&args);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
            throw InputError("PKCS#11 module " + path + " failed to initialize (" + rv_text(rv) + ")");
        initialized_here_ = rv == CKR_OK;
    }
    ~Module() {
        if (initialized_here_) f_->C_Finalize(nullptr);
        if (handle_) ::dlclose(handle_);
    }
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    CK_FUNCTION_LIST* operator->() const { return f_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    void* handle_ = nullptr;
    CK_FUNCTION_LIST* f_ = nullptr;
    bool initialized_here_ = false;
};

class Session {
public:
    Session(const Module& module, CK_SLOT_ID slot) : module_(module) {
        const CK_RV rv = module_->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &handle_);
        if (rv != CKR_OK) throw InputError("cannot open a session with the token (" + rv_text(rv) + ")");
    }
    ~Session() {
        if (logged_in_) module_->C_Logout(handle_);
        module_->C_CloseSession(handle_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Logs in unless this process already is (the engine, before a reload); only our own login
    // is undone, since a PKCS#11 login is shared by every session of the process.
    CK_RV login(const std::string& pin) {
        std::vector<CK_UTF8CHAR> bytes(pin.begin(), pin.end());
        const CK_RV rv = module_->C_Login(handle_, CKU_USER, bytes.empty() ? nullptr : bytes.data(), static_cast<CK_ULONG>(bytes.size()));
        OPENSSL_cleanse(bytes.data(), bytes.size());
        logged_in_ = rv == CKR_OK;
        return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
    }

    bool has_private_key(const std::map<std::string, std::string>& attributes) {
        CK_OBJECT_CLASS key_class = CKO_PRIVATE_KEY;
        std::vector<CK_ATTRIBUTE> search = {{CKA_CLASS, &key_class, sizeof key_class}};
        std::string label, id;
        if (auto it = attributes.find("object"); it != attributes.end()) {
            label = it->second;
            search.push_back({CKA_LABEL, label.data(), label.size()});
        }
        if (auto it = attributes.find("id"); it != attributes.end()) {
            id = it->second;
            search.push_back({CKA_ID, id.data(), id.size()});
        }
        if (module_->C_FindObjectsInit(handle_, search.data(), static_cast<CK_ULONG>(search.size())) != CKR_OK) return false;
        CK_OBJECT_HANDLE found = 0;
        CK_ULONG count = 0;
        const CK_RV rv = module_->C_FindObjects(handle_, &found, 1, &count);
        module_->C_FindObjectsFinal(handle_);
        return rv == CKR_OK && count > 0;
    }

private:
    const Module& module_;
    CK_SESSION_HANDLE handle_ = 0;
    bool logged_in_ = false;
};

// What the URI names, looked up the way the engine will: the first token matching its token
// attributes that holds such a private key. Throws InputError saying which part was not found.
void look_up(const Module& module, const Pkcs11Uri& uri, const std::string& text, const std::string& pin) {
    CK_ULONG count = 0;
    if (module->C_GetSlotList(CK_TRUE, nullptr, &count) != CKR_OK) throw InputError(module.path() + " cannot list its slots");
    std::vector<CK_SLOT_ID> slots(count);
    if (count > 0 && module->C_GetSlotList(CK_TRUE, slots.data(), &count) != CKR_OK)
        throw InputError(module.path() + " cannot list its slots");
    slots.resize(count);
    std::vector<std::string> seen;
    std::string missing_key_in;
    for (CK_SLOT_ID slot : slots) {
        CK_TOKEN_INFO info{};
        if (module->C_GetTokenInfo(slot, &info) != CKR_OK || !(info.flags & CKF_TOKEN_INITIALIZED)) continue;
        const std::map<std::string, std::string> fields = {
            {"token", padded_field(info.label, sizeof info.label)},
            {"manufacturer", padded_field(info.manufacturerID, sizeof info.manufacturerID)},
            {"model", padded_field(info.model, sizeof info.model)},
            {"serial", padded_field(info.serialNumber, sizeof info.serialNumber)}};
        seen.push_back("'" + fields.at("token") + "'");
        bool matches = true;
        for (const auto& [name, value] : fields)
            if (auto wanted = uri.attributes.find(name); wanted != uri.attributes.end() && wanted->second != value) matches = false;
        if (!matches) continue;
        const std::string token = "token '" + fields.at("token") + "'";
        Session session(module, slot);
        if (info.flags & CKF_LOGIN_REQUIRED) {
            // A token with its own PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH) asks its user itself.
            if (pin.empty() && !(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH))
                throw InputError(token + " needs a PIN: give --pin-file FILE or pin-source=FILE in the --key URI");
            const CK_RV rv = session.login(pin);
            if (rv == CKR_PIN_INCORRECT) throw InputError("wrong PIN for " + token);
            if (rv == CKR_PIN_LOCKED) throw InputError("the PIN of " + token + " is locked (too many wrong PINs)");
            if (rv != CKR_OK) throw InputError("cannot log in to " + token + " (" + rv_text(rv) + ")");
        }
        if (session.has_private_key(uri.attributes)) return;
        if (missing_key_in.empty()) missing_key_in = token;
    }
    if (!missing_key_in.empty()) throw InputError("no private key " + text + " in " + missing_key_in);
    throw InputError("no token matches " + text + " in " + module.path() +
                     (seen.empty() ? " (it has no initialized token)" : " (its tokens: " + join(seen, ", ") + ")"));
}

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

bool is_pkcs11_uri(const std::string& key) { return starts_with(key, "pkcs11:"); }

std::vector<Option> pkcs11_option_rows() {
    return {Option::text("pkcs11-module", "PATH",
                         "PKCS#11 module for a --key given as an RFC 7512 pkcs11: URI, a key in an HSM, YubiKey, TPM "
                         "or SoftHSM2 token (default: p11-kit's proxy module, p11-kit-proxy.so, which reaches every "
                         "module p11-kit registers)")
                .configurable(),
            Option::text("pin-file", "FILE",
                         "the token's PIN for a pkcs11: --key (or pin-source=FILE in its URI; a PIN on the command "
                         "line is refused)")
                .configurable()};
}

Pkcs11Options pkcs11_options_of(const Args& args, const std::string& key) {
    Pkcs11Options options;
    options.module_path = args.text("pkcs11-module");
    options.pin_file = args.text("pin-file");
    if (!is_pkcs11_uri(key))
        for (const char* name : {"pkcs11-module", "pin-file"})
            if (args.given(name)) throw InputError(std::string("--") + name + " is for a key in a token, but --key is the file " + key);
    return options;
}

std::string default_pkcs11_module() {
    const std::string built_with = MCPMTLS_P11_KIT_PROXY;
    return built_with.empty() ? "p11-kit-proxy.so" : built_with;
}

EvpPkeyPtr load_pkcs11_key(const std::string& uri_text, const Pkcs11Options& options) {
    const Pkcs11Uri uri = parse_uri(uri_text);
    const WipedOnExit pin{read_pin(uri, options)};
    const std::string module_path = options.module_path.empty() ? default_pkcs11_module() : options.module_path;
    // One load at a time: the look-up and the engine share the module's initialization, and the
    // PIN is the engine's state between setting it and loading the key.
    static std::mutex loading;
    std::lock_guard<std::mutex> lock(loading);
    {
        const Module module(module_path);
        look_up(module, uri, uri.engine_text, pin.text);
    }
    Engine& engine = engine_for(module_path);
    if (!pin.text.empty() && ENGINE_ctrl_cmd_string(engine.engine, "PIN", pin.text.c_str(), 0) != 1)
        throw InputError("OpenSSL's pkcs11 engine does not take the PIN: " + openssl_error());
    EvpPkeyPtr key(ENGINE_load_private_key(engine.engine, uri.engine_text.c_str(), no_prompt(), nullptr));
    if (!key) throw InputError("OpenSSL's pkcs11 engine cannot load " + uri.engine_text + ": " + openssl_error());
    ERR_clear_error();
    return key;
}

bool signs_for(EVP_PKEY* key, X509* certificate) {
    EVP_PKEY* public_key = X509_get0_pubkey(certificate);
    if (!public_key) return false;
    static const unsigned char challenge[] = "mcp-mtls: does the token hold this certificate's key?";
    struct MdCtxDeleter { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> sign(EVP_MD_CTX_new()), verify(EVP_MD_CTX_new());
    // Ed25519 signs the message itself (no digest); every other key type signs a SHA-256.
    const EVP_MD* digest = EVP_PKEY_id(public_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    std::vector<unsigned char> signature(static_cast<size_t>(EVP_PKEY_size(key)) + 16);
    size_t length = signature.size();
    const bool ok = sign && verify && EVP_DigestSignInit(sign.get(), nullptr, digest, nullptr, key) == 1 &&
                    EVP_DigestSign(sign.get(), signature.data(), &length, challenge, sizeof challenge) == 1 &&
                    EVP_DigestVerifyInit(verify.get(), nullptr, digest, nullptr, public_key) == 1 &&
                    EVP_DigestVerify(verify.get(), signature.data(), length, challenge, sizeof challenge) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace mcpmtls::tls
