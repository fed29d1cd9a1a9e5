// pki init: a new self-signed root CA in DIR, or with --intermediate a CA signed by the root of
// ROOTDIR (which can then go offline), optionally limited to the names it may sign.
#include "common/strings.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"

#include <iostream>

namespace mcpmtls::pki::cli {
namespace {

constexpr const char* kIntermediateName = "mcp-mtls intermediate CA";
// Shorter than a root's ten years, so that an intermediate never outlives the root it chains to.
constexpr long kIntermediateDays = 1825;

ArgSpec init_spec() {
    const CaInitOptions defaults;
    return ArgSpec("pki init", "Creates ca.crt, ca.key (0600), ca-bundle.crt and index.json: a root CA, or with "
                               "--intermediate a CA signed by ROOTDIR's root (ca-bundle.crt then holds the root).")
        .add(Option::text("cn", "NAME", "CA common name (intermediate: '" + std::string(kIntermediateName) + "')")
                 .fallback(defaults.common_name))
        .add(Option::text("key-type", "TYPE", "ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072")
                 .fallback(key_type_name(defaults.key_type)))
        .add(Option::integer("days", "N", 1, 36500,
                             "lifetime in days (intermediate: " + std::to_string(kIntermediateDays) + ")")
                 .fallback(defaults.days))
        .add(Option::integer("path-len", "N", 0, 8,
                             "how many CAs may follow below this one (0: it signs leaves only; a root needs 1 to sign "
                             "an intermediate)")
                 .fallback(static_cast<long>(defaults.path_len)))
        .add(Option::text("crl-url", "URL", "CRL distribution point written into every certificate signed here"))
        .add(Option::flag("intermediate", "make an intermediate CA signed by the root in --root-dir"))
        .add(Option::text("root-dir", "ROOTDIR", "with --intermediate: the directory of the root CA that signs it"))
        .add(Option::text("root-passphrase-file", "FILE",
                          "with --intermediate: passphrase of ROOTDIR/ca.key, on the first line of FILE (or set "
                          "PKI_ROOT_PASSPHRASE)"))
        .add(Option::list("permit-dns", "SUFFIX", "with --intermediate: it may sign DNS names in SUFFIX (example.com)"))
        .add(Option::list("permit-uri", "HOST", "with --intermediate: it may sign URIs with this host (a SPIFFE trust domain)"))
        .add(Option::list("permit-ip", "CIDR", "with --intermediate: it may sign IP addresses in CIDR (10.0.0.0/8)"))
        .add(Option::flag("force", "replace an existing CA (all its certificates stop verifying)"))
        .add(Option::text("key-in", "URI",
                          "make the CA key in a token named by a pkcs11: URI (pkcs11:token=T;object=LABEL): P-256 unless "
                          "--key-type says ecdsa-p384, not extractable; no ca.key is written, ca.key.uri says where it is"))
        .add(Option::text("key", "URI", "use an existing key in a token (a pkcs11: URI) as the CA key"))
        .add(ca_key_options())
        .add(dir_option());
}

// The options that mean something only for an intermediate are refused without it, rather than
// silently making a root that ignores them.
void require_intermediate_for(const Args& args) {
    for (const char* name : {"root-dir", "root-passphrase-file", "permit-dns", "permit-uri", "permit-ip"})
        if (args.given(name)) throw InputError(std::string("--") + name + " needs --intermediate");
}

// The CA key of a root: made in a token (--key-in), a key already there (--key), or a file.
void read_token_key(const Args& args, CaInitOptions& options) {
    if (args.given("key-in") && args.given("key")) throw InputError("give --key-in (a new key) or --key (an existing one), not both");
    for (const char* name : {"key-in", "key"}) {
        if (!args.given(name)) continue;
        const std::string uri = args.text(name);
        if (!is_pkcs11_uri(uri)) throw InputError(std::string("--") + name + " takes a pkcs11: URI (a key in a token), not '" + uri + "'");
        if (!options.passphrase.empty())
            throw InputError(std::string("--") + name + ": a key in a token has a PIN (--pin-file), not a passphrase");
        (std::string(name) == "key" ? options.key_uri : options.key_in) = uri;
    }
    if (options.key_in.empty() && options.key_uri.empty())
        for (const char* name : {"pkcs11-module", "pin-file"})
            if (args.given(name)) throw InputError(std::string("--") + name + " is for a CA key in a token (--key-in or --key)");
}

void print_ca(const std::string& headline, const Certificate& cert, const CaDirectory& dir, bool encrypted,
              std::vector<std::pair<std::string, std::string>> extra, const std::string& token_uri = "") {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"certificate", dir.ca_cert()},
        token_uri.empty() ? std::make_pair(std::string("private key"), dir.ca_key() + (encrypted ? " (0600, encrypted)" : " (0600)"))
                          : std::make_pair(std::string("private key"), "in the token: " + token_uri + " (not extractable; named in " +
                                                                           dir.ca_key_uri() + ", no ca.key)"),
        {"trust bundle", dir.bundle()},
        {"path length", cert.path_length() ? std::to_string(*cert.path_length()) : "unlimited"},
        {"fingerprint", "sha256:" + cert.fingerprint_sha256()}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    print_summary(headline + " (" + cert.public_key_algorithm() + ", valid until " + date_of(cert.not_after()) + ")",
                  fields);
}

int run_init(const Args& args) {
    CaInitOptions options;
    options.common_name = args.text("cn");
    options.key_type = parse_key_type(args.text("key-type"));
    options.days = args.integer("days");
    options.path_len = static_cast<size_t>(args.integer("path-len"));
    options.crl_url = args.text("crl-url");
    options.force = args.flag("force");
    options.passphrase = passphrase(args);
    const CaDirectory dir = ca_directory(args);
    std::vector<std::pair<std::string, std::string>> extra;
    if (!options.crl_url.empty()) extra.push_back({"CRL URL", options.crl_url + " (in every certificate signed here)"});

    if (!args.flag("intermediate")) {
        require_intermediate_for(args);
        read_token_key(args, options);
        const auto cert = init_ca(dir, options);
        const std::string token_uri = options.key_in.empty() ? options.key_uri : options.key_in;
        print_ca("created CA '" + cert.common_name() + "' in " + dir.dir() + "/", cert, dir, !options.passphrase.empty(),
                 extra, token_uri.empty() ? "" : parse_pkcs11_uri(token_uri).without_pin);
        return kExitOk;
    }
    for (const char* name : {"key-in", "key", "pkcs11-module", "pin-file"})
        if (args.given(name)) throw InputError(std::string("--") + name + " makes a root CA's key in a token; not with --intermediate");
    if (!args.given("root-dir")) throw InputError("--intermediate needs --root-dir ROOTDIR (the root CA that signs it)");
    if (!args.given("cn")) options.common_name = kIntermediateName;
    if (!args.given("days")) options.days = kIntermediateDays;
    IntermediateInitOptions intermediate;
    intermediate.ca = options;
    intermediate.root_dir = args.text("root-dir");
    intermediate.root_passphrase = passphrase_from(args.text("root-passphrase-file"), "PKI_ROOT_PASSPHRASE");
    intermediate.permitted.dns = args.list("permit-dns");
    intermediate.permitted.uri_hosts = args.list("permit-uri");
    intermediate.permitted.ip_ranges = args.list("permit-ip");
    const auto made = init_intermediate_ca(dir, intermediate);
    for (const auto& note : made.notes) std::cerr << "pki: note: " << note << "\n";
    const std::string constraints = made.certificate.name_constraints();
    extra.insert(extra.begin(), {"signed by", "'" + made.root.common_name() + "' in " + intermediate.root_dir +
                                                  "/ (recorded there as '" + made.root_inventory_name + "')"});
    extra.push_back({"names", constraints.empty() ? "unconstrained" : constraints});
    print_ca("created intermediate CA '" + made.certificate.common_name() + "' in " + dir.dir() + "/", made.certificate,
             dir, !options.passphrase.empty(), extra);
    std::cout << "  the root key is not needed here any more: " << intermediate.root_dir << "/ca.key can go offline\n";
    return kExitOk;
}

}  // namespace

Command init_command() { return {"init", "create a root CA, or an intermediate signed by another directory's root", init_spec(), run_init}; }

}  // namespace mcpmtls::pki::cli
