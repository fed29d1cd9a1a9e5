#include "pki/pkcs11_token.hpp"

#include "common/files.hpp"
#include "common/strings.hpp"

#include <botan/mem_ops.h>
#include <cstdio>
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#ifndef MCPMTLS_P11_KIT_PROXY
#define MCPMTLS_P11_KIT_PROXY "p11-kit-proxy.so"  // found by the dynamic loader's search path
#endif

namespace mcpmtls::pki {
namespace {

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
std::string masked(std::string uri) {
    for (auto at = uri.find("pin-value="); at != std::string::npos; at = uri.find("pin-value=", at + 1)) {
        const auto from = at + 10;
        const auto to = uri.find_first_of(";&", from);
        uri.replace(from, to == std::string::npos ? std::string::npos : to - from, "...");
    }
    return uri;
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

}  // namespace

// The module loaded and initialized through its own PKCS#11 interface. One per module path in a
// process, shared by its sessions: finalizing it would end every session. When another user in
// the process (OpenSSL's engine) initialized it first, it is left initialized.
class Pkcs11Module {
public:
    static std::shared_ptr<Pkcs11Module> open(const std::string& path) {
        static std::mutex opening;
        static std::map<std::string, std::weak_ptr<Pkcs11Module>> open_modules;
        std::lock_guard<std::mutex> lock(opening);
        if (auto existing = open_modules[path].lock()) return existing;
        std::shared_ptr<Pkcs11Module> module(new Pkcs11Module(path));
        open_modules[path] = module;
        return module;
    }
    ~Pkcs11Module() {
        if (initialized_here_) f_->C_Finalize(nullptr);
        if (handle_) ::dlclose(handle_);
    }
    Pkcs11Module(const Pkcs11Module&) = delete;
    Pkcs11Module& operator=(const Pkcs11Module&) = delete;
    CK_FUNCTION_LIST* operator->() const { return f_; }
    const std::string& path() const { return path_; }

    // A PKCS#11 login belongs to the process, not to a session: every session of the token shares
    // it, and a logout ends it for all. So it is counted per slot, and only the login we made
    // is undone, by the last session that counted on it.
    struct SlotLogin {
        int sessions = 0;
        bool ours = false;
    };
    std::mutex logins_mutex;
    std::map<CK_SLOT_ID, SlotLogin> logins;

private:
    explicit Pkcs11Module(const std::string& path) : path_(path) {
        // A bare file name is the dynamic loader's to find (p11-kit-proxy.so); a path must exist.
        if (path.find('/') != std::string::npos && !file_exists(path))
            throw TokenError("PKCS#11 module " + path + " does not exist (install the token's module, or name it with --pkcs11-module)");
        handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) throw TokenError("PKCS#11 module " + path + " cannot be loaded: " + ::dlerror());
        auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
        if (!get_list || get_list(&f_) != CKR_OK || !f_) {
            ::dlclose(handle_);
            throw TokenError(path + " is not a PKCS#11 module (no C_GetFunctionList)");
        }
        CK_C_INITIALIZE_ARGS args{};
        args.flags = CKF_OS_LOCKING_OK;
        const CK_RV rv = f_->C_Initialize(&args);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            ::dlclose(handle_);
            throw TokenError("PKCS#11 module " + path + " failed to initialize (" + rv_text(rv) + ")");
        }
        initialized_here_ = rv == CKR_OK;
    }

    std::string path_;
    void* handle_ = nullptr;
    CK_FUNCTION_LIST* f_ = nullptr;
    bool initialized_here_ = false;
};

bool is_pkcs11_uri(const std::string& key) { return starts_with(key, "pkcs11:"); }

