// pki revoke and pki crl: revocation, and the CRL the servers load by themselves.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verifier.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec revoke_spec() {
    return ArgSpec("pki revoke", "Revokes the current certificate NAME, or the one with --serial HEX.")
        .positional("NAME", false)
        .add(Option::text("serial", "HEX", "revoke by serial number instead of name"))
        .add(Option::text("reason", "R", "keyCompromise, superseded, cessationOfOperation, ...").fallback("unspecified"))
        .add(passphrase_option())
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

ArgSpec crl_spec() {
    return ArgSpec("pki crl", "Signs a fresh CRL (v2, CRL number increasing).")
        .add(Option::integer("days", "N", 1, 365, "days until nextUpdate").fallback(7))
        .add(passphrase_option())
        .add(dir_option());
}

int run_crl(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    write_crl(dir, std::chrono::hours(24) * args.integer("days"), passphrase(args));
    const auto crls = RevocationList::load_all(dir.crl());
    std::cout << "wrote " << dir.crl() << " (CRL number " << crls.front().number() << ", "
              << crls.front().revoked_serials().size() << " revoked, next update " << date_of(crls.front().next_update())
              << ")\n";
    return kExitOk;
}

}  // namespace

Command revoke_command() { return {"revoke", "revoke a certificate and regenerate the CRL", revoke_spec(), run_revoke}; }
Command crl_command() { return {"crl", "write ca.crl", crl_spec(), run_crl}; }

}  // namespace mcpmtls::pki::cli
