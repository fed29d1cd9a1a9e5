// pki revoke: a certificate revoked in the inventory and the CRL rewritten, which servers load by themselves.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verify/verifier.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec revoke_spec() {
    return ArgSpec("pki revoke", "Revokes the current certificate NAME, or the one with --serial HEX.")
        .positional("NAME", false)
        .add(Option::text("serial", "HEX", "revoke by serial number instead of name"))
        .add(Option::text("reason", "R", "keyCompromise, superseded, cessationOfOperation, ...").fallback("unspecified"))
        .add(ca_key_options())
        .add(dir_option());
}

int run_revoke(const Args& args) {
    const auto& pos = args.positionals();
    const std::string serial = args.text("serial");
    if (pos.empty() == serial.empty()) throw InputError("revoke takes a NAME or --serial HEX (one of them)");
    const CaDirectory dir = ca_directory(args);
    const auto entry = revoke_certificate(dir, pos.empty() ? "" : pos[0], serial, args.text("reason"), passphrase(args));
    std::cout << "revoked '" << entry.name << "' (serial " << entry.serial << ", reason " << entry.revocation_reason
              << ")\n  CRL updated: " << dir.crl() << " (reload the servers, or let them pick it up)\n";
    return kExitOk;
}

}  // namespace

Command revoke_command() { return {"revoke", "revoke a certificate and regenerate the CRL", revoke_spec(), run_revoke}; }

}  // namespace mcpmtls::pki::cli