std::vector<Option> pkcs11_option_rows() {
    return {Option::text("pkcs11-module", "PATH",
                         "PKCS#11 module for a key given as an RFC 7512 pkcs11: URI, a key in an HSM, YubiKey, TPM "
                         "or SoftHSM2 token (default: the URI's module-path, else p11-kit's proxy module, "
                         "p11-kit-proxy.so, which reaches every module p11-kit registers)")
                .configurable(),
            Option::text("pin-file", "FILE",
                         "the token's PIN for a pkcs11: key (or pin-source=FILE in its URI; a PIN on the command "
                         "line is refused)")
                .configurable()};
}

Pkcs11Options pkcs11_options_from(const Args& args) {
    Pkcs11Options options;
    options.module_path = args.text("pkcs11-module");
    options.pin_file = args.text("pin-file");
    return options;
}

std::string default_pkcs11_module() {
    const std::string built_with = MCPMTLS_P11_KIT_PROXY;
    return built_with.empty() ? "p11-kit-proxy.so" : built_with;
}

std::string Pkcs11Uri::attribute(const std::string& name) const {
    const auto it = attributes.find(name);
    return it == attributes.end() ? "" : it->second;
}

Pkcs11Uri parse_pkcs11_uri(const std::string& text) {
    Pkcs11Uri parsed;
    const std::string body = text.substr(7);  // after "pkcs11:"
    const std::string uri = masked(text);
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
    parsed.without_pin = "pkcs11:" + join(kept_path, ";") + (kept_query.empty() ? "" : "?" + join(kept_query, "&"));
    return parsed;
}

SecretText::~SecretText() { Botan::secure_scrub_memory(text.data(), text.size()); }

