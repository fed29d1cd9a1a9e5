// pki token: a one-time enrollment token for one certificate (docs/enrollment.md "Tokens"),
// printed on stdout and nowhere else; the note about it goes to stderr, so that
// TOKEN=$(pki token ...) captures the token alone.
#include "pki/ca/enrollment_token.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

ArgSpec token_spec() {
    return ArgSpec("pki token", "Prints a one-time enrollment token (a JWS signed by DIR/provisioner.key, created with "
                                "provisioner.pub by the first pki token) granting one certificate NAME of the kind, with "
                                "these names, to client enroll.")
        .positional("server|client")
        .positional("NAME")
        .add(Option::list("dns", "NAME", "DNS name the certificate may carry"))
        .add(Option::list("ip", "ADDR", "IP address the certificate may carry"))
        .add(Option::list("uri", "URI", "URI the certificate may carry (clients; e.g. spiffe://demo/bridge)"))
        .add(Option::text("ttl", "DURATION", "the longest certificate lifetime granted (pki serve caps it with --max-ttl)")
                 .fallback("24h"))
        .add(Option::text("token-ttl", "DURATION", "how long the token itself may be used").fallback("15m"))
        .add(Option::text("passphrase-file", "FILE",
                          "passphrase of provisioner.key, on the first line of FILE (or set PKI_PROVISIONER_PASSPHRASE); "
                          "the first pki token encrypts the new key with it"))
        .add(dir_option());
}

int run_token(const Args& args) {
    const auto& pos = args.positionals();
    TokenRequest request;
    if (pos[0] == "server") request.kind = LeafKind::server;
    else if (pos[0] == "client") request.kind = LeafKind::client;
    else throw InputError("the first argument of token is 'server' or 'client', not '" + pos[0] + "'");
    request.name = pos[1];
    request.names.dns = args.list("dns");
    request.names.ips = args.list("ip");
    request.names.uris = args.list("uri");
    request.max_ttl = parse_duration(args.text("ttl"));
    request.token_ttl = parse_duration(args.text("token-ttl"));
    const CaDirectory dir = ca_directory(args);
    const auto issued = create_enrollment_token(dir, request, provisioner_passphrase_from(args.text("passphrase-file")));
    if (issued.provisioner_created)
        std::cerr << "pki: created the provisioner key " << dir.provisioner_key() << " (0600) and " << dir.provisioner_pub()
                  << "\n";
    std::cerr << "pki: token for " << leaf_kind_name(request.kind) << " '" << request.name << "' ("
              << (issued.grant.names.empty() ? std::string("no names") : describe_sans(issued.grant.names))
              << "; certificate lifetime up to " << args.text("ttl")
              << "), usable once until " << format_rfc3339(issued.grant.expires_at) << "\n";
    std::cout << issued.token << "\n";
    return kExitOk;
}

}  // namespace

Command token_command() { return {"token", "print a one-time enrollment token for pki serve", token_spec(), run_token}; }

}  // namespace mcpmtls::pki::cli
