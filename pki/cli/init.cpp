// pki init: a new self-signed root CA in DIR.
#include "common/strings.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

namespace mcpmtls::pki::cli {
namespace {

ArgSpec init_spec() {
    const CaInitOptions defaults;
    return ArgSpec("pki init", "Creates ca.crt, ca.key (0600), ca-bundle.crt and index.json.")
        .add(Option::text("cn", "NAME", "CA common name").fallback(defaults.common_name))
        .add(Option::text("key-type", "TYPE", "ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072")
                 .fallback(key_type_name(defaults.key_type)))
        .add(Option::integer("days", "N", 1, 36500, "lifetime in days").fallback(defaults.days))
        .add(Option::flag("force", "replace an existing CA (all its certificates stop verifying)"))
        .add(passphrase_option())
        .add(dir_option());
}

int run_init(const Args& args) {
    CaInitOptions options;
    options.common_name = args.text("cn");
    options.key_type = parse_key_type(args.text("key-type"));
    options.days = args.integer("days");
    options.force = args.flag("force");
    options.passphrase = passphrase(args);
    const CaDirectory dir = ca_directory(args);
    const auto cert = init_ca(dir, options);
    print_summary("created CA '" + cert.common_name() + "' in " + dir.dir() + "/ (" + cert.public_key_algorithm() +
                      ", valid until " + date_of(cert.not_after()) + ")",
                  {{"certificate", dir.ca_cert()},
                   {"private key", dir.ca_key() + (options.passphrase.empty() ? " (0600)" : " (0600, encrypted)")},
                   {"trust bundle", dir.bundle()},
                   {"fingerprint", "sha256:" + cert.fingerprint_sha256()}});
    return kExitOk;
}

}  // namespace

Command init_command() { return {"init", "create a self-signed root CA", init_spec(), run_init}; }

}  // namespace mcpmtls::pki::cli