std::string read_pkcs11_pin(const Pkcs11Uri& uri, const Pkcs11Options& options) {
    std::string path = options.pin_file;
    if (auto source = uri.attributes.find("pin-source"); source != uri.attributes.end()) {
        if (!path.empty()) throw InputError("the PIN is given twice: --pin-file and pin-source in the key's URI");
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

std::string pkcs11_module_for(const Pkcs11Uri& uri, const Pkcs11Options& options) {
    if (!options.module_path.empty()) return options.module_path;
    const std::string in_uri = uri.attribute("module-path");
    return in_uri.empty() ? default_pkcs11_module() : in_uri;
}

TokenSession::TokenSession(std::shared_ptr<Pkcs11Module> module, unsigned long slot, bool read_write)
    : module_(std::move(module)), slot_(slot) {
    const CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
    const CK_RV rv = (*module_)->C_OpenSession(slot, flags, nullptr, nullptr, &handle_);
    if (rv != CKR_OK) throw TokenError("cannot open a session with the token (" + rv_text(rv) + ")");
}

TokenSession::~TokenSession() {
    if (counts_login_) {
        std::lock_guard<std::mutex> lock(module_->logins_mutex);
        auto& login = module_->logins[slot_];
        if (--login.sessions == 0 && login.ours) {
            (*module_)->C_Logout(handle_);
            login.ours = false;
        }
    }
    (*module_)->C_CloseSession(handle_);
}

// Logs in unless this process already is (another of our sessions, or the engine before a
// reload); see Pkcs11Module::SlotLogin for when it is undone.
void TokenSession::login(const std::string& pin) {
    std::lock_guard<std::mutex> lock(module_->logins_mutex);
    auto& state = module_->logins[slot_];
    if (state.sessions > 0) {
        ++state.sessions;
        counts_login_ = true;
        return;
    }
    std::vector<CK_UTF8CHAR> bytes(pin.begin(), pin.end());
    const CK_RV rv = (*module_)->C_Login(handle_, CKU_USER, bytes.empty() ? nullptr : bytes.data(), static_cast<CK_ULONG>(bytes.size()));
    Botan::secure_scrub_memory(bytes.data(), bytes.size());
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
        state.ours = rv == CKR_OK;
        ++state.sessions;
        counts_login_ = true;
        return;
    }
    if (rv == CKR_PIN_INCORRECT) throw TokenError("wrong PIN for " + token_name_);
    if (rv == CKR_PIN_LOCKED) throw TokenError("the PIN of " + token_name_ + " is locked (too many wrong PINs)");
    throw TokenError("cannot log in to " + token_name_ + " (" + rv_text(rv) + ")");
}

std::shared_ptr<TokenSession> TokenSession::open(const Pkcs11Uri& uri, const Pkcs11Options& options, bool existing_key) {
    const SecretText pin(read_pkcs11_pin(uri, options));
    const auto module = Pkcs11Module::open(pkcs11_module_for(uri, options));
    const std::string text = uri.without_pin;
    CK_ULONG count = 0;
    if ((*module)->C_GetSlotList(CK_TRUE, nullptr, &count) != CKR_OK) throw TokenError(module->path() + " cannot list its slots");
    std::vector<CK_SLOT_ID> slots(count);
    if (count > 0 && (*module)->C_GetSlotList(CK_TRUE, slots.data(), &count) != CKR_OK)
        throw TokenError(module->path() + " cannot list its slots");
    slots.resize(count);
    std::vector<std::string> seen;
    std::string missing_key_in;
    for (CK_SLOT_ID slot : slots) {
        CK_TOKEN_INFO info{};
        if ((*module)->C_GetTokenInfo(slot, &info) != CKR_OK || !(info.flags & CKF_TOKEN_INITIALIZED)) continue;
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
        std::shared_ptr<TokenSession> session(new TokenSession(module, slot, /*read_write=*/!existing_key));
        session->token_name_ = "token '" + fields.at("token") + "'";
        if (info.flags & CKF_LOGIN_REQUIRED) {
            // A token with its own PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH) asks its user itself.
            if (pin.text.empty() && !(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH))
                throw TokenError(session->token_name_ + " needs a PIN: give --pin-file FILE or pin-source=FILE in the key's URI");
            session->login(pin.text);
        }
        if (!existing_key || session->find_private_key(uri)) return session;
        if (missing_key_in.empty()) missing_key_in = session->token_name_;
    }
    if (!missing_key_in.empty()) throw TokenError("no private key " + text + " in " + missing_key_in);
    throw TokenError("no token matches " + text + " in " + module->path() +
                     (seen.empty() ? " (it has no initialized token)" : " (its tokens: " + join(seen, ", ") + ")"));
}

std::optional<TokenSession::Handle> TokenSession::find_key(unsigned long key_class, const Pkcs11Uri& uri) {
    std::lock_guard<std::mutex> lock(mutex_);
    CK_OBJECT_CLASS wanted_class = key_class;
    std::vector<CK_ATTRIBUTE> search = {{CKA_CLASS, &wanted_class, sizeof wanted_class}};
    std::string label = uri.attribute("object"), id = uri.attribute("id");
    if (uri.attributes.count("object")) search.push_back({CKA_LABEL, label.data(), label.size()});
    if (uri.attributes.count("id")) search.push_back({CKA_ID, id.data(), id.size()});
    if ((*module_)->C_FindObjectsInit(handle_, search.data(), static_cast<CK_ULONG>(search.size())) != CKR_OK) return std::nullopt;
    CK_OBJECT_HANDLE found = 0;
    CK_ULONG count = 0;
    const CK_RV rv = (*module_)->C_FindObjects(handle_, &found, 1, &count);
    (*module_)->C_FindObjectsFinal(handle_);
    if (rv != CKR_OK || count == 0) return std::nullopt;
    return found;
}

std::optional<TokenSession::Handle> TokenSession::find_private_key(const Pkcs11Uri& uri) { return find_key(CKO_PRIVATE_KEY, uri); }
std::optional<TokenSession::Handle> TokenSession::find_public_key(const Pkcs11Uri& uri) { return find_key(CKO_PUBLIC_KEY, uri); }

bool TokenSession::has_object_labelled(const std::string& label) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string value = label;
    CK_ATTRIBUTE search[] = {{CKA_LABEL, value.data(), value.size()}};
    if ((*module_)->C_FindObjectsInit(handle_, search, 1) != CKR_OK) throw TokenError("cannot search " + token_name_);
    CK_OBJECT_HANDLE found = 0;
    CK_ULONG count = 0;
    const CK_RV rv = (*module_)->C_FindObjects(handle_, &found, 1, &count);
    (*module_)->C_FindObjectsFinal(handle_);
    return rv == CKR_OK && count > 0;
}

