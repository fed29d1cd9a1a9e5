// pki rotate and pki rotate-ca: a new key and certificate for the same identity, and a CA
// rotation with an overlap during which old and new CA are both trusted.
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
        .add(passphrase_option())
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

ArgSpec rotate_ca_spec() {
    return ArgSpec("pki rotate-ca", "Creates a new CA; ca-bundle.crt trusts old and new until --finish, which refuses "
                             "while valid certificates from the old CA remain.")
        .add(Option::flag("finish", "drop the old CA from the bundle and delete its key"))
        .add(passphrase_option())
        .add(dir_option());
}

int run_rotate_ca(const Args& args) {
    const CaDirectory dir = ca_directory(args);
    if (args.flag("finish")) {
        const auto result = finish_ca_rotation(dir, passphrase(args));
        std::cout << "CA rotation finished: " << dir.bundle() << " now trusts only '" << result.new_ca.common_name()
                  << "'; the old CA key is deleted\n";
        return kExitOk;
    }
    const auto result = start_ca_rotation(dir, passphrase(args));
    std::cout << "new CA '" << result.new_ca.common_name() << "' (valid until " << date_of(result.new_ca.not_after())
              << ") is now " << dir.ca_cert() << "\n"
              << "  " << dir.bundle() << " trusts both CAs during the overlap\n"
              << "  next: reload every server and client (they pick up the bundle), reissue each certificate with\n"
              << "        pki rotate NAME, reload again, then: pki rotate-ca --finish\n";
    return kExitOk;
}

}  // namespace

Command rotate_command() { return {"rotate", "new key and certificate for the same identity", rotate_spec(), run_rotate}; }
Command rotate_ca_command() { return {"rotate-ca", "start (or --finish) a CA rotation with overlap", rotate_ca_spec(), run_rotate_ca}; }

}  // namespace mcpmtls::pki::cli
