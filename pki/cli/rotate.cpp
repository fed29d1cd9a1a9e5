// pki rotate: a new key and certificate for the same identity, written over the old files (which
// servers and clients pick up by themselves), plus a rotation bundle.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec rotate_spec() {
    return ArgSpec("pki rotate", "Writes a new NAME.crt/NAME.key (same names, kind and lifetime) and a rotation bundle "
                          "rotation/NAME-<UTC timestamp>/ with a manifest.json.")
        .positional("NAME")
        .add(Option::flag("revoke-old", "revoke the previous certificate (reason superseded) once the new one is in place"))
        .add(ca_key_options())
        .add(dir_option());
}

int run_rotate(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    const auto result = rotate_certificate(dir, args.positionals()[0], args.flag("revoke-old"), passphrase(args));
    std::cout << "rotated '" << result.new_entry.name << "': serial " << result.old_entry.serial << " -> "
              << result.new_entry.serial << " (valid until " << date_of(result.new_entry.not_after) << ")\n"
              << "  written over " << dir.leaf_cert(result.new_entry.name) << " and " << dir.leaf_key(result.new_entry.name)
              << "\n  rotation bundle: " << result.bundle_dir << "/\n";
    if (result.old_revoked)
        std::cout << "  old certificate revoked; CRL updated: " << dir.crl() << "\n";
    else
        std::cout << "  the old certificate stays valid until " << date_of(result.old_entry.not_after)
                  << "; revoke it once every peer has reloaded: pki revoke --serial " << result.old_entry.serial << "\n";
    return kExitOk;
}

}  // namespace

Command rotate_command() { return {"rotate", "new key and certificate for the same identity", rotate_spec(), run_rotate}; }

}  // namespace mcpmtls::pki::cli
