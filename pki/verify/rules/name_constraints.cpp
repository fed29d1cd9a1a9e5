// Name constraints, RFC 5280 4.2.1.10 and 6.1.3 (b)-(c) (docs/verification-policy.md, "Name
// constraints"): whether every name of every certificate below a CA lies within the subtrees the
// CA permits and outside those it excludes. This replaces Botan 2's check, which refuses IPv6
// constraints and mishandles directory names; it compares DNS names, IP addresses, e-mail
// addresses, URIs and directory names, refuses forms it cannot compare when constrained, and
// bounds the work a hostile chain can cause.
#include "pki/der.hpp"
#include "pki/verify/rule_support.hpp"
#include "pki/names.hpp"

#include "common/strings.hpp"

#include <cstdio>

namespace mcpmtls::pki::rules {
namespace {

using der::GeneralName;

bool dns_within(std::string name, std::string base) {
    name = to_lower(name);
    base = to_lower(base);
    if (base.empty()) return true;
    if (base.front() == '.') return name.size() > base.size() && ends_with(name, base);
    if (name == base) return true;
    return name.size() > base.size() && ends_with(name, base) && name[name.size() - base.size() - 1] == '.';
}

// A DNS constraint names a subtree ("example.com", or ".example.com" for names below it), never
// a wildcard; otherwise it is judged like a dNSName in a certificate.
bool valid_dns_constraint(const std::string& base) {
    if (base.empty()) return true;
    DnsNameRules rules = certificate_dns_rules();
    rules.wildcard = false;
    return is_valid_dns_name(base.front() == '.' ? base.substr(1) : base, rules);
}

// An address and a mask whose one bits are contiguous from the top (RFC 5280 4.2.1.10).
bool valid_ip_constraint(const std::vector<uint8_t>& v) {
    if (v.size() != 8 && v.size() != 32) return false;
    const size_t half = v.size() / 2;
    bool zeros = false;
    for (size_t i = half; i < v.size(); ++i)
        for (int bit = 7; bit >= 0; --bit) {
            const bool one = (v[i] >> bit) & 1;
            if (one && zeros) return false;
            if (!one) zeros = true;
        }
    return true;
}

bool ip_within(const std::vector<uint8_t>& address, const std::vector<uint8_t>& base) {
    if (base.size() != address.size() * 2) return false;
    for (size_t i = 0; i < address.size(); ++i)
        if ((address[i] & base[address.size() + i]) != (base[i] & base[address.size() + i])) return false;
    return true;
}

bool email_within(const std::string& address, const std::string& base) {
    const auto at = address.rfind('@');
    if (at == std::string::npos) return false;
    const std::string host = to_lower(address.substr(at + 1));
    if (base.find('@') != std::string::npos) {
        const auto base_at = base.rfind('@');
        return address.substr(0, at) == base.substr(0, base_at) && host == to_lower(base.substr(base_at + 1));
    }
    if (!base.empty() && base.front() == '.') return dns_within(host, base);
    return host == to_lower(base);
}

// The host of an absolute URI ("scheme://[userinfo@]host[:port]..."), lower-cased; empty if none.
std::string uri_host(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    if (scheme_end == std::string::npos) return "";
    std::string rest = uri.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest.front() == '[') return to_lower(rest.substr(0, rest.find(']') + 1));
    return to_lower(rest.substr(0, rest.find(':')));
}

bool uri_within(const std::string& uri, const std::string& base) {
    const std::string host = uri_host(uri);
    if (host.empty()) return false;
    if (!base.empty() && base.front() == '.') return dns_within(host, base);
    return host == to_lower(base);
}

bool within(const GeneralName& name, const GeneralName& base, bool for_exclusion) {
    switch (name.type) {
        case GeneralName::dns:
            if (dns_within(name.text, base.text)) return true;
            // A wildcard name excluded in part is excluded: *.example.com covers a.example.com.
            if (for_exclusion && starts_with(name.text, "*.")) {
                std::string b = base.text;
                if (!b.empty() && b.front() == '.') b = b.substr(1);
                return dns_within(b, name.text.substr(2));
            }
            return false;
        case GeneralName::ip: return ip_within(name.value, base.value);
        case GeneralName::rfc822: return email_within(name.text, base.text);
        case GeneralName::uri: return uri_within(name.text, base.text);
        case GeneralName::directory: return der::name_within(der::parse_name(name.value), der::parse_name(base.value));
        default: return name.value == base.value;
    }
}

std::string describe_name(const GeneralName& name) {
    switch (name.type) {
        case GeneralName::dns: return "DNS name '" + name.text + "'";
        case GeneralName::rfc822: return "email '" + name.text + "'";
        case GeneralName::uri: return "URI '" + name.text + "'";
        case GeneralName::ip: {
            char buf[64] = {};
            std::string out;
            if (name.value.size() == 4) {
                snprintf(buf, sizeof buf, "%u.%u.%u.%u", name.value[0], name.value[1], name.value[2], name.value[3]);
                out = buf;
            } else {
                for (size_t i = 0; i < name.value.size(); i += 2) {
                    snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (name.value[i] << 8) | name.value[i + 1]);
                    out += buf;
                }
            }
            return "IP " + out;
        }
        case GeneralName::directory: return "directory name";
        default: return "name of form " + std::to_string(static_cast<int>(name.type));
    }
}

