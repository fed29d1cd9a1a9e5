// The helpers every rule engine under pki/verify/rules/ reads certificates with (rule_support.hpp says
// why they are shared). Nothing here decides a verdict.
#include "pki/verify/rule_support.hpp"

#include "pki/der.hpp"
#include "pki/x509_names.hpp"

#include <algorithm>

namespace mcpmtls::pki::rules {

Extensions extensions_of(const Botan::X509_Certificate& cert) {
    Extensions out;
    for (const auto& [id, raw] : cert.v3_extensions().extensions_raw()) out[id.to_string()] = {raw.first, raw.second};
    return out;
}

const Extension* find(const Extensions& extensions, const std::string& id) {
    auto it = extensions.find(id);
    return it == extensions.end() ? nullptr : &it->second;
}

std::string label(const Botan::X509_Certificate& cert) { return " (" + format_dn(cert.subject_dn()) + ")"; }

std::string who(const Botan::X509_Certificate& cert, size_t position) { return position == 0 ? "" : label(cert); }

bool self_issued(const Botan::X509_Certificate& cert) { return cert.subject_dn() == cert.issuer_dn(); }

bool asserts_ca(const Extensions& extensions) {
    const Extension* bc = find(extensions, oid::kBasicConstraints);
    if (!bc) return false;
    try {
        der::Reader outer(bc->value);
        der::Reader fields(outer.next(der::kSequence));
        if (auto flag = fields.next_if(der::kBoolean)) return flag->size == 1 && flag->data[0] != 0;
    } catch (const der::Malformed&) {
    }
    return false;
}

std::vector<std::string> eku_oids(const Botan::X509_Certificate& cert) {
    std::vector<std::string> out;
    for (const auto& o : cert.extended_key_usage()) out.push_back(o.to_string());
    return out;
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace mcpmtls::pki::rules
