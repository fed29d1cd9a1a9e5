// pki sign: a certificate for a key generated elsewhere, from its holder's CSR. The request
// proves possession of the key; everything else (names, EKU, key usage, lifetime) is decided
// here, so names the CSR asks for without the flags giving them are reported, not signed.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec sign_spec() {
    return leaf_spec("pki sign", "Writes NAME.crt (leaf + CA) for the key of the CSR; names come from the flags only.",
                     {Option::text("csr", "FILE", "the certificate signing request (PEM or DER)").required()});
}

int run_sign(const Args& args) {
    LeafRequest options;
    read_leaf_request(args, "sign", options);
    const auto request = CertificateRequest::load(args.text("csr"));
    const CaDirectory dir = signing_directory(args);
    const auto signed_request = sign_certificate_request(dir, request, options);
    // The report of ungranted names first: it is why an operator reads stderr at all.
    if (!signed_request.names_not_granted.empty())
        std::cerr << "pki: note: the CSR also asks for " << describe_sans(signed_request.names_not_granted)
                  << "; not included (names come from --dns, --ip, --uri and --email only)\n";
    print_new_leaf("signed", signed_request.issued, dir, "kept by the CSR's holder (" + request.public_key_algorithm() + ")");
    return kExitOk;
}

}  // namespace

Command sign_command() { return {"sign", "sign a server or client certificate from a CSR", sign_spec(), run_sign}; }

}  // namespace mcpmtls::pki::cli
