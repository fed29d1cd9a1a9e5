#include "tls/spiffe_id.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

namespace mcpmtls::tls {
namespace {

constexpr char kScheme[] = "spiffe://";

bool trust_domain_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'; }
bool path_char(char c) { return trust_domain_char(c) || (c >= 'A' && c <= 'Z'); }

bool is_path(const std::string& path) {
    if (path.empty()) return true;
    if (path.front() != '/' || path == "/") return false;
    for (const auto& segment : split(path.substr(1), '/')) {
        if (segment.empty() || segment == "." || segment == "..") return false;
        for (char c : segment)
            if (!path_char(c)) return false;
    }
    return true;
}

}  // namespace

bool is_trust_domain_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!trust_domain_char(c)) return false;
    return true;
}

std::optional<SpiffeId> parse_spiffe_id(const std::string& uri) {
    if (!starts_with(uri, kScheme)) return std::nullopt;
    const std::string rest = uri.substr(sizeof kScheme - 1);
    const auto slash = rest.find('/');
    SpiffeId id{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash)};
    if (!is_trust_domain_name(id.trust_domain) || !is_path(id.path)) return std::nullopt;
    return id;
}

void check_identity_pattern(const std::string& pattern) {
    if (!starts_with(pattern, kScheme)) return;
    std::string id = pattern;
    // A wildcard stands for the rest of the ID: what precedes it must be an ID, or one ending in '/'.
    if (!id.empty() && id.back() == '*') {
        id.pop_back();
        if (!id.empty() && id.back() == '/') id.pop_back();
    }
    if (!parse_spiffe_id(id))
        throw InputError("'" + pattern + "' is not a SPIFFE ID (spiffe://TRUST-DOMAIN/PATH: a lower-case trust domain, "
                         "path segments of letters, digits, '.', '-', '_')");
}

std::string parse_trust_domain(const std::string& text) {
    const std::string name = starts_with(text, kScheme) ? text.substr(sizeof kScheme - 1) : text;
    if (!is_trust_domain_name(name))
        throw InputError("'" + text + "' is not a SPIFFE trust domain (lower-case letters, digits, '.', '-', '_')");
    return name;
}

}  // namespace mcpmtls::tls
