#include "client/cli.hpp"

#include "client/cli/commands.hpp"
#include "client/oauth.hpp"
#include "common/log.hpp"
#include "pki/ca/ca_directory.hpp"
#include "tls/cert_dir.hpp"
#include "tls/pkcs11_key.hpp"

#include <csignal>
#include <unistd.h>

namespace mcpmtls::client::cli {

std::vector<Option> global_options() {
    const pki::CaDirectory certs(pki::CaDirectory::kDefaultDir);  // what `make run-servers` creates
    const Timeouts timeouts;
    std::vector<Option> options = {
        Option::flag("strict", "verify servers fully: chain, validity, serverAuth, host name (the default)"),
        Option::flag("relaxed", "DEMOS ONLY: accept self-signed/unknown-issuer, expired or misnamed servers with a WARNING"),
        Option::text("mode", "", "how servers are verified (--strict and --relaxed say the same)")
            .one_of({"strict", "relaxed"})
            .fallback("strict")
            .configurable(),
        Option::text("pin", "sha256:HEX", "trust exactly this server certificate fingerprint, whoever issued it").configurable(),
        Option::text("ca", "FILE", "trust bundle").fallback(certs.bundle()).configurable(),
        Option::text("cert", "FILE", "our client certificate").fallback(certs.leaf_cert("coordinator")).configurable(),
        Option::text("key", "FILE", "our client key: a file, or a pkcs11: URI naming a key in a token "
                                    "(pkcs11:token=NAME;object=LABEL)")
            .fallback(certs.leaf_key("coordinator"))
            .configurable(),
        Option::text("crl", "FILE", "CRL to check server certificates against").configurable(),
        Option::text("cert-dir", "DIR",
                     "read our certificate, key and trust bundle from DIR as cert-manager (tls.crt, tls.key, ca.crt) or "
                     "spiffe-helper (svid.pem, svid_key.pem, svid_bundle.pem) keep them; --ca may still name another bundle")
            .configurable(),
        Option::text("renew-from", "URL",
                     "renew our certificate from the online CA at this https:// URL (pki serve) once it is past two "
                     "thirds of its lifetime: before a command runs, and in the background for the bridge")
            .configurable(),
        Option::list("server", "NAME=URL", "a server to use; only these are used when given (NAME alone selects one)"),
        Option::json("servers", "{\"NAME\": \"https://HOST:PORT/mcp\", ...} the servers to use"),
        Option::flag("allow-http", "allow plain http:// URLs (local protocol tests only)"),
        Option::text("elicit", "", "how to answer a server that asks the user for input: accept with the schema's defaults, "
                                   "decline, or ask on the terminal (default: ask on a terminal, else decline)")
            .one_of({"defaults", "decline", "ask"})
            .configurable(),
        Option::text("protocol-version", "", "the MCP protocol version to speak: auto is the newest the server's "
                                             "server/discover offers, else the 2025 initialize handshake")
            .one_of(protocol_version_choices())
            .fallback("auto")
            .configurable(),
        Option::list("root", "DIR", "a directory offered to servers as a root (file:// URI)"),
        Option::flag("json", "print JSON"),
        Option::integer("timeout", "SECONDS", 1, 3600, "read timeout; connecting waits at most 10 s of it")
            .fallback(static_cast<long>(timeouts.io.count() / 1000))
            .configurable(),
        Option::text("log-format", "", "log format on stderr").one_of({"text", "json"}).fallback("text").configurable(),
        Option::flag("verbose", "debug logging, including every handshake verdict"),
        Option::flag("version", "print the version"),
    };
    const auto rows = tls::pkcs11_option_rows();
    const auto key = std::find_if(options.begin(), options.end(), [](const Option& o) { return o.name() == "key"; });
    options.insert(key + 1, rows.begin(), rows.end());
    const auto oauth_rows = oauth::option_rows();
    const auto json_flag = std::find_if(options.begin(), options.end(), [](const Option& o) { return o.name() == "json"; });
    options.insert(json_flag, oauth_rows.begin(), oauth_rows.end());
    return options;
}

namespace {

// --server NAME=URL adds a server; --server URL adds one named after its host; --server NAME
// selects one of the configured (or default) servers.
std::vector<ServerEndpoint> servers_of(const Args& args) {
    std::vector<ServerEndpoint> servers;
    std::vector<std::string> selected;
    for (const auto& spec : args.list("server")) {
        const auto eq = spec.find('=');
        const auto scheme = spec.find("://");
        if (eq != std::string::npos && (scheme == std::string::npos || eq < scheme)) {
            if (eq == 0) throw InputError("--server takes NAME=URL, not '" + spec + "'");
            servers.push_back({spec.substr(0, eq), Url::parse(spec.substr(eq + 1))});
        } else if (scheme != std::string::npos) {
            Url url = Url::parse(spec);
            servers.push_back({url.host + ":" + std::to_string(url.port), url});
        } else {
            selected.push_back(spec);
        }
    }
    const nlohmann::json& configured = args.json("servers");
    if (servers.empty() && !configured.is_null()) {
        if (!configured.is_object()) throw InputError("config 'servers' must map names to URLs");
        for (auto it = configured.begin(); it != configured.end(); ++it) {
            if (!it.value().is_string()) throw InputError("config 'servers': '" + it.key() + "' must be a URL string");
            servers.push_back({it.key(), Url::parse(it.value().get<std::string>())});
        }
    }
    if (servers.empty()) servers = default_servers();
    if (selected.empty()) return servers;
    std::vector<ServerEndpoint> chosen;
    for (const auto& name : selected) {
        auto it = std::find_if(servers.begin(), servers.end(), [&](const ServerEndpoint& s) { return s.name == name; });
        if (it == servers.end()) throw InputError("unknown server '" + name + "' (give NAME=URL to add one)");
        chosen.push_back(*it);
    }
    return chosen;
}

}  // namespace

CoordinatorOptions coordinator_options(const Args& args) {
    setup_logging(parse_log_format(args.text("log-format")), args.flag("verbose") ? spdlog::level::debug : spdlog::level::info);
    CoordinatorOptions options;
    options.tls.ca_path = args.text("ca");
    options.tls.cert_path = args.text("cert");
    options.tls.key_path = args.text("key");
    options.tls.crl_path = args.text("crl");
    if (args.given("cert-dir")) {
        if (args.given("cert") || args.given("key")) throw InputError("--cert-dir replaces --cert and --key: give one or the other");
        const auto dir = tls::find_cert_directory(args.text("cert-dir"));
        options.tls.cert_path = dir.cert_path;
        options.tls.key_path = dir.key_path;
        if (!args.given("ca")) options.tls.ca_path = dir.ca_path;  // empty: strict mode then asks for --ca
    }
    options.tls.pkcs11 = tls::pkcs11_options_of(args, options.tls.key_path);
    if (args.flag("strict") && args.flag("relaxed")) throw InputError("--strict and --relaxed exclude each other");
    const std::string mode = args.flag("relaxed") ? "relaxed" : args.flag("strict") ? "strict" : args.text("mode");
    options.tls.mode = mode == "relaxed" ? tls::ServerCheckMode::relaxed : tls::ServerCheckMode::strict;
    if (args.given("pin")) options.tls.pin_sha256 = tls::parse_pin(args.text("pin"));
    options.allow_http = args.flag("allow-http");
    if (args.given("elicit")) options.elicit = parse_elicit_mode(args.text("elicit"));
    else options.elicit = isatty(STDIN_FILENO) ? ElicitMode::ask : ElicitMode::decline;
    if (args.given("timeout")) {
        const long seconds = args.integer("timeout");
        options.timeouts.connect = std::chrono::milliseconds(std::min<long>(seconds, 10) * 1000);
        options.timeouts.io = std::chrono::milliseconds(seconds * 1000);
    }
    options.protocol = VersionChoice::parse(args.text("protocol-version"));
    if (!args.list("root").empty()) options.roots = roots_of(args.list("root"));
    options.servers = servers_of(args);
    // Every connection from here on answers a server's OAuth challenge (client/oauth).
    oauth::install(oauth::settings_of(args), options.tls, options.timeouts);
    return options;
}

CommandRegistry registry() {
    CommandRegistry::Settings settings;
    settings.program = "client";
    settings.description =
        "The mcp-mtls coordinator: talks to MCP servers over mutual TLS.\n\n"
        "With no --server or --config, the three servers of `make run-servers` are used with the\n"
        "certificates in certs/.";
    settings.epilogue =
        "Exit codes: 0 success, 1 a server unreachable or a server or tool failed, 2 usage or argument error, "
        "3 TLS/certificate verification failed.";
    settings.global = global_options();
    settings.global_config_file = true;
    settings.config_help = "JSON file with the global settings (flags win)";
    settings.name_command_in_errors = false;
    return CommandRegistry(std::move(settings), {tools_command(), call_command(), ask_command(), check_command(), bench_command(),
                                                      bridge_command(), enroll_command(), renew_command(), token_command()});
}

}  // namespace mcpmtls::client::cli

namespace mcpmtls::client {

int run_client(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    return cli::registry().main(std::vector<std::string>(argv + 1, argv + argc));
}

}  // namespace mcpmtls::client
