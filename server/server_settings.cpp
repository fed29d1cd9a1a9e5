#include "server/server_settings.hpp"

#include "common/error.hpp"
#include "pki/ca_directory.hpp"

namespace mcpmtls::server {

ArgSpec server_settings(const ServerDescription& d) {
    const mcp::ServerOptions runtime;        // the MCP runtime's own defaults
    const tls::ServerTlsSettings tls;        // and the TLS layer's
    const pki::CaDirectory certs(pki::CaDirectory::kDefaultDir);  // the files `pki` and `make run-servers` write
    const long max_body = static_cast<long>(runtime.max_body_bytes);
    return ArgSpec(d.binary, d.title + " MCP server over mutual TLS (MCP Streamable HTTP at https://HOST:PORT/mcp).\n"
                             "Every client must present a certificate that the project's verifier accepts.")
        .add(Option::integer("port", "N", 0, 65535, "TCP port; 0 picks a free one").fallback(d.default_port).configurable())
        .add(Option::text("bind", "ADDR", "address to listen on").fallback("127.0.0.1").configurable())
        .add(Option::text("cert", "FILE", "server certificate chain").fallback(certs.leaf_cert(d.short_name)).configurable())
        .add(Option::text("key", "FILE", "server private key").fallback(certs.leaf_key(d.short_name)).configurable())
        .add(Option::text("ca", "FILE", "trust bundle for client certificates").fallback(certs.bundle()).configurable())
        .add(Option::text("crl", "FILE", "CRL to check client certificates against (default: ca.crl beside --ca, when present)")
                 .configurable())
        .add(Option::flag("relaxed", "DEMOS ONLY: accept self-signed, unknown-issuer or expired client certificates with a WARNING")
                 .configurable())
        .add(Option::list("allow-client", "ID",
                          "only admit clients whose CN, DNS SAN or URI SAN matches ID (a trailing * matches any suffix)")
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
                             "silent TLS handshakes (connected, no ClientHello byte yet) one source address may hold; "
                             "a new one beyond it closes the oldest of that address")
                 .fallback(static_cast<long>(ConnectionGovernor::Limits{}.max_handshakes_per_source))
                 .configurable())
        .add(Option::integer("sse-heartbeat", "SECONDS", 1, 3600,
                             "send a comment on an event stream idle this long, so that proxies and load balancers "
                             "with idle timeouts keep it open")
                 .fallback(static_cast<long>(runtime.sse_heartbeat.count())).configurable())
        .add(Option::integer("max-sessions", "N", 1, 10000000, "most MCP sessions at once; beyond it initialize gets 503")
                 .fallback(static_cast<long>(runtime.max_sessions)).configurable())
        .add(Option::integer("rate-limit", "N", 0, 1000000,
                             "requests per second allowed per client identity; beyond it 429 with Retry-After (0: unlimited)")
                 .fallback(0).configurable())
        .add(Option::integer("rate-burst", "N", 0, 1000000,
                             "requests a client may send at once before --rate-limit applies (0: twice the rate)")
                 .fallback(0).configurable())
        .add(Option::json("authorization", "[{\"clients\": [ID...], \"tools\": [TOOL...]}, ...] which clients may list and "
                                           "call which tools (* suffix wildcards)"))
        .add(Option::flag("verbose", "debug logging"))
        .version_flag();
}

ServerConfig resolve_server_config(const ServerDescription& d, const Args& args) {
    ServerConfig config;
    config.port = static_cast<int>(args.integer("port"));
    config.bind = args.text("bind");
    auto& files = config.tls.files;
    files.cert_path = args.text("cert");
    files.key_path = args.text("key");
    files.ca_path = args.text("ca");
    files.crl_path = args.text("crl");
    if (files.crl_path.empty()) {
        // The CRL that `pki revoke` writes next to the trust bundle, picked up when it appears.
        const auto slash = files.ca_path.find_last_of('/');
        files.crl_path = pki::CaDirectory(slash == std::string::npos ? "." : files.ca_path.substr(0, slash)).crl();
        files.crl_optional = true;
    }
    config.tls.clients.relaxed = args.flag("relaxed");
    config.tls.clients.allowed_clients = args.list("allow-client");
    config.tls.expiry_warning = std::chrono::hours(24) * args.integer("expiry-warning-days");

    auto& runtime = config.runtime;
    runtime.name = d.binary;
    runtime.title = d.title;
    runtime.instructions = d.instructions;
    runtime.sse_heartbeat = std::chrono::seconds(args.integer("sse-heartbeat"));
    runtime.allowed_hosts = args.list("allow-host");
    runtime.max_body_bytes = static_cast<size_t>(args.integer("max-body"));
    runtime.max_sessions = static_cast<size_t>(args.integer("max-sessions"));
    runtime.rate_limit = static_cast<double>(args.integer("rate-limit"));
    runtime.rate_burst = static_cast<double>(args.integer("rate-burst"));
    if (runtime.rate_burst > 0 && runtime.rate_limit == 0) throw InputError("--rate-burst needs --rate-limit");
    if (!args.json("authorization").is_null()) runtime.policy = mcp::ToolPolicy::from_json(args.json("authorization"));

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
