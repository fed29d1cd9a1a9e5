#include "pki/names.hpp"

#include "common/error.hpp"

#include <arpa/inet.h>
#include <cctype>

namespace mcpmtls::pki {

void validate_certificate_name(const std::string& name) {
    if (name.empty()) throw InputError("a certificate name cannot be empty");
    if (name.size() > 64) throw InputError("certificate name '" + name + "' is longer than 64 characters");
    if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
        throw InputError("certificate name '" + name + "' must not contain a path separator");
    if (!std::isalnum(static_cast<unsigned char>(name[0])))
        throw InputError("certificate name '" + name + "' must start with a letter or digit");
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            throw InputError("certificate name '" + name + "' may only contain letters, digits, '.', '_' and '-'");
    if (name == "ca" || name == "ca-bundle" || name == "index")
        throw InputError("'" + name + "' is reserved for the CA's own files");
}

bool is_valid_dns_name(const std::string& input, bool allow_wildcard) {
    std::string name = input;
    if (allow_wildcard && name.rfind("*.", 0) == 0) name = name.substr(2);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (name.empty() || name.size() > 253) return false;
    size_t label_start = 0;
    bool all_numeric = true;
    for (size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '.') {
            size_t len = i - label_start;
            if (len == 0 || len > 63) return false;
            if (name[label_start] == '-' || name[i - 1] == '-') return false;
            label_start = i + 1;
            continue;
        }
        unsigned char c = static_cast<unsigned char>(name[i]);
        if (!std::isalnum(c) && c != '-') return false;
        if (!std::isdigit(c)) all_numeric = false;
    }
    return !all_numeric;  // "127.0.0.1" is an IP, not a host name
}

std::string canonical_ip(const std::string& input) {
    std::string text = input;
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN] = {};
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
    return "";
}

bool is_ip_address(const std::string& text) { return !canonical_ip(text).empty(); }

bool is_valid_uri(const std::string& uri) {
    auto colon = uri.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == uri.size()) return false;
    if (!std::isalpha(static_cast<unsigned char>(uri[0]))) return false;
    for (size_t i = 0; i < colon; ++i) {
        unsigned char c = static_cast<unsigned char>(uri[i]);
        if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
    }
    for (unsigned char c : uri)
        if (c <= 0x20 || c == 0x7f) return false;
    return true;
}

bool is_valid_email(const std::string& email) {
    auto at = email.find('@');
    if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) return false;
    for (unsigned char c : email.substr(0, at))
        if (c <= 0x20 || c >= 0x7f) return false;
    return is_valid_dns_name(email.substr(at + 1), false);
}

}  // namespace mcpmtls::pki