std::vector<uint8_t> TokenSession::attribute(Handle object, unsigned long type) {
    std::lock_guard<std::mutex> lock(mutex_);
    CK_ATTRIBUTE query = {type, nullptr, 0};
    if ((*module_)->C_GetAttributeValue(handle_, object, &query, 1) != CKR_OK || query.ulValueLen == CK_UNAVAILABLE_INFORMATION)
        return {};
    std::vector<uint8_t> value(query.ulValueLen);
    query.pValue = value.data();
    if ((*module_)->C_GetAttributeValue(handle_, object, &query, 1) != CKR_OK) return {};
    value.resize(query.ulValueLen);
    return value;
}

bool TokenSession::flag(Handle object, unsigned long type) {
    const auto value = attribute(object, type);
    return value.size() == sizeof(CK_BBOOL) && value[0] == CK_TRUE;
}

TokenSession::KeyPair TokenSession::generate_ec_key(const std::vector<uint8_t>& ec_params_der, const std::string& label,
                                                    const std::vector<uint8_t>& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    CK_MECHANISM mechanism = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    std::vector<uint8_t> params = ec_params_der, key_id = id;
    std::string key_label = label;
    CK_ATTRIBUTE public_template[] = {
        {CKA_EC_PARAMS, params.data(), params.size()}, {CKA_TOKEN, &yes, sizeof yes},
        {CKA_VERIFY, &yes, sizeof yes},                {CKA_ENCRYPT, &no, sizeof no},
        {CKA_WRAP, &no, sizeof no},                    {CKA_LABEL, key_label.data(), key_label.size()},
        {CKA_ID, key_id.data(), key_id.size()},
    };
    CK_ATTRIBUTE private_template[] = {
        {CKA_TOKEN, &yes, sizeof yes},       {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},   {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_SIGN, &yes, sizeof yes},        {CKA_DECRYPT, &no, sizeof no},
        {CKA_UNWRAP, &no, sizeof no},
        {CKA_LABEL, key_label.data(), key_label.size()}, {CKA_ID, key_id.data(), key_id.size()},
    };
    KeyPair pair;
    const CK_RV rv = (*module_)->C_GenerateKeyPair(handle_, &mechanism, public_template, std::size(public_template), private_template,
                                                   std::size(private_template), &pair.public_key, &pair.private_key);
    if (rv != CKR_OK) throw TokenError(token_name_ + " cannot generate an EC key pair (" + rv_text(rv) + ")");
    return pair;
}

void TokenSession::destroy(Handle object) {
    std::lock_guard<std::mutex> lock(mutex_);
    const CK_RV rv = (*module_)->C_DestroyObject(handle_, object);
    if (rv != CKR_OK) throw TokenError(token_name_ + " cannot remove an object (" + rv_text(rv) + ")");
}

std::vector<uint8_t> TokenSession::sign_ecdsa(Handle key, const std::vector<uint8_t>& digest) {
    std::lock_guard<std::mutex> lock(mutex_);
    CK_MECHANISM mechanism = {CKM_ECDSA, nullptr, 0};
    CK_RV rv = (*module_)->C_SignInit(handle_, &mechanism, key);
    if (rv != CKR_OK) throw TokenError(token_name_ + " refuses to sign with the key (" + rv_text(rv) + ")");
    std::vector<uint8_t> input = digest, signature(512);
    CK_ULONG length = signature.size();
    rv = (*module_)->C_Sign(handle_, input.data(), input.size(), signature.data(), &length);
    if (rv != CKR_OK) throw TokenError(token_name_ + " failed to sign (" + rv_text(rv) + ")");
    signature.resize(length);
    return signature;
}

}  // namespace mcpmtls::pki
