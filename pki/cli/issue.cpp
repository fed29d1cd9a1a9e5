// pki issue: a server or client certificate signed by DIR's CA, its key generated here.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec issue_spec() {
    const IssueOptions defaults;
    return leaf_spec("pki issue", "Writes NAME.crt (leaf + CA) and NAME.key (0600), signed by the CA.",
                     {Option::text("key-type", "TYPE", "ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072")
                          .fallback(key_type_name(defaults.key_type))});
}

int run_issue(const Args& args) {
    IssueOptions options;
    read_leaf_request(args, "issue", options);
    options.key_type = parse_key_type(args.text("key-type"));
    const CaDirectory dir = signing_directory(args);
    print_new_leaf("issued", issue_certificate(dir, options), dir, dir.leaf_key(options.name) + " (0600)");
    return kExitOk;
}

}  // namespace

Command issue_command() { return {"issue", "issue a server or client certificate", issue_spec(), run_issue}; }

}  // namespace mcpmtls::pki::cli
