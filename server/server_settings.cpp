#include "server/server_settings.hpp"

#include "common/error.hpp"
#include "pki/ca/ca_directory.hpp"
#include "server/ca_transport.hpp"
#include "server/crl_fetcher.hpp"
#include "tls/cert_dir.hpp"
#include "tls/pkcs11_key.hpp"
#include "tls/spiffe_id.hpp"

#include <tuple>

namespace mcpmtls::server {

ArgSpec server_settings(const ServerDescription& d) {
    const mcp::ServerOptions runtime;        // the MCP runtime's own defaults
    const tls::ServerTlsSettings tls;        // and the TLS layer's
    const pki::CaDirectory certs(pki::CaDirectory::kDefaultDir);  // the files `pki` and `make run-servers` write
    const long max_body = static_cast<long>(runtime.max_body_bytes);
    return ArgSpec(d.binary, d.title + " MCP server over mutual TLS (MCP Streamable HTTP at https://HOST:PORT/mcp).\n"
                             "Every client must present a certificate that the project's verifier accepts.\n"
                             "Exit codes: 0 stopped cleanly, 1 cannot start (port in use, TLS set-up), 2 usage or input error.")
        .add(Option::integer("port", "N", 0, 65535, "TCP port; 0 picks a free one").fallback(d.default_port).configurable())
        .add(Option::text("bind", "ADDR", "address to listen on").fallback("127.0.0.1").configurable())
        .add(Option::text("cert", "FILE", "server certificate chain").fallback(certs.leaf_cert(d.short_name)).configurable())
        .add(Option::text("key", "FILE", "server private key: a file, or a pkcs11: URI naming a key in a token "
                                         "(pkcs11:token=NAME;object=LABEL)")
                 .fallback(certs.leaf_key(d.short_name)).configurable())
        .add(tls::pkcs11_option_rows())
        .add(Option::text("ca", "FILE", "trust bundle for client certificates").fallback(certs.bundle()).configurable())
        .add(Option::text("crl", "FILE", "CRL to check client certificates against (default: ca.crl beside --ca, when present)")
                 .configurable())
        .add(Option::flag("relaxed", "DEMOS ONLY: accept self-signed, unknown-issuer or expired client certificates with a WARNING")
                 .configurable())
        .add(Option::list("allow-client", "ID",
                          "only admit clients whose CN, DNS SAN or URI SAN matches ID (a trailing * matches any suffix)")
                 .configurable())
        .add(Option::list("allow-trust-domain", "TD",
                          "only admit clients whose X.509-SVID names a SPIFFE ID in trust domain TD (with it, or an "
                          "--allow-client spiffe:// ID, a certificate with more than one URI SAN is refused)")
                 .configurable())
        .add(Option::text("cert-dir", "DIR",
                          "read the certificate, key and trust bundle from DIR as cert-manager (tls.crt, tls.key, ca.crt) "
                          "or spiffe-helper (svid.pem, svid_key.pem, svid_bundle.pem) keep them, instead of --cert and "
                          "--key; --ca may still name another bundle")
                 .configurable())
        .add(Option::text("metrics-bind", "ADDR:PORT",
                          "also listen on ADDR:PORT with plain HTTP for GET /metrics (Prometheus), /healthz and /readyz "
                          "only, never MCP")
                 .configurable())
        .add(Option::text("crl-url", "URL",
                          "fetch the CRL from this https:// URL (its server verified by --ca) every --crl-refresh "
                          "seconds, besides any --crl file")
                 .configurable())
        .add(Option::integer("crl-refresh", "SECONDS", 1, 86400, "how often --crl-url is fetched").fallback(300).configurable())
        .add(Option::text("crl-stale", "", "while the CRL is past its nextUpdate (or --crl-url has not answered yet): "
                                           "refuse new handshakes (fail-closed) or admit clients without revocation "
                                           "checks (fail-open)")
                 .one_of({"fail-closed", "fail-open"})
                 .fallback("fail-closed")
                 .configurable())
        .add(Option::text("renew-from", "URL",
                          "renew our certificate from the online CA at this https:// URL (pki serve) at about two "
                          "thirds of its lifetime, over mutual TLS with the current one; the certificate and key files "
                          "(and with --cert-dir its trust bundle) are replaced and reloaded")
                 .configurable())
        .add(Option::list("allow-host", "NAME", "extra Host/Origin name accepted besides localhost, 127.0.0.1, [::1]").configurable())
        .add(Option::text("log-format", "", "log format").one_of({"text", "json"}).fallback("text").configurable())
        .config_file("JSON file with the same settings (flags win)")
        .add(Option::integer("max-connections", "N", 1, 4096,
                             "connections served at once, one worker thread each; a connection beyond them waits while "
                             "an unfinished handshake or the longest-idle keep-alive connection is closed")
                 .fallback(1024).alias("threads").configurable())
        .add(Option::integer("max-body", "BYTES", 1024, 64L * 1024 * 1024, "largest request body").fallback(max_body).configurable())
        .add(Option::integer("expiry-warning-days", "N", 0, 3650, "warn when our certificate or a trusted CA expires within N days")
                 .fallback(std::chrono::duration_cast<std::chrono::hours>(tls.expiry_warning).count() / 24)
                 .configurable())
        .add(Option::integer("reload-interval", "SECONDS", 1, 3600, "how often watched files are checked for changes")
                 .fallback(2).configurable())
        .add(Option::integer("keep-alive-timeout", "SECONDS", 1, 3600,
                             "close a connection idle this long between requests (an idle connection holds a worker "
                             "that polls it; a client reconnects cheaply by resuming its TLS session)")
                 .fallback(5).configurable())
        .add(Option::integer("handshake-timeout", "SECONDS", 1, 300,
                             "close a connection whose TLS handshake has not completed within this time")
                 .fallback(static_cast<long>(ConnectionGovernor::Limits{}.handshake_timeout.count() / 1000))
                 .configurable())
        .add(Option::integer("max-handshakes-per-source", "N", 1, 100000,
                             "silent TLS handshakes (connected, no ClientHello byte after 250 ms) one source address may "
                             "hold; beyond it the oldest of that address are closed")
                 .fallback(static_cast<long>(ConnectionGovernor::Limits{}.max_handshakes_per_source))
                 .configurable())
        .add(Option::integer("sse-heartbeat", "SECONDS", 1, 3600,
                             "send a comment on an event stream idle this long, so that proxies and load balancers "
                             "with idle timeouts keep it open")
                 .fallback(static_cast<long>(runtime.sse_heartbeat.count())).configurable())
        .add(Option::integer("max-sessions", "N", 1, 10000000,
                             "most 2025-era MCP sessions at once; when full, the identity holding the most gives way to "
                             "one holding fewer, and only a table shared evenly answers initialize with 503")
                 .fallback(static_cast<long>(runtime.max_sessions)).configurable())
        .add(Option::integer("max-sessions-per-client", "N", 1, 10000000,
                             "most sessions one client identity may hold; at it, initialize ends that identity's least "
                             "recently used session (which then answers 404), so a client that never ends its sessions "
                             "locks out only itself")
                 .fallback(static_cast<long>(runtime.max_sessions_per_client)).configurable())
        .add(Option::integer("session-idle-timeout", "SECONDS", 1, 604800,
                             "end a session unused this long (its next request gets 404, and the client initializes again)")
                 .fallback(static_cast<long>(runtime.session_idle_timeout.count())).configurable())
        .add(Option::integer("rate-limit", "N", 0, 1000000,
                             "requests per second allowed per client identity; beyond it 429 with Retry-After (0: unlimited)")
                 .fallback(0).configurable())
        .add(Option::integer("rate-burst", "N", 0, 1000000,
                             "requests a client may send at once before --rate-limit applies (0: twice the rate)")
                 .fallback(0).configurable())
        .add(Option::text("state-key-file", "FILE",
                          "32-byte key sealing the requestState of MCP 2026-07-28 multi-round calls; give every replica "
                          "the same file (default: a random key per process, so such a call must return to its replica)")
                 .configurable())
        .add(Option::json("authorization", "[{\"clients\": [ID...], \"tools\": [TOOL...], \"scopes\": [SCOPE...]}, ...] which "
                                           "clients may list and call which tools (* suffix wildcards; spiffe://TD: any SPIFFE ID "
                                           "in TD), and which OAuth token scopes the tools need (a rule without clients: for all)"))
        .add(oauth_option_rows())
        .add(Option::flag("verbose", "debug logging"))
        .version_flag();
}

namespace {

// --cert and --key, or --cert-dir (which names the trust bundle too, unless --ca is given).
void resolve_credential_files(const Args& args, tls::ServerFiles& files) {
    files.cert_path = args.text("cert");
    files.key_path = args.text("key");
    files.ca_path = args.text("ca");
    if (!args.given("cert-dir")) return;
    if (args.given("cert") || args.given("key")) throw InputError("--cert-dir replaces --cert and --key: give one or the other");
    const auto dir = tls::find_cert_directory(args.text("cert-dir"));
    files.cert_path = dir.cert_path;
    files.key_path = dir.key_path;
    if (args.given("ca")) return;
    if (dir.ca_path.empty())
        throw InputError(args.text("cert-dir") + " holds no trust bundle (" + (dir.layout == "cert-manager" ? "ca.crt" : "svid_bundle.pem") +
                         "): give --ca");
    files.ca_path = dir.ca_path;
}

// "ADDR:PORT" or "[v6]:PORT".
std::pair<std::string, int> parse_bind_address(const std::string& text) {
    const auto colon = text.rfind(':');
    std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535)
        throw InputError("--metrics-bind takes ADDR:PORT (such as 0.0.0.0:9090 or [::]:9090), not '" + text + "'");
    return {host, std::stoi(port)};
}

// The authorization rules name clients as --allow-client does: the same SPIFFE checks.
void check_authorization_clients(const nlohmann::json& rules) {
    if (!rules.is_array()) return;  // ToolPolicy::from_json says what is wrong with it
    for (const auto& rule : rules)
        if (rule.is_object() && rule.contains("clients") && rule["clients"].is_array())
            for (const auto& client : rule["clients"])
                if (client.is_string()) tls::check_identity_pattern(client.get<std::string>());
}

}  // namespace

