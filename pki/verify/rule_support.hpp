#pragma once
// Private to pki/verify/rules/: what the RFC 5280 rule engines share, defined once so that they read a
// certificate the same way. Each engine looks extensions up by OID (oids.hpp) in their encoded
// form, because Botan 2 decodes some of them loosely or not at all, and several need the same
// facts about a certificate: whether it asserts cA, whether it is self-issued, how a message
// names it.
#include "pki/verify/chain_rules.hpp"
#include "pki/oids.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mcpmtls::pki::rules {

struct Extension {
    std::vector<uint8_t> value;
    bool critical = false;
};
using Extensions = std::map<std::string, Extension>;

// The certificate's extensions by dotted OID, as encoded.
Extensions extensions_of(const Botan::X509_Certificate& cert);
const Extension* find(const Extensions& extensions, const std::string& id);

// "" for the leaf (messages are about it unless they say otherwise), else label(cert).
std::string who(const Botan::X509_Certificate& cert, size_t position);
bool self_issued(const Botan::X509_Certificate& cert);
// basicConstraints cA, read from the extension itself (Botan's is_CA_cert also looks at usage).
bool asserts_ca(const Extensions& extensions);
std::vector<std::string> eku_oids(const Botan::X509_Certificate& cert);
bool contains(const std::vector<std::string>& values, const std::string& value);

// The engines check_path() runs, each in its own file under pki/verify/rules/.
// `first_ca`: the index of the highest CA whose constraints apply (the anchor or the CA below).
void check_name_constraints(const Path& path, size_t first_ca, std::vector<VerifyFailure>& failures);
// Empty when the path satisfies RFC 5280's policy processing, else why not. With
// `anchor_counts`, the trust anchor is processed as the first certificate of the path.
std::string check_policies(const Path& path, const PolicyInputs& inputs, bool anchor_counts);

}  // namespace mcpmtls::pki::rules