// The names a certificate is judged by under name constraints: its SANs, its subject (as a
// directoryName, when not empty) and the emailAddress attributes of its subject.
std::vector<GeneralName> constrained_names(const Botan::X509_Certificate& cert, const Extensions& extensions) {
    std::vector<GeneralName> names;
    if (const Extension* san = find(extensions, oid::kSubjectAltName)) names = der::parse_general_names(san->value);
    const std::vector<uint8_t> subject = cert.raw_subject_dn();
    if (!der::parse_name(subject).empty()) {
        GeneralName dn;
        dn.type = GeneralName::directory;
        dn.value = subject;
        names.push_back(dn);
        for (const auto& email : der::email_attributes(subject)) {
            GeneralName e;
            e.type = GeneralName::rfc822;
            e.text = email;
            names.push_back(e);
        }
    }
    return names;
}

constexpr size_t kMaxNameConstraintComparisons = size_t(1) << 20;

bool supported_form(GeneralName::Type t) {
    return t == GeneralName::dns || t == GeneralName::ip || t == GeneralName::rfc822 || t == GeneralName::uri ||
           t == GeneralName::directory;
}

}  // namespace

void check_name_constraints(const Path& path, size_t first_ca, std::vector<VerifyFailure>& failures) {
    for (size_t j = first_ca + 1; j-- > 1;) {
        const auto& ca = *path[j];
        const auto ca_ext = extensions_of(ca);
        const Extension* raw = find(ca_ext, oid::kNameConstraints);
        if (!raw) continue;
        der::NameConstraints nc;
        try {
            nc = der::parse_name_constraints(raw->value);
        } catch (const der::Malformed&) {
            failures.push_back({CheckFailure::name_constraints, "name constraints violated: malformed nameConstraints" + label(ca)});
            continue;
        }
        bool valid = true;
        for (const auto* list : {&nc.permitted, &nc.excluded})
            for (const auto& s : *list) {
                if (s.base.type == GeneralName::dns && !valid_dns_constraint(s.base.text)) valid = false;
                if (s.base.type == GeneralName::ip && !valid_ip_constraint(s.base.value)) valid = false;
            }
        if (!valid) {
            failures.push_back({CheckFailure::name_constraints, "name constraints violated: invalid constraint" + label(ca)});
            continue;
        }
        for (size_t i = j; i-- > 0;) {
            const auto& cert = *path[i];
            if (i > 0 && self_issued(cert)) continue;  // RFC 5280 6.1.3 (b): not for self-issued CAs
            std::vector<GeneralName> names;
            try {
                names = constrained_names(cert, extensions_of(cert));
            } catch (const der::Malformed&) {
                continue;  // reported as a malformed certificate
            }
            // Bounded work: a chain cannot make us compare a million names with constraints.
            size_t comparisons = 0;
            for (const auto& name : names)
                for (const auto* list : {&nc.permitted, &nc.excluded})
                    for (const auto& s : *list) comparisons += s.base.type == name.type;
            if (comparisons > kMaxNameConstraintComparisons) {
                failures.push_back({CheckFailure::name_constraints,
                                    "name constraints violated: too many names and constraints to compare" + label(ca)});
                break;
            }
            for (const auto& name : names) {
                std::string problem;
                bool has_permitted_form = false, permitted = false;
                for (const auto& s : nc.permitted) {
                    if (s.base.type != name.type) continue;
                    has_permitted_form = true;
                    if (!supported_form(name.type)) problem = "unsupported name form";
                    else if (within(name, s.base, false)) permitted = true;
                }
                if (has_permitted_form && !permitted && problem.empty()) problem = "not permitted";
                for (const auto& s : nc.excluded) {
                    if (s.base.type != name.type) continue;
                    if (!supported_form(name.type)) problem = "unsupported name form";
                    else if (within(name, s.base, true)) problem = "excluded";
                }
                if (!problem.empty()) {
                    failures.push_back({CheckFailure::name_constraints, "name constraints violated: " + describe_name(name) +
                                                                            (i == 0 ? "" : " of" + label(cert)) + " " + problem +
                                                                            " by" + label(ca)});
                    break;
                }
            }
        }
    }
}

}  // namespace mcpmtls::pki::rules
