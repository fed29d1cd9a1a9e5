// pki issue: a server or client certificate signed by DIR's CA, its key generated here.
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec issue_spec() {
    const IssueOptions defaults;
    return ArgSpec("pki issue", "Writes NAME.crt (leaf + CA) and NAME.key (0600), signed by the CA.")
        .positional("server|client")
        .positional("NAME")
        .add(Option::list("dns", "NAME", "DNS subject alternative name"))
        .add(Option::list("ip", "ADDR", "IP subject alternative name (IPv4 or IPv6)"))
        .add(Option::list("uri", "URI", "URI SAN, clients only (e.g. spiffe://demo/coordinator)"))
        .add(Option::list("email", "ADDR", "e-mail SAN, clients only"))
        .add(Option::integer("days", "N", 1, 3650, "lifetime in days, never past the CA's").fallback(defaults.days))
        .add(Option::text("key-type", "TYPE", "ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072")
                 .fallback(key_type_name(defaults.key_type)))
        .add(passphrase_option())
        .add(dir_option());
}

int run_issue(const Args& args) {
    const auto& pos = args.positionals();
    IssueOptions options;
    if (pos[0] == "server") options.kind = LeafKind::server;
    else if (pos[0] == "client") options.kind = LeafKind::client;
    else throw InputError("the first argument of issue is 'server' or 'client', not '" + pos[0] + "'");
    options.name = pos[1];
    options.sans.dns = args.list("dns");
    options.sans.ips = args.list("ip");
    options.sans.uris = args.list("uri");
    options.sans.emails = args.list("email");
    options.days = args.integer("days");
    options.key_type = parse_key_type(args.text("key-type"));
    options.ca_passphrase = passphrase(args);
    const CaDirectory dir = ca_directory(args);
    const auto issued = issue_certificate(dir, options);
    for (const auto& note : issued.notes) std::cerr << "pki: note: " << note << "\n";
    const auto& cert = issued.certificate;
    print_summary("issued " + leaf_kind_name(options.kind) + " certificate '" + options.name + "' (" +
                      cert.public_key_algorithm() + ", valid until " + date_of(cert.not_after()) + ")",
                  {{"names", describe_sans(cert.subject_alt_names())},
                   {"serial", cert.serial_hex()},
                   {"certificate", dir.leaf_cert(options.name) + " (with the CA chain)"},
                   {"private key", dir.leaf_key(options.name) + " (0600)"}});
    return kExitOk;
}

}  // namespace

Command issue_command() { return {"issue", "issue a server or client certificate", issue_spec(), run_issue}; }

}  // namespace mcpmtls::pki::cli
