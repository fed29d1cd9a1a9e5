// client renew: one renewal of our certificate from `pki serve`, over mutual TLS with the
// certificate being renewed (docs/enrollment.md). Also the --renew-from of the other commands:
// a one-shot command renews first if its certificate is past its renewal time, and the bridge
// renews on a thread of its own for as long as it runs.
#include "client/ca_client.hpp"
#include "client/cli/commands.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "tls/cert_dir.hpp"
#include "tls/pkcs11_key.hpp"

#include <iostream>

namespace mcpmtls::client::cli {
namespace {

struct RenewalTarget {
    tls::CredentialPaths paths;
    tls::ClientTlsSettings tls;  // presents paths' certificate, judges the CA with the bundle
};

// client renew: --out-dir (or --cert-dir, or the enrollment default) in either --cert-dir layout;
// --cert and --key when they are given without a directory. --ca names another bundle to judge
// the CA with, and is then not rewritten.
RenewalTarget renew_target(const Args& args) {
    RenewalTarget target;
    const bool files = (args.given("cert") || args.given("key")) && !args.given("out-dir") && !args.given("cert-dir");
    if (files) {
        target.paths = {args.text("cert"), args.text("key"), ""};
        target.tls.ca_path = args.text("ca");
    } else {
        const auto dir = tls::find_cert_directory(enrollment_directory(args));
        target.paths = {dir.cert_path, dir.key_path, args.given("ca") ? "" : dir.ca_path};
        target.tls.ca_path = args.given("ca") ? args.text("ca") : dir.ca_path;
    }
    if (target.tls.ca_path.empty()) throw InputError("no trust bundle to verify the CA with: give --ca FILE");
    target.tls.cert_path = target.paths.cert_path;
    target.tls.key_path = target.paths.key_path;
    target.tls.pkcs11 = tls::pkcs11_options_of(args, target.paths.key_path);
    return target;
}

int renew(const Args& args) {
    setup_logging(parse_log_format(args.text("log-format")), args.flag("verbose") ? spdlog::level::debug : spdlog::level::info);
    const Url ca = parse_ca_url(args.text("ca-url"), "--ca-url");
    const RenewalTarget target = renew_target(args);
    const tls::Issued issued = tls::renew_credentials(target.paths, renewal_post(ca, target.tls, Timeouts{}));
    if (tls::is_pkcs11_uri(target.paths.key_path)) std::cout << "kept the key in the token: " << target.paths.key_path << "\n";
    else std::cout << "wrote " << target.paths.key_path << " (new private key, 0600)\n";
    std::cout << "wrote " << target.paths.cert_path << " (" << issued.kind << " " << issued.name << ", serial "
              << issued.serial << ", valid until " << format_rfc3339(issued.not_after) << ")\n";
    if (!target.paths.roots_path.empty())
        std::cout << "wrote " << target.paths.roots_path << " (trust bundle of " << ca.host_header() << ")\n";
    return kExitOk;
}

}  // namespace

std::unique_ptr<tls::BackgroundRenewal> client_renewal(const Args& args, const tls::ClientTlsSettings& settings) {
    if (!args.given("renew-from")) return nullptr;
    const Url ca = parse_ca_url(args.text("renew-from"), "--renew-from");
    // The --cert-dir bundle is the CA's to keep current; a --ca file may be shared and is left alone.
    const tls::CredentialPaths paths = renewal_paths(settings, args.given("cert-dir") && !args.given("ca"));
    tls::check_replaceable(paths, "--renew-from");
    return std::make_unique<tls::BackgroundRenewal>(paths, args.text("renew-from"), renewal_post(ca, settings, Timeouts{}));
}

Command renew_command() {
    return {"renew", "renew our certificate from `pki serve` over mutual TLS, with a new key",
            ArgSpec("client renew",
                    "Makes a new key of the same type, sends a certificate signing request to the online CA at --ca-url "
                    "over mutual TLS with the current certificate, and replaces the certificate, key (0600) and trust "
                    "bundle atomically. The certificate is read from --out-dir (either --cert-dir layout; default: --cert-dir, "
                    "else where `client enroll` writes), or from --cert and --key. Nothing is written unless the CA issued. "
                    "Exit codes: 0 renewed, 1 the CA refused or the certificate cannot renew itself (expired, revoked), "
                    "2 usage error, 3 TLS verification of the CA failed.")
                .add(Option::text("ca-url", "URL", "the online CA (pki serve), https://HOST:PORT").required())
                .add(Option::text("out-dir", "DIR", "the folder holding the certificate to renew (default: --cert-dir, else "
                                                    "$XDG_CONFIG_HOME/mcp-mtls/client)")),
            renew};
}

}  // namespace mcpmtls::client::cli
