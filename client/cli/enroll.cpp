// client enroll: a key made here, a certificate from `pki serve` for a one-time token, written in
// the --cert-dir layout (tls.crt, tls.key, ca.crt).
//
// The CA's certificate is not trusted yet when a machine enrolls, and the token must not go to
// whoever answers at the URL. So the CA is judged strictly, as every server is, against --ca
// FILE, or against the root that /v1/roots names and that --fingerprint sha256:HEX pins (as
// step's `--fingerprint`). With neither, nothing is sent: the roots the URL offers are printed
// with their fingerprints and a WARNING to compare them with the CA operator's, and the command
// stops (exit 2). There is no silent trust on first use.
#include "client/ca_client.hpp"
#include "client/cli/commands.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "tls/cert_dir.hpp"
#include "tls/client_context.hpp"
#include "tls/pkcs11_key.hpp"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <unistd.h>

namespace mcpmtls::client::cli {
namespace {

pki::KeyType enroll_key_type(const std::string& name) {
    if (name == "ec") return pki::KeyType::ecdsa_p256;
    if (name == "ed25519") return pki::KeyType::ed25519;
    return pki::KeyType::rsa_3072;
}

// A file that exists only while enrollment needs it (the pinned root, as the trust bundle of
// the connection that carries the token).
class TemporaryFile {
public:
    explicit TemporaryFile(const std::string& content) {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mcp-mtls-enroll-XXXXXX";
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        const int fd = ::mkstemp(name.data());
        if (fd < 0) throw OperationError("cannot create a temporary file in " + pattern.substr(0, pattern.rfind('/')));
        ::close(fd);
        path_ = name.data();
        write_file_atomic(path_, content, 0600);
    }
    ~TemporaryFile() { ::unlink(path_.c_str()); }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string describe_roots(const std::vector<pki::Certificate>& roots) {
    std::string text;
    for (const auto& root : roots)
        text += "  " + root.subject() + "  sha256:" + root.fingerprint_sha256() + "\n";
    return text;
}

// The root of `roots` whose fingerprint is `pin`; ConnectionError (exit 3) when none is.
pki::Certificate pinned_root(const std::vector<pki::Certificate>& roots, const std::string& pin, const Url& ca) {
    for (const auto& root : roots)
        if (root.fingerprint_sha256() == pin) return root;
    std::string offered;
    for (const auto& root : roots) offered += (offered.empty() ? "" : ", ") + ("sha256:" + root.fingerprint_sha256());
    throw ConnectionError(FailureKind::tls_server_rejected_by_us,
                          "no root offered by " + ca.to_string() + " has the fingerprint sha256:" + pin + " given by --fingerprint (it offers " +
                              offered + "): this is not the CA you meant; the token was not sent");
}

[[noreturn]] void refuse_unpinned(const Url& ca, Timeouts timeouts) {
    std::vector<pki::Certificate> roots;
    try {
        roots = fetch_roots_unverified(ca, timeouts);
    } catch (const std::exception& e) {
        throw InputError(std::string("the CA is not trusted yet: give --ca FILE or --fingerprint sha256:HEX (and its "
                                     "roots could not be fetched either: ") +
                         e.what() + ")");
    }
    std::cerr << "WARNING: the CA at " << ca.to_string() << " is NOT VERIFIED: nothing was sent to it.\n"
              << "It offers these roots (UNVERIFIED: anyone at that address could offer these):\n"
              << describe_roots(roots)
              << "Compare the fingerprint with the one the CA's operator reads on the CA host (pki inspect certs/ca.crt),\n"
              << "then run again with --fingerprint sha256:HEX (or --ca FILE with the CA's root certificate).\n";
    throw InputError("the CA at " + ca.to_string() + " is not trusted yet: give --fingerprint sha256:HEX or --ca FILE");
}

int enroll(const Args& args) {
    setup_logging(parse_log_format(args.text("log-format")), args.flag("verbose") ? spdlog::level::debug : spdlog::level::info);
    const Url ca = parse_ca_url(args.text("ca-url"), "--ca-url");
    const std::string token = trim(args.text("token"));
    if (token.empty()) throw InputError("--token is empty (pki token prints one on the CA host)");
    if (args.given("fingerprint") && args.given("ca")) throw InputError("--fingerprint and --ca exclude each other: give one");
    Timeouts timeouts;
    timeouts.io = std::chrono::seconds(30);
    const std::string out_dir = enrollment_directory(args);
    const tls::CredentialPaths paths = tls::cert_dir_paths(out_dir);
    const std::string key_uri = args.given("key") ? args.text("key") : "";
    if (!key_uri.empty() && !tls::is_pkcs11_uri(key_uri))
        throw InputError("enroll makes its key: --key may only name where, in a token (pkcs11:token=T;object=LABEL), not the file " + key_uri);
    const auto pkcs11 = tls::pkcs11_options_of(args, key_uri.empty() ? paths.key_path : key_uri);
    if (!key_uri.empty() && args.given("key-type") && args.text("key-type") != "ec")
        throw InputError("a key made in a token is ec (P-256), not " + args.text("key-type"));
    const std::string key_reference = tls::token_key_reference(paths.key_path);
    if (!args.flag("force"))
        for (const auto* existing : {&paths.cert_path, &paths.key_path, &key_reference})
            if (file_exists(*existing))
                throw InputError(*existing + " exists: renew it (client renew), or give --force to replace it with a new enrollment");

    // Which CA may receive the token.
    std::unique_ptr<TemporaryFile> pinned;
    std::string trust_path;
    if (args.given("fingerprint")) {
        const std::string pin = tls::parse_pin(args.text("fingerprint"));
        pinned = std::make_unique<TemporaryFile>(pinned_root(fetch_roots_unverified(ca, timeouts), pin, ca).pem());
        trust_path = pinned->path();
    } else if (args.given("ca")) {
        trust_path = args.text("ca");
    } else {
        refuse_unpinned(ca, timeouts);
    }
    tls::ClientTlsSettings settings;
    settings.ca_path = trust_path;
    settings.present_certificate = false;
    settings.mode = tls::ServerCheckMode::strict;
    const auto context = std::make_shared<const tls::ClientTlsContext>(settings);

    // The folder only when the CA issued: a refusal leaves nothing behind.
    const bool created = !file_exists(out_dir);
    make_directories(out_dir, 0700);
    tls::Issued issued;
    std::optional<pki::PrivateKey> key;
    try {
        key = key_uri.empty() ? pki::PrivateKey::generate(enroll_key_type(args.text("key-type")))
                              : pki::PrivateKey::generate_in_token(key_uri, pkcs11, pki::KeyType::ecdsa_p256);
        issued = tls::enroll_credentials(paths, *key, token, ca_post(ca, [context] { return context; }, timeouts));
    } catch (...) {
        if (key) key->discard_from_token();
        if (created) ::rmdir(out_dir.c_str());
        throw;
    }
    if (key->token_uri().empty()) std::cout << "wrote " << paths.key_path << " (private key, 0600)\n";
    else std::cout << "made the key in the token: " << key->token_uri() << " (not extractable; named in " << key_reference << ")\n";
    std::cout
              << "wrote " << paths.cert_path << " (" << issued.kind << " " << issued.name << ", serial " << issued.serial
              << ", valid until " << format_rfc3339(issued.not_after) << ")\n"
              << "wrote " << paths.roots_path << " (trust bundle of " << ca.host_header() << ")\n";
    return kExitOk;
}

}  // namespace

std::string default_enrollment_directory() {
    const char* config = std::getenv("XDG_CONFIG_HOME");
    if (config && *config) return std::string(config) + "/mcp-mtls/client";
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + "/.config/mcp-mtls/client";
    return "certs/client";
}

std::string enrollment_directory(const Args& args) {
    if (args.given("out-dir")) return args.text("out-dir");
    if (args.given("cert-dir")) return args.text("cert-dir");
    return default_enrollment_directory();
}

Command enroll_command() {
    return {"enroll", "get our first certificate from `pki serve` with a one-time token; the key is made here",
            ArgSpec("client enroll",
                    "Makes a key here, sends a certificate signing request with TOKEN (from `pki token` on the CA host) to "
                    "the online CA at --ca-url, and writes tls.key (0600), tls.crt and ca.crt into --out-dir, the --cert-dir "
                    "layout. With --key pkcs11:token=T;object=LABEL the key is made in that token (P-256, not extractable) "
                    "and tls.key.uri names it instead of tls.key; --cert-dir reads either. The CA is verified before the token is sent: by --ca FILE, or by --fingerprint (the SHA-256 of "
                    "its root, as `pki inspect certs/ca.crt` shows it on the CA host); with neither, the roots it offers "
                    "are printed with a WARNING and nothing is sent. Exit codes: 0 enrolled, 1 the CA refused (its message "
                    "is shown), 2 usage error or CA not trusted yet, 3 TLS verification of the CA failed.")
                .add(Option::text("ca-url", "URL", "the online CA (pki serve), https://HOST:PORT").required())
                .add(Option::text("token", "TOKEN", "the one-time enrollment token from `pki token`").required())
                .add(Option::text("key-type", "", "the key to make here").one_of({"ec", "ed25519", "rsa"}).fallback("ec"))
                .add(Option::text("out-dir", "DIR", "where to write tls.crt, tls.key and ca.crt (default: --cert-dir, else "
                                                    "$XDG_CONFIG_HOME/mcp-mtls/client)"))
                .add(Option::text("fingerprint", "sha256:HEX",
                                  "trust the CA whose root certificate has this SHA-256 fingerprint (checked against the "
                                  "roots the CA offers, before the token is sent)"))
                .add(Option::flag("force", "replace the certificate and key already in --out-dir")),
            enroll};
}

}  // namespace mcpmtls::client::cli
