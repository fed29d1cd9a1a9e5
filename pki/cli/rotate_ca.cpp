// pki rotate-ca: a CA rotation with an overlap during which old and new CA are both trusted.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

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

Command rotate_ca_command() { return {"rotate-ca", "start (or --finish) a CA rotation with overlap", rotate_ca_spec(), run_rotate_ca}; }

}  // namespace mcpmtls::pki::cli
