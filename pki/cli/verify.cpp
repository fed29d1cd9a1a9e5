// pki verify: a certificate chain judged by the product's verifier, the one every server and
// client uses: OK (exit 0), or the reason (exit 1).
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/names.hpp"
#include "pki/verify/verifier.hpp"

#include <algorithm>
#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec verify_spec() {
    return ArgSpec("pki verify", "Exit 0 and OK when valid; exit 1 and the reason when not; exit 2 on unreadable input.")
        .positional("CERT")
        .add(Option::text("ca", "FILE", "trust anchors (a bundle may hold several CAs)").required())
        .add(Option::text("untrusted", "FILE", "intermediate certificates"))
        .add(Option::text("purpose", "", "required extended key usage (default: any)").one_of({"server", "client"}))
        .add(Option::text("host", "NAME", "DNS name or IP the certificate must be valid for"))
        .add(Option::text("at", "RFC3339", "validation time (default: now)"))
        .add(Option::text("crl", "FILE", "CRL(s) to check revocation against"))
        .add(Option::flag("verbose", "print every failed check"));
}

// CRLs signed by a trusted CA, or by an intermediate CA of the presented chain, which signs the
// CRL of the leaves it issued (pki init --intermediate).
TrustStore trust_store(const Args& args, const std::vector<Certificate>& chain) {
    std::vector<RevocationList> crls;
    if (args.given("crl")) crls = RevocationList::load_all(args.text("crl"));
    return TrustStore::with_crl_signers(Certificate::load_all(args.text("ca")), std::move(crls),
                                        std::vector<Certificate>(chain.begin() + 1, chain.end()));
}

int run_verify(const Args& args) {
    auto chain = Certificate::load_all(args.positionals()[0]);
    if (args.given("untrusted"))
        for (auto& cert : Certificate::load_all(args.text("untrusted"))) chain.push_back(cert);
    const auto trust = trust_store(args, chain);
    VerifyOptions options;
    const std::string purpose = args.text("purpose");
    options.purpose = purpose == "server" ? Purpose::server_auth : purpose == "client" ? Purpose::client_auth : Purpose::any;
    options.host = args.text("host");
    if (!options.host.empty() && !is_ip_address(options.host) && !is_valid_dns_name(options.host, false))
        throw InputError("bad --host '" + options.host + "'");
    if (args.given("at")) options.at = parse_rfc3339(args.text("at"));
    const auto result = verify_chain(chain, trust, options);
    if (result.valid()) {
        std::cout << "OK\n";
        return kExitOk;
    }
    std::cout << result.reason() << "\n";
    if (args.flag("verbose"))
        for (size_t i = 1; i < result.failures.size(); ++i) std::cout << "also: " << result.failures[i].message << "\n";
    return kExitFailed;
}

}  // namespace

Command verify_command() { return {"verify", "verify a certificate chain with the product's verifier", verify_spec(), run_verify}; }

}  // namespace mcpmtls::pki::cli
