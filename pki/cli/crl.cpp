// pki crl: a freshly signed CRL (servers refuse every client once the CRL they hold is past its
// nextUpdate, so a cron job re-signs it).
#include "common/files.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verify/verifier.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec crl_spec() {
    return ArgSpec("pki crl", "Signs a fresh CRL (v2, CRL number increasing).")
        .add(Option::integer("days", "N", 1, 365, "days until nextUpdate").fallback(7))
        .add(Option::flag("der", "also write the DER form that HTTP servers publish (ca.crl.der), kept up to date from then on"))
        .add(ca_key_options())
        .add(dir_option());
}

int run_crl(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    write_crl(dir, std::chrono::hours(24) * args.integer("days"), passphrase(args), args.flag("der"));
    const auto crls = RevocationList::load_all(dir.crl());
    std::cout << "wrote " << dir.crl() << " (CRL number " << crls.front().number() << ", "
              << crls.front().revoked_serials().size() << " revoked, next update " << date_of(crls.front().next_update())
              << ")\n";
    if (file_exists(dir.crl_der())) std::cout << "wrote " << dir.crl_der() << " (the same CRL in DER)\n";
    return kExitOk;
}

}  // namespace

Command crl_command() { return {"crl", "write ca.crl", crl_spec(), run_crl}; }

}  // namespace mcpmtls::pki::cli
