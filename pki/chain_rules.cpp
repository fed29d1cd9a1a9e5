#include "pki/internal/chain_rules.hpp"

#include "pki/internal/der.hpp"
#include "pki/internal/x509_names.hpp"
#include "pki/names.hpp"

#include "common/strings.hpp"

#include <botan/ecc_key.h>
#include <botan/pk_keys.h>
#include <botan/x509_ext.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

namespace mcpmtls::pki::rules {
namespace {

namespace oid {
const std::string kSubjectKeyId = "2.5.29.14", kKeyUsage = "2.5.29.15", kSubjectAltName = "2.5.29.17",
                  kIssuerAltName = "2.5.29.18", kBasicConstraints = "2.5.29.19", kNameConstraints = "2.5.29.30",
                  kCrlDistributionPoints = "2.5.29.31", kCertificatePolicies = "2.5.29.32", kPolicyMappings = "2.5.29.33",
                  kAuthorityKeyId = "2.5.29.35", kPolicyConstraints = "2.5.29.36", kExtKeyUsage = "2.5.29.37",
                  kInhibitAnyPolicy = "2.5.29.54", kAuthorityInfoAccess = "1.3.6.1.5.5.7.1.1",
                  kSubjectInfoAccess = "1.3.6.1.5.5.7.1.11";
const std::string kAnyPolicy = "2.5.29.32.0";
const std::string kServerAuth = "1.3.6.1.5.5.7.3.1", kClientAuth = "1.3.6.1.5.5.7.3.2", kCodeSigning = "1.3.6.1.5.5.7.3.3",
                  kTimeStamping = "1.3.6.1.5.5.7.3.8", kOcspSigning = "1.3.6.1.5.5.7.3.9", kAnyExtendedKeyUsage = "2.5.29.37.0";
}  // namespace oid

struct Extension {
    std::vector<uint8_t> value;
    bool critical = false;
};

// The certificate's extensions by dotted OID, as encoded.
std::map<std::string, Extension> extensions_of(const Botan::X509_Certificate& cert) {
    std::map<std::string, Extension> out;
    for (const auto& [id, raw] : cert.v3_extensions().extensions_raw()) out[id.to_string()] = {raw.first, raw.second};
    return out;
}

const Extension* find(const std::map<std::string, Extension>& extensions, const std::string& id) {
    auto it = extensions.find(id);
    return it == extensions.end() ? nullptr : &it->second;
}

std::string who(const Botan::X509_Certificate& cert, size_t position) { return position == 0 ? "" : label(cert); }

bool self_issued(const Botan::X509_Certificate& cert) { return cert.subject_dn() == cert.issuer_dn(); }

// basicConstraints cA, read from the extension itself (Botan's is_CA_cert also looks at usage).
bool asserts_ca(const std::map<std::string, Extension>& extensions) {
    const Extension* bc = find(extensions, oid::kBasicConstraints);
    if (!bc) return false;
    try {
        der::Reader outer(bc->value);
        der::Reader fields(outer.next(der::kSequence));
        if (!fields.empty() && fields.peek_tag() == der::kBoolean) {
            der::Tlv flag = fields.next();
            return flag.size == 1 && flag.data[0] != 0;
        }
    } catch (const der::Malformed&) {
    }
    return false;
}

std::string purpose_oid(Purpose purpose) { return purpose == Purpose::server_auth ? oid::kServerAuth : oid::kClientAuth; }

std::vector<std::string> eku_oids(const Botan::X509_Certificate& cert) {
    std::vector<std::string> out;
    for (const auto& o : cert.extended_key_usage()) out.push_back(o.to_string());
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// --- algorithms --------------------------------------------------------------------------------

// Signature algorithm families allowed in a chain (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519);
// the hash is Botan's concern (SHA-1 and weaker are refused there).
bool allowed_signature_algorithm(const std::string& id) {
    static const std::set<std::string> allowed = {
        "1.2.840.113549.1.1.5",  "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
        "1.2.840.113549.1.1.14", "1.2.840.113549.1.1.10",  // RSA with SHA-1/256/384/512/224, RSASSA-PSS
        "1.2.840.10045.4.1",     "1.2.840.10045.4.3.1",    "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
        "1.2.840.10045.4.3.4",   // ECDSA with SHA-1/224/256/384/512
        "1.3.101.112",           // Ed25519
    };
    return allowed.count(id) > 0;
}

void check_key_algorithm(const Botan::X509_Certificate& cert, size_t position, std::vector<VerifyFailure>& failures) {
    std::unique_ptr<Botan::Public_Key> key;
    try {
        key = cert.load_subject_public_key();
    } catch (const std::exception&) {
        failures.push_back({CheckFailure::malformed, "invalid public key" + who(cert, position)});
        return;
    }
    const std::string algo = key->algo_name();
    if (algo == "RSA" || algo == "Ed25519") return;
    if (algo == "ECDSA") {
        auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(key.get());
        const std::string curve = ec ? ec->domain().get_curve_oid().to_string() : "";
        // P-256, P-384, P-521
        if (curve == "1.2.840.10045.3.1.7" || curve == "1.3.132.0.34" || curve == "1.3.132.0.35") return;
        failures.push_back({CheckFailure::weak_key, "weak key: ECDSA on a curve other than P-256, P-384 or P-521" + who(cert, position)});
        return;
    }
    failures.push_back({CheckFailure::weak_key, "weak key: " + algo + " keys are not allowed (RSA, ECDSA or Ed25519 only)" +
                                                    who(cert, position)});
}

// --- name constraints --------------------------------------------------------------------------

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
std::vector<GeneralName> constrained_names(const Botan::X509_Certificate& cert, const std::map<std::string, Extension>& extensions) {
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

// `first_ca`: the index of the highest CA whose constraints apply (the anchor or the CA below).
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

// --- certificate policies (RFC 5280 6.1.2-6.1.5) -------------------------------------------------

class PolicyTree {
public:
    struct Node {
        std::string policy;
        std::set<std::string> expected;
        int parent;
        bool live = true;
    };

    PolicyTree() { levels_.push_back({{oid::kAnyPolicy, {oid::kAnyPolicy}, -1}}); }
    bool null() const { return null_; }
    void make_null() { null_ = true; }
    size_t depth() const { return levels_.size() - 1; }

    // 6.1.3 (d) for certificate at depth i (= depth() + 1 after the call).
    void process_certificate(const std::vector<std::string>& policies, bool any_allowed) {
        const size_t parent_depth = depth();
        levels_.emplace_back();
        auto& parents = levels_[parent_depth];
        for (const auto& p : policies) {
            if (p == oid::kAnyPolicy) continue;
            bool matched = false;
            for (size_t k = 0; k < parents.size(); ++k)
                if (parents[k].live && parents[k].expected.count(p)) {
                    add(parent_depth + 1, {p, {p}, static_cast<int>(k)});
                    matched = true;
                }
            if (!matched)
                for (size_t k = 0; k < parents.size(); ++k)
                    if (parents[k].live && parents[k].policy == oid::kAnyPolicy) add(parent_depth + 1, {p, {p}, static_cast<int>(k)});
        }
        if (any_allowed && contains(policies, oid::kAnyPolicy)) {
            for (size_t k = 0; k < parents.size(); ++k) {
                if (!parents[k].live) continue;
                for (const auto& value : std::set<std::string>(parents[k].expected)) {
                    bool present = false;
                    for (const auto& child : levels_[parent_depth + 1])
                        if (child.live && child.parent == static_cast<int>(k) && child.policy == value) present = true;
                    if (!present) add(parent_depth + 1, {value, {value}, static_cast<int>(k)});
                }
            }
        }
        prune();
    }

    // 6.1.4 (b): policy mappings of the certificate at the current depth.
    void apply_mappings(const std::vector<std::pair<std::string, std::string>>& mappings, bool mapping_allowed) {
        const size_t d = depth();
        std::map<std::string, std::set<std::string>> mapped;
        for (const auto& [issuer, subject] : mappings) mapped[issuer].insert(subject);
        for (const auto& [issuer, subjects] : mapped) {
            if (mapping_allowed) {
                bool found = false;
                for (auto& n : levels_[d])
                    if (n.live && n.policy == issuer) {
                        n.expected = subjects;
                        found = true;
                    }
                if (!found) {
                    for (size_t k = 0; k < levels_[d].size(); ++k) {
                        const Node any = levels_[d][k];
                        if (!any.live || any.policy != oid::kAnyPolicy) continue;
                        add(d, {issuer, subjects, any.parent});
                        break;
                    }
                }
            } else {
                for (auto& n : levels_[d])
                    if (n.live && n.policy == issuer) n.live = false;
            }
        }
        prune();
    }

    // 6.1.5 (g): intersection with the user-initial-policy-set (not anyPolicy).
    void intersect(const std::set<std::string>& initial) {
        if (null_) return;
        const size_t n = depth();
        // valid_policy_node_set: nodes whose parent is an anyPolicy node.
        auto parent_is_any = [&](size_t d, const Node& node) {
            return d > 0 && node.parent >= 0 && levels_[d - 1][node.parent].policy == oid::kAnyPolicy;
        };
        std::set<std::string> in_set;
        for (size_t d = 1; d <= n; ++d)
            for (auto& node : levels_[d]) {
                if (!node.live || !parent_is_any(d, node)) continue;
                if (node.policy != oid::kAnyPolicy && !initial.count(node.policy)) kill(d, node);
                else in_set.insert(node.policy);
            }
        for (size_t k = 0; k < levels_[n].size(); ++k) {
            Node any = levels_[n][k];
            if (!any.live || any.policy != oid::kAnyPolicy) continue;
            for (const auto& p : initial)
                if (!in_set.count(p)) add(n, {p, {p}, any.parent});
            levels_[n][k].live = false;
        }
        prune();
    }

private:
    void add(size_t d, Node node) { levels_[d].push_back(std::move(node)); }

    void kill(size_t d, Node& node) {
        node.live = false;
        if (d + 1 >= levels_.size()) return;
        const int index = static_cast<int>(&node - levels_[d].data());
        for (auto& child : levels_[d + 1])
            if (child.live && child.parent == index) kill(d + 1, child);
    }

    void prune() {
        for (size_t d = levels_.size() - 1; d-- > 0;) {
            for (size_t k = 0; k < levels_[d].size(); ++k) {
                if (!levels_[d][k].live) continue;
                bool child = false;
                for (const auto& c : levels_[d + 1])
                    if (c.live && c.parent == static_cast<int>(k)) child = true;
                if (!child) levels_[d][k].live = false;
            }
        }
        if (!levels_[0][0].live) null_ = true;
    }

    std::vector<std::vector<Node>> levels_;
    bool null_ = false;
};

// Returns an empty string when the path satisfies RFC 5280's policy processing, else why not.
// With `anchor_counts`, the trust anchor is processed as the first certificate (its
// constraints apply, like every other rule of ours on anchors; an anchor without
// certificatePolicies restricts nothing). Without it, the path starts below the anchor, as in
// RFC 5280 6.1, where the anchor is no certificate of the path.
std::string check_policies(const Path& path, const PolicyInputs& inputs, bool anchor_counts) {
    const size_t n = anchor_counts ? path.size() : path.size() - 1;
    uint64_t explicit_policy = inputs.initial_explicit_policy ? 0 : n + 1;
    uint64_t inhibit_any = inputs.initial_any_policy_inhibit ? 0 : n + 1;
    uint64_t policy_mapping = inputs.initial_policy_mapping_inhibit ? 0 : n + 1;
    PolicyTree tree;
    for (size_t i = 1; i <= n; ++i) {
        const auto& cert = *path[n - i];
        const bool is_anchor = anchor_counts && i == 1, is_leaf = i == n;
        const auto extensions = extensions_of(cert);
        const bool is_self_issued = self_issued(cert);
        const Extension* cp = find(extensions, oid::kCertificatePolicies);
        try {
            if (cp || is_anchor) {
                std::vector<std::string> policies;
                if (cp)
                    for (const auto& info : der::parse_certificate_policies(cp->value)) policies.push_back(info.oid);
                else
                    policies.push_back(oid::kAnyPolicy);
                const bool any_allowed = is_anchor || inhibit_any > 0 || (!is_leaf && is_self_issued);
                if (!tree.null()) tree.process_certificate(policies, any_allowed);
            } else {
                tree.make_null();
            }
            if (explicit_policy == 0 && tree.null()) return "no acceptable certificate policy (an explicit policy is required)";
            if (is_leaf) break;
            // 6.1.4: prepare for the next certificate.
            if (const Extension* pm = find(extensions, oid::kPolicyMappings)) {
                auto mappings = der::parse_policy_mappings(pm->value);
                for (const auto& [a, b] : mappings)
                    if (a == oid::kAnyPolicy || b == oid::kAnyPolicy) return "policy mapping to or from anyPolicy";
                if (!tree.null()) tree.apply_mappings(mappings, policy_mapping > 0);
            }
            if (!is_self_issued) {
                if (explicit_policy) --explicit_policy;
                if (policy_mapping) --policy_mapping;
                if (inhibit_any) --inhibit_any;
            }
            if (const Extension* pc = find(extensions, oid::kPolicyConstraints)) {
                auto c = der::parse_policy_constraints(pc->value);
                if (c.require_explicit_policy && *c.require_explicit_policy < explicit_policy) explicit_policy = *c.require_explicit_policy;
                if (c.inhibit_policy_mapping && *c.inhibit_policy_mapping < policy_mapping) policy_mapping = *c.inhibit_policy_mapping;
            }
            if (const Extension* ia = find(extensions, oid::kInhibitAnyPolicy)) {
                auto skip = der::parse_inhibit_any_policy(ia->value);
                if (skip < inhibit_any) inhibit_any = skip;
            }
        } catch (const der::Malformed&) {
            return "malformed certificate policy extension" + label(cert);
        }
    }
    // 6.1.5 wrap-up.
    const auto& leaf = *path.front();
    if (explicit_policy) --explicit_policy;
    if (const Extension* pc = find(extensions_of(leaf), oid::kPolicyConstraints)) {
        try {
            auto c = der::parse_policy_constraints(pc->value);
            if (c.require_explicit_policy && *c.require_explicit_policy == 0) explicit_policy = 0;
        } catch (const der::Malformed&) {
            return "malformed policyConstraints";
        }
    }
    std::set<std::string> initial(inputs.initial_policy_set.begin(), inputs.initial_policy_set.end());
    if (!initial.empty() && !initial.count(oid::kAnyPolicy)) tree.intersect(initial);
    if (explicit_policy == 0 && tree.null()) return "no acceptable certificate policy (an explicit policy is required)";
    return "";
}

// --- revocation --------------------------------------------------------------------------------

constexpr unsigned kAllReasons = 0x1fe;  // ReasonFlags bits 1..8 (keyCompromise .. aACompromise)

unsigned reason_bits(const std::vector<uint8_t>& bit_string) {
    unsigned bits = 0;
    for (size_t byte = 1; byte < bit_string.size() && byte <= 2; ++byte)
        for (int bit = 0; bit < 8; ++bit)
            if (bit_string[byte] & (0x80 >> bit)) bits |= 1u << ((byte - 1) * 8 + bit);
    return bits;
}

// A distribution point's names in one comparable form each; a name relative to the CRL issuer
// becomes the issuer's name plus that RDN (RFC 5280 4.2.1.13).
std::vector<std::string> dp_names(const der::DistributionPointName& name, const std::vector<uint8_t>& crl_issuer) {
    auto dn_form = [](const std::vector<der::Rdn>& rdns) {
        std::string out = "dn:";
        for (const auto& rdn : rdns) {
            out += "/";
            for (const auto& a : rdn) out += a.oid + "=" + a.value + "+";
        }
        return out;
    };
    std::vector<std::string> out;
    for (const auto& g : name.full_names) {
        if (g.type == GeneralName::directory) out.push_back(dn_form(der::parse_name(g.value)));
        else out.push_back(std::to_string(static_cast<int>(g.type)) + ":" + g.text + std::string(g.value.begin(), g.value.end()));
    }
    if (name.relative) {
        auto rdns = der::parse_name(crl_issuer);
        rdns.push_back(*name.relative);
        out.push_back(dn_form(rdns));
    }
    return out;
}

bool crl_verifies(const Botan::X509_CRL& crl, const Botan::X509_Certificate& signer) {
    try {
        auto key = signer.load_subject_public_key();
        return crl.check_signature(*key);
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

void check_revocation(const Path& path, const std::vector<const Botan::X509_CRL*>& crls, TimePoint at,
                      std::vector<VerifyFailure>& failures) {
    const Botan::X509_Time now(at);
    for (size_t i = 0; i + 1 < path.size(); ++i) {
        const auto& cert = *path[i];
        const std::string who_msg = i == 0 ? "certificate" : "issuer certificate";
        const std::string which = i == 0 ? "" : label(cert);
        std::vector<const Botan::X509_CRL*> from_issuer;
        for (const auto* crl : crls)
            if (crl->issuer_dn() == cert.issuer_dn()) from_issuer.push_back(crl);
        if (from_issuer.empty()) continue;  // no CRL from this issuer: not checked

        const auto extensions = extensions_of(cert);
        const bool cert_is_ca = asserts_ca(extensions);
        std::vector<der::DistributionPoint> points;
        if (const Extension* dp = find(extensions, oid::kCrlDistributionPoints)) {
            try {
                points = der::parse_crl_distribution_points(dp->value);
            } catch (const der::Malformed&) {
            }
        }
        unsigned covered = 0;
        bool revoked = false;
        std::string problem;
        for (const auto* crl : from_issuer) {
            // Signed by the issuer's key, or (key rollover) by a certificate of the same name
            // in the path that carries a newer key.
            const Botan::X509_Certificate* signer = nullptr;
            for (size_t j = i + 1; j < path.size() && !signer; ++j)
                if (path[j]->subject_dn() == cert.issuer_dn() && crl_verifies(*crl, *path[j])) signer = path[j].get();
            if (!signer) {
                problem = "CRL signature is invalid";
                continue;
            }
            if (signer->v3_extensions().extension_set(Botan::OID(oid::kKeyUsage)) && !(signer->constraints() & Botan::CRL_SIGN)) {
                problem = "CRL issuer may not sign CRLs";
                continue;
            }
            unsigned reasons = kAllReasons;
            bool in_scope = true, unknown_critical = false;
            for (const auto& [id, raw] : crl->extensions().extensions_raw()) {
                const std::string dotted = id.to_string();
                if (dotted == "2.5.29.27") in_scope = false;  // a delta CRL: not used
                if (dotted == "2.5.29.28") {
                    try {
                        auto idp = der::parse_issuing_distribution_point(raw.first);
                        if (idp.indirect || idp.only_attribute) in_scope = false;
                        if (idp.only_user && cert_is_ca) in_scope = false;
                        if (idp.only_ca && !cert_is_ca) in_scope = false;
                        if (idp.only_some_reasons) reasons = reason_bits(*idp.only_some_reasons) & kAllReasons;
                        if (idp.name) {
                            bool match = false;
                            const auto issuer = cert.raw_issuer_dn();
                            const auto theirs = dp_names(*idp.name, issuer);
                            for (const auto& point : points)
                                if (point.name && point.crl_issuer.empty())
                                    for (const auto& a : dp_names(*point.name, issuer))
                                        match = match || std::find(theirs.begin(), theirs.end(), a) != theirs.end();
                            if (!match) in_scope = false;
                        }
                    } catch (const der::Malformed&) {
                        in_scope = false;
                    }
                } else if (raw.second && dotted != "2.5.29.20" && dotted != "2.5.29.35" && dotted != "2.5.29.27") {
                    unknown_critical = true;
                }
            }
            if (!in_scope) continue;
            if (unknown_critical) {
                failures.push_back({CheckFailure::revocation_unavailable, "CRL has an unknown critical extension"});
                revoked = true;
                continue;
            }
            if (now < crl->this_update()) {
                problem = "CRL is not yet valid";
                continue;
            }
            if (now > crl->next_update()) {
                problem = "CRL has expired (run pki crl)";
                continue;
            }
            covered |= reasons;
            for (const auto& entry : crl->get_revoked())
                if (entry.serial_number() == cert.serial_number() && entry.reason_code() != Botan::CRL_Code::REMOVE_FROM_CRL)
                    revoked = true;
        }
        if (revoked) {
            failures.push_back({CheckFailure::revoked, who_msg + " is revoked" + which});
        } else if ((covered & kAllReasons) != kAllReasons) {
            failures.push_back({CheckFailure::revocation_unavailable,
                                problem.empty() ? "no CRL from the issuer covers the " + who_msg + which : problem + which});
        }
    }
}

std::string label(const Botan::X509_Certificate& cert) { return " (" + format_dn(cert.subject_dn()) + ")"; }

void check_certificate(const Botan::X509_Certificate& cert, size_t position, bool is_anchor,
                       std::vector<VerifyFailure>& failures) {
    const std::string which = who(cert, position);
    auto malformed = [&](const std::string& what) { failures.push_back({CheckFailure::malformed, what + which}); };
    const auto extensions = extensions_of(cert);

    // Critical extensions: those the verifier (or Botan, for it) enforces; a few must never be
    // critical (RFC 5280 4.2.1.1, 4.2.1.2, 4.2.2.1, 4.2.2.2).
    static const std::set<std::string> processed = {
        oid::kBasicConstraints, oid::kKeyUsage, oid::kExtKeyUsage, oid::kSubjectAltName, oid::kIssuerAltName,
        oid::kNameConstraints, oid::kCertificatePolicies, oid::kPolicyMappings, oid::kPolicyConstraints,
        oid::kInhibitAnyPolicy, oid::kCrlDistributionPoints};
    static const std::map<std::string, std::string> never_critical = {
        {oid::kAuthorityKeyId, "authorityKeyIdentifier"}, {oid::kSubjectKeyId, "subjectKeyIdentifier"},
        {oid::kAuthorityInfoAccess, "authorityInfoAccess"}, {oid::kSubjectInfoAccess, "subjectInfoAccess"}};
    for (const auto& [id, ext] : extensions) {
        if (!ext.critical) continue;
        if (auto it = never_critical.find(id); it != never_critical.end()) malformed("critical " + it->second + " extension");
        else if (!processed.count(id)) failures.push_back({CheckFailure::malformed, "unknown critical extension" + which});
    }
    // Extensions Botan decodes for us must have decoded.
    static const std::map<std::string, std::string> botan_decoded = {
        {oid::kBasicConstraints, "basicConstraints"}, {oid::kKeyUsage, "keyUsage"}, {oid::kExtKeyUsage, "extendedKeyUsage"},
        {oid::kAuthorityKeyId, "authorityKeyIdentifier"}, {oid::kSubjectKeyId, "subjectKeyIdentifier"},
        {oid::kAuthorityInfoAccess, "authorityInfoAccess"}};
    for (const auto& [id, name] : botan_decoded) {
        if (!extensions.count(id)) continue;
        auto* object = cert.v3_extensions().get_extension_object(Botan::OID(id));
        if (!object || dynamic_cast<const Botan::Cert_Extension::Unknown_Extension*>(object)) malformed("malformed " + name + " extension");
    }

    // Serial number: positive, at most 20 octets (RFC 5280 4.1.2.2); an anchor's serial number
    // plays no part in trusting it (some public roots have serial 0).
    const auto serial = cert.serial_number();
    const bool zero = std::all_of(serial.begin(), serial.end(), [](uint8_t b) { return b == 0; });
    if (is_anchor) {
    } else if (cert.is_serial_negative()) malformed("negative serial number");
    else if (zero) malformed("serial number is zero");
    else {
        size_t first = 0;
        while (first + 1 < serial.size() && serial[first] == 0) ++first;
        const size_t octets = serial.size() - first + ((serial[first] & 0x80) ? 1 : 0);
        if (octets > 20) malformed("serial number longer than 20 octets");
    }

    // Names: a well-formed subjectAltName; an empty subject needs a critical one (4.2.1.6).
    bool empty_subject = false;
    try {
        empty_subject = der::parse_name(cert.raw_subject_dn()).empty();
    } catch (const der::Malformed&) {
        malformed("malformed subject name");
    }
    const Extension* san = find(extensions, oid::kSubjectAltName);
    if (san) {
        try {
            for (const auto& name : der::parse_general_names(san->value)) {
                if (name.type == GeneralName::ip && name.value.size() != 4 && name.value.size() != 16)
                    throw der::Malformed("bad IP");
                if (name.type == GeneralName::dns && !is_valid_dns_name(name.text, certificate_dns_rules()))
                    throw der::Malformed("bad DNS name");
                if ((name.type == GeneralName::uri || name.type == GeneralName::rfc822) && name.text.empty())
                    throw der::Malformed("empty name");
            }
        } catch (const der::Malformed&) {
            malformed("malformed subjectAltName");
        }
    }
    if (empty_subject && (!san || !san->critical)) malformed("empty subject without a critical subjectAltName");

    // Key identifiers (4.2.1.1, 4.2.1.2): CAs have a subjectKeyIdentifier; every certificate
    // not self-issued has an authorityKeyIdentifier with a keyIdentifier.
    const bool ca = asserts_ca(extensions);
    if (ca && !find(extensions, oid::kSubjectKeyId)) malformed("CA certificate without subjectKeyIdentifier");
    const Extension* aki = find(extensions, oid::kAuthorityKeyId);
    if (!aki && !self_issued(cert) && cert.x509_version() == 3) malformed("certificate without authorityKeyIdentifier");
    if (aki) {
        try {
            if (!der::parse_authority_key_id(aki->value).has_key_id) malformed("authorityKeyIdentifier without keyIdentifier");
        } catch (const der::Malformed&) {
        }
    }
    if (const Extension* dp = find(extensions, oid::kCrlDistributionPoints)) {
        try {
            der::parse_crl_distribution_points(dp->value);
        } catch (const der::Malformed&) {
            malformed("malformed cRLDistributionPoints extension");
        }
    }
    // In a critical certificatePolicies, policy qualifiers must be ones RFC 5280 defines
    // (CPS pointer, user notice): an unknown qualifier is unknown critical content.
    if (const Extension* cp = find(extensions, oid::kCertificatePolicies)) {
        try {
            for (const auto& info : der::parse_certificate_policies(cp->value))
                for (const auto& q : info.qualifier_oids)
                    if (cp->critical && q != "1.3.6.1.5.5.7.2.1" && q != "1.3.6.1.5.5.7.2.2")
                        malformed("unknown policy qualifier in critical certificatePolicies");
        } catch (const der::Malformed&) {
            malformed("malformed certificatePolicies extension");
        }
    }
    // nameConstraints only in CA certificates (4.2.1.10).
    if (!ca && find(extensions, oid::kNameConstraints)) malformed("nameConstraints in a certificate that is not a CA");

    // Algorithms.
    check_key_algorithm(cert, position, failures);
    if (!is_anchor && !allowed_signature_algorithm(cert.signature_algorithm().get_oid().to_string()))
        failures.push_back({CheckFailure::weak_signature, "unsupported signature algorithm" + which});
}

void check_tls_leaf(const Botan::X509_Certificate& leaf, Purpose purpose, std::vector<VerifyFailure>& failures) {
    if (purpose == Purpose::any) return;
    const std::string name = purpose_eku_name(purpose);
    const auto extensions = extensions_of(leaf);
    const auto ekus = eku_oids(leaf);
    if (!find(extensions, oid::kExtKeyUsage))
        failures.push_back({CheckFailure::wrong_purpose, "EKU does not allow " + name + " (the certificate has no extendedKeyUsage)"});
    if (contains(ekus, oid::kAnyExtendedKeyUsage))
        failures.push_back({CheckFailure::wrong_purpose, "EKU anyExtendedKeyUsage is not accepted for " + name});
    for (const auto& [id, what] : {std::pair<std::string, std::string>{oid::kCodeSigning, "codeSigning"},
                                   {oid::kTimeStamping, "timeStamping"}, {oid::kOcspSigning, "OCSPSigning"}})
        if (contains(ekus, id))
            failures.push_back({CheckFailure::wrong_purpose, "EKU also allows " + what + " (not accepted for " + name + ")"});
    if (asserts_ca(extensions) && !leaf.is_self_signed())
        failures.push_back({CheckFailure::wrong_purpose, "certificate is a CA, not an end entity (not accepted for " + name + ")"});
}

bool anchor_constraints_apply(const Path& path, const VerifyOptions& options) {
    return options.anchor_constraints == AnchorConstraints::enforce || path.size() < 2;
}

void check_anchor_key(const Botan::X509_Certificate& anchor, size_t position, std::vector<VerifyFailure>& failures) {
    check_key_algorithm(anchor, position, failures);
}

void check_path(const Path& path, const VerifyOptions& options, std::vector<VerifyFailure>& failures) {
    if (path.empty()) return;
    const bool anchor_counts = anchor_constraints_apply(path, options);
    // Index of the highest certificate whose own extensions constrain the path.
    const size_t first_ca = anchor_counts ? path.size() - 1 : path.size() - 2;
    for (size_t i = 1; i <= first_ca; ++i) {
        const auto& ca = *path[i];
        const auto extensions = extensions_of(ca);
        // A CA whose keyUsage is present must allow keyCertSign (RFC 5280 4.2.1.3, 6.1.4 (n)).
        if (asserts_ca(extensions) && find(extensions, oid::kKeyUsage) && !(ca.constraints() & Botan::KEY_CERT_SIGN))
            failures.push_back({CheckFailure::not_a_ca, "issuer is not a CA" + label(ca) + ": key usage lacks keyCertSign"});
        // The EKU of an issuer, when present, restricts what it can vouch for.
        if (options.purpose != Purpose::any && find(extensions, oid::kExtKeyUsage)) {
            const auto ekus = eku_oids(ca);
            if (!contains(ekus, purpose_oid(options.purpose)) && !contains(ekus, oid::kAnyExtendedKeyUsage))
                failures.push_back({CheckFailure::wrong_purpose, "issuer EKU does not allow " + purpose_eku_name(options.purpose) + label(ca)});
        }
    }
    check_name_constraints(path, first_ca, failures);
    const std::string policy = check_policies(path, options.policy, anchor_counts);
    if (!policy.empty()) failures.push_back({CheckFailure::other, "certificate policies: " + policy});
}

}  // namespace mcpmtls::pki::rules
