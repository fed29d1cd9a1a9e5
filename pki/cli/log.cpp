// pki log verify: the issuance log's hash chain, and index.json cross-checked against it.
#include "pki/ca/issuance_log.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec log_spec() {
    return ArgSpec("pki log", "verify: checks DIR/issuance.log (every line's seq, JSON and the SHA-256 of the line before "
                              "it) and that index.json agrees with it; exits 1 naming the first bad line.")
        .positional("verify")
        .add(dir_option());
}

int run_log(const Args& args) {
    const auto& pos = args.positionals();
    if (pos[0] != "verify") throw InputError("the subcommand of log is 'verify', not '" + pos[0] + "'");
    const auto check = verify_issuance_log(ca_directory(args));
    if (!check.ok) {
        std::cerr << "pki log verify: " << check.message << "\n";
        return kExitFailed;
    }
    std::cout << check.message << "\n";
    return kExitOk;
}

}  // namespace

Command log_command() { return {"log", "verify the issuance log and its agreement with index.json", log_spec(), run_log}; }

}  // namespace mcpmtls::pki::cli
