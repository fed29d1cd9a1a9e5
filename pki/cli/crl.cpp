// pki crl: a freshly signed CRL (servers refuse every client once the CRL they hold is past its
// nextUpdate, so a cron job re-signs it).
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verifier.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

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

Command crl_command() { return {"crl", "write ca.crl", crl_spec(), run_crl}; }

}  // namespace mcpmtls::pki::cli
