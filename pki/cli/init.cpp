// pki init: a new self-signed root CA in DIR.
#include "common/strings.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

int run_init(const Args& args) {
    CaInitOptions options;
    options.common_name = args.text("cn");
    options.key_type = parse_key_type(args.text("key-type"));
    options.days = args.integer("days");
    options.force = args.flag("force");
    options.passphrase = passphrase(args);
    const CaDirectory dir = ca_directory(args);
    const auto cert = init_ca(dir, options);
    std::cout << "created CA '" << cert.common_name() << "' in " << dir.dir() << "/ (" << cert.public_key_algorithm()
              << ", valid until " << date_of(cert.not_after()) << ")\n"
              << "  certificate:  " << dir.ca_cert() << "\n"
              << "  private key:  " << dir.ca_key() << (options.passphrase.empty() ? " (0600)" : " (0600, encrypted)") << "\n"
              << "  trust bundle: " << dir.bundle() << "\n"
              << "  fingerprint:  sha256:" << cert.fingerprint_sha256() << "\n";
    return kExitOk;
}

}  // namespace

Command init_command() {
    const CaInitOptions defaults;
    return {"init", "create a self-signed root CA",
            ArgSpec("pki init", "Creates ca.crt, ca.key (0600), ca-bundle.crt and index.json.")
                .add(Option::text("cn", "NAME", "CA common name").fallback(defaults.common_name))
                .add(Option::text("key-type", "TYPE", "ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072")
                         .fallback(key_type_name(defaults.key_type)))
                .add(Option::integer("days", "N", 1, 36500, "lifetime in days").fallback(defaults.days))
                .add(Option::flag("force", "replace an existing CA (all its certificates stop verifying)"))
                .add(passphrase_option())
                .add(dir_option()),
            run_init};
}

}  // namespace mcpmtls::pki::cli
