// Name constraints as pki writes and honours them: `init --intermediate --permit-*` encodes the
// extension (Botan 2 cannot), and every leaf is judged against its CA's constraints before it is
// signed, by the verifier itself, so that pki never issues what its peers would refuse.
#include "pki/ca/issuing_constraints.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "pki/botan_access.hpp"
#include "pki/der.hpp"
#include "pki/oids.hpp"
#include "pki/names.hpp"
#include "pki/verify/verifier.hpp"

#include <arpa/inet.h>
#include <botan/der_enc.h>
#include <botan/x509_ext.h>

#include <set>

namespace mcpmtls::pki {
namespace {

using der::GeneralName;

// "example.com" or ".example.com": a DNS name as people type it, with an optional leading dot.
std::string checked_suffix(const std::string& flag, const std::string& value, const std::string& example) {
    const std::string name = !value.empty() && value.front() == '.' ? value.substr(1) : value;
    if (value.find("://") != std::string::npos)
        throw InputError(flag + " takes a host name such as " + example + ", not a URI: '" + value + "'");
    if (!is_valid_dns_name(name, false)) throw InputError(flag + ": bad name '" + value + "' (expected e.g. " + example + ")");
    return value;
}

// "10.0.0.0/8" or "fd00::/8" (a bare address is a single host) as the iPAddress of a
// constraint: the address followed by its mask (RFC 5280 4.2.1.10).
std::vector<uint8_t> checked_range(const std::string& value) {
    const auto slash = value.find('/');
    const std::string address = canonical_ip(value.substr(0, slash));
    if (address.empty()) throw InputError("--permit-ip: bad address in '" + value + "' (expected e.g. 10.0.0.0/8)");
    const bool v4 = address.find(':') == std::string::npos;
    const size_t bytes = v4 ? 4 : 16;
    std::vector<uint8_t> out(bytes * 2, 0);
    if (inet_pton(v4 ? AF_INET : AF_INET6, address.c_str(), out.data()) != 1)
        throw InputError("--permit-ip: bad address in '" + value + "'");
    long prefix = static_cast<long>(bytes * 8);
    if (slash != std::string::npos) {
        const std::string bits = value.substr(slash + 1);
        if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
            std::stol(bits) > prefix)
            throw InputError("--permit-ip: bad prefix length in '" + value + "' (0 to " + std::to_string(prefix) + ")");
        prefix = std::stol(bits);
    }
    for (size_t bit = 0; bit < bytes * 8; ++bit) {
        const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
        if (static_cast<long>(bit) < prefix) out[bytes + bit / 8] |= mask;
        else if (out[bit / 8] & mask)
            throw InputError("--permit-ip " + value + " has bits set after the prefix (a range starts at its first address)");
    }
    return out;
}

void add_subtree(Botan::DER_Encoder& der, GeneralName::Type form, const std::vector<uint8_t>& base) {
    der.start_cons(Botan::SEQUENCE)
        .add_object(static_cast<Botan::ASN1_Tag>(form), Botan::CONTEXT_SPECIFIC, base.data(), base.size())
        .end_cons();
}

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

std::vector<uint8_t> encode_name_constraints(const PermittedNames& permitted) {
    std::vector<std::vector<uint8_t>> dns, uris, ranges;
    for (const auto& suffix : permitted.dns) dns.push_back(bytes_of(checked_suffix("--permit-dns", suffix, "example.com")));
    for (const auto& host : permitted.uri_hosts) uris.push_back(bytes_of(checked_suffix("--permit-uri", host, "prod.example")));
    for (const auto& range : permitted.ip_ranges) ranges.push_back(checked_range(range));

    std::vector<uint8_t> out;
    Botan::DER_Encoder der(out);
    der.start_cons(Botan::SEQUENCE);
    der.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC);  // permittedSubtrees
    for (const auto& base : dns) add_subtree(der, GeneralName::dns, base);
    for (const auto& base : uris) add_subtree(der, GeneralName::uri, base);
    for (const auto& base : ranges) add_subtree(der, GeneralName::ip, base);
    der.end_cons();
    if (ranges.empty()) {
        der.start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC);  // excludedSubtrees
        add_subtree(der, GeneralName::ip, std::vector<uint8_t>(8, 0));   // 0.0.0.0/0
        add_subtree(der, GeneralName::ip, std::vector<uint8_t>(32, 0));  // ::/0
        der.end_cons();
    }
    der.end_cons();
    return out;
}

void require_names_within_constraints(const Certificate& leaf, const Certificate& ca) {
    const std::string constraints = ca.name_constraints();
    if (constraints.empty()) return;
    const std::string which = "; the name constraints of CA '" + ca.common_name() + "': " + constraints;

    VerifyOptions options;
    options.purpose = Purpose::any;
    const auto verdict = verify_chain({leaf}, TrustStore({ca}, {}), options);
    for (const auto& failure : verdict.failures)
        if (failure.kind == CheckFailure::name_constraints) throw OperationError(failure.message + which);

    // Stricter than RFC 5280, which leaves a form without constraints unconstrained: a CA that
    // permits some names issues no name of a form it does not mention.
    const auto& extensions = ca.impl().cert.v3_extensions();
    std::set<int> permitted_forms;
    for (const auto& subtree :
         der::parse_name_constraints(extensions.get_extension_bits(Botan::OID(oid::kNameConstraints))).permitted)
        permitted_forms.insert(subtree.base.type);
    if (permitted_forms.empty()) return;
    const auto names = leaf.subject_alt_names();
    auto require_form = [&](const std::vector<std::string>& values, GeneralName::Type form, const std::string& kind) {
        if (!values.empty() && !permitted_forms.count(form))
            throw OperationError(kind + " '" + values.front() + "' is outside the name constraints: no " + kind +
                                 " is permitted" + which);
    };
    require_form(names.dns, GeneralName::dns, "DNS name");
    require_form(names.ips, GeneralName::ip, "IP address");
    require_form(names.uris, GeneralName::uri, "URI");
    require_form(names.emails, GeneralName::rfc822, "e-mail address");
}

}  // namespace mcpmtls::pki