ServerConfig resolve_server_config(const ServerDescription& d, const Args& args) {
    ServerConfig config;
    config.port = static_cast<int>(args.integer("port"));
    config.bind = args.text("bind");
    auto& files = config.tls.files;
    resolve_credential_files(args, files);
    files.pkcs11 = tls::pkcs11_options_of(args, files.key_path);
    files.crl_path = args.text("crl");
    if (files.crl_path.empty()) {
        // The CRL that `pki revoke` writes next to the trust bundle, picked up when it appears.
        const auto slash = files.ca_path.find_last_of('/');
        files.crl_path = pki::CaDirectory(slash == std::string::npos ? "." : files.ca_path.substr(0, slash)).crl();
        files.crl_optional = true;
    }
    config.tls.clients.relaxed = args.flag("relaxed");
    config.tls.clients.allowed_clients = args.list("allow-client");
    for (const auto& pattern : config.tls.clients.allowed_clients) tls::check_identity_pattern(pattern);
    for (const auto& domain : args.list("allow-trust-domain"))
        config.tls.clients.allowed_trust_domains.push_back(tls::parse_trust_domain(domain));
    config.tls.clients.stale_crl = args.text("crl-stale") == "fail-open" ? tls::StaleCrl::fail_open : tls::StaleCrl::fail_closed;
    if (args.given("crl-url")) {
        files.crl_url = args.text("crl-url");
        parse_https_url(files.crl_url);
    }
    config.crl_refresh = std::chrono::seconds(args.integer("crl-refresh"));
    if (args.given("renew-from")) {
        config.renew_from = args.text("renew-from");
        check_ca_url(config.renew_from);
        // The bundle of a --cert-dir is the CA's to keep current; a --ca file may be shared (the
        // CA directory's own ca-bundle.crt) and is left alone.
        const bool own_bundle = args.given("cert-dir") && !args.given("ca");
        config.renewal_paths = {files.cert_path, files.key_path, own_bundle ? files.ca_path : ""};
        // The server's renewal transport is not proven with a token key yet (client renew is).
        if (tls::is_pkcs11_uri(files.key_path))
            throw InputError("--renew-from needs a key file on a server: a key in a token cannot be replaced by a renewal here");
        tls::check_replaceable(config.renewal_paths, "--renew-from");
    }
    if (args.given("metrics-bind")) std::tie(config.metrics_address, config.metrics_port) = parse_bind_address(args.text("metrics-bind"));
    config.tls.expiry_warning = std::chrono::hours(24) * args.integer("expiry-warning-days");

    auto& runtime = config.runtime;
    runtime.name = d.binary;
    runtime.title = d.title;
    runtime.instructions = d.instructions;
    runtime.sse_heartbeat = std::chrono::seconds(args.integer("sse-heartbeat"));
    runtime.allowed_hosts = args.list("allow-host");
    runtime.max_body_bytes = static_cast<size_t>(args.integer("max-body"));
    runtime.max_sessions = static_cast<size_t>(args.integer("max-sessions"));
    runtime.max_sessions_per_client = static_cast<size_t>(args.integer("max-sessions-per-client"));
    runtime.session_idle_timeout = std::chrono::seconds(args.integer("session-idle-timeout"));
    runtime.rate_limit = static_cast<double>(args.integer("rate-limit"));
    runtime.rate_burst = static_cast<double>(args.integer("rate-burst"));
    if (runtime.rate_burst > 0 && runtime.rate_limit == 0) throw InputError("--rate-burst needs --rate-limit");
    if (args.given("state-key-file"))
        runtime.state_key = std::make_shared<const pki::SealedBox::Key>(pki::SealedBox::load_key(args.text("state-key-file")));
    if (!args.json("authorization").is_null()) {
        check_authorization_clients(args.json("authorization"));
        runtime.policy = mcp::ToolPolicy::from_json(args.json("authorization"));
    }

    config.oauth = oauth_config_of(args);
    if (!config.oauth.settings.enabled() && !runtime.policy.scopes().empty())
        throw InputError("the authorization rules name token scopes, which need --oauth-issuer");

    config.connections.max_connections = static_cast<size_t>(args.integer("max-connections"));
    config.connections.limits.handshake_timeout = std::chrono::seconds(args.integer("handshake-timeout"));
    config.connections.limits.max_handshakes_per_source = static_cast<size_t>(args.integer("max-handshakes-per-source"));
    config.keep_alive_timeout = std::chrono::seconds(args.integer("keep-alive-timeout"));
    config.connections.limits.keep_alive_timeout = config.keep_alive_timeout;
    config.reload_interval = std::chrono::seconds(args.integer("reload-interval"));
    config.log_format = parse_log_format(args.text("log-format"));
    config.verbose = args.flag("verbose");
    return config;
}

}  // namespace mcpmtls::server
