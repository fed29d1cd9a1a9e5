#include "pki/names.hpp"

#include "common/error.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <string_view>

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
    if (name == "ca" || name == "ca-bundle" || name == "ca-previous" || name == "index" ||
        name == "provisioner")
        throw InputError("'" + name + "' is reserved for the CA's own files");
}

DnsNameRules host_name_rules(bool allow_wildcard) {
    DnsNameRules rules;
    rules.wildcard = allow_wildcard;
    rules.root_dot = true;
    rules.wildcard_in_length = false;
    return rules;
}

DnsNameRules certificate_dns_rules() {
    DnsNameRules rules;
    rules.wildcard = true;
    rules.underscore = true;
    rules.edge_hyphens = true;
    rules.all_numeric = true;
    return rules;
}

bool is_valid_dns_name(const std::string& input, const DnsNameRules& rules) {
    std::string_view name(input);
    if (rules.root_dot && !name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string_view labels = name;
    if (rules.wildcard && name.substr(0, 2) == "*.") labels.remove_prefix(2);
    const size_t length = rules.wildcard_in_length ? name.size() : labels.size();
    if (labels.empty() || length > 253) return false;
    size_t label_start = 0;
    bool digits_only = true;
    for (size_t i = 0; i <= labels.size(); ++i) {
        if (i == labels.size() || labels[i] == '.') {
            const size_t len = i - label_start;
            if (len == 0 || len > 63) return false;
            if (!rules.edge_hyphens && (labels[label_start] == '-' || labels[i - 1] == '-')) return false;
            label_start = i + 1;
            continue;
        }
        const unsigned char c = static_cast<unsigned char>(labels[i]);
        if (!std::isalnum(c) && c != '-' && !(rules.underscore && c == '_')) return false;
        if (!std::isdigit(c)) digits_only = false;
    }
    return rules.all_numeric || !digits_only;
}

bool is_valid_dns_name(const std::string& name, bool allow_wildcard) {
    return is_valid_dns_name(name, host_name_rules(allow_wildcard));
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
