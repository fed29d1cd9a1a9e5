#include "server/server_main.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "server/ca_transport.hpp"
#include "server/crl_fetcher.hpp"
#include "server/health_endpoint.hpp"
#include "server/malloc_tuning.hpp"
#include "server/metrics.hpp"
#include "server/sandbox.hpp"
#include "server/supervisor.hpp"
#include "tls/pkcs11_key.hpp"

#include <csignal>
#include <iostream>
#include <sys/socket.h>

namespace mcpmtls::server {
namespace {

void configure_http(httplib::SSLServer& server, ConnectionManager& connections, mcp::StreamableHttpServer& runtime,
                    const ServerConfig& config) {
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(100000);
    server.set_keep_alive_timeout(config.keep_alive_timeout.count());
    server.set_read_timeout(10);
    server.set_write_timeout(10);
    mount(server, runtime, connections.hooks());
}

void log_started(const ServerDescription& d, const ServerConfig& config, int port, const tls::ServerTlsContext& tls,
                 const HealthEndpoint* health) {
    const bool bracket = config.bind.find(':') != std::string::npos;
    const std::string host = bracket ? "[" + config.bind + "]" : config.bind;
    log_event(spdlog::level::info, "server_started",
              {{"server", d.binary},
               {"url", "https://" + host + ":" + std::to_string(port) + "/mcp"},
               {"port", port},
               {"max_connections", config.connections.max_connections},
               {"glibc_tunables", malloc_tunables()},
               {"keep_alive_timeout", config.keep_alive_timeout.count()},
               {"handshake_timeout", config.connections.limits.handshake_timeout.count() / 1000},
               {"max_sessions", config.runtime.max_sessions},
               {"max_sessions_per_client", config.runtime.max_sessions_per_client},
               {"session_idle_timeout", config.runtime.session_idle_timeout.count()},
               {"rate_limit", config.runtime.rate_limit},
               {"client_auth", config.tls.clients.relaxed ? "relaxed" : "strict"},
               {"allow_client", config.tls.clients.allowed_clients},
               {"allow_trust_domain", config.tls.clients.allowed_trust_domains},
               {"cert", config.tls.files.cert_path},
               {"crl_url", config.tls.files.crl_url},
               {"metrics", health ? health->url() : ""},
               {"oauth_issuer", config.oauth.settings.issuer},
               {"oauth_require_bound_tokens", config.oauth.settings.require_bound_tokens},
               {"certificate_serial", tls.snapshot()->credentials.certificates.front().serial_hex()}});
    if (!config.runtime.state_key)
        log_event(spdlog::level::warn, "state_key_random",
                  {{"note", "no --state-key-file: requestState of MCP 2026-07-28 multi-round calls is sealed with a "
                            "random key of this process, so each such call must return to this replica"}});
    if (config.tls.clients.relaxed)
        log_event(spdlog::level::warn, "relaxed_mode",
                  {{"note", "client certificates from unknown or self-signed issuers, or expired, are ACCEPTED; "
                            "a certificate and proof of its key are still required. Never use in production."}});
    tls.warn_about_expiry();
}

// A start-up failure: one log event, one line on stderr, the exit code.
int refuse_start(const ServerDescription& d, const Error& error) {
    log_event(spdlog::level::err, "startup_failed", {{"reason", error.what()}});
    spdlog::shutdown();
    std::cerr << d.binary << ": " << error.what() << "\n";
    return error.code();
}

}  // namespace

void validate_server_settings(const ServerDescription& d, const std::vector<std::string>& argv,
                              const std::string& config_json) {
    resolve_server_config(d, server_settings(d).parse(argv, config_json, "--config"));
}

int run_server_main(const ServerDescription& d, int argc, char** argv) {
    ensure_malloc_tuning(argv);
    std::signal(SIGPIPE, SIG_IGN);
    const ArgSpec spec = server_settings(d);
    ServerConfig config;
    try {
        const Args args = spec.parse(std::vector<std::string>(argv + 1, argv + argc));
        if (args.help_requested()) {
            std::cout << spec.help();
            return kExitOk;
        }
        if (args.version_requested()) {
            std::cout << version_line(d.binary) << "\n";
            return kExitOk;
        }
        config = resolve_server_config(d, args);
    } catch (const Error& e) {
        std::cerr << d.binary << ": " << e.what() << "\n";
        return e.code();
    }
    // Block the signals before any thread starts (the logger's included), so that only the
    // supervisor's signal thread receives them.
    const sigset_t signals = handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    // Synchronous until the sandbox is in place: the logging thread must be started after it.
    const auto level = config.verbose ? spdlog::level::debug : spdlog::level::info;
    setup_logging(config.log_format, level);
    // Every connection is a descriptor, and so are the files a reload reads.
    const size_t open_files = raise_open_file_limit();
    if (open_files < config.connections.max_connections + 64)
        log_event(spdlog::level::warn, "open_file_limit",
                  {{"limit", open_files}, {"max_connections", config.connections.max_connections},
                   {"effect", "connections beyond the limit are refused by the kernel; raise the hard limit (ulimit -Hn)"}});

    ServerMetrics metrics;  // before the TLS context and the runtime, which report to it
    std::unique_ptr<tls::ServerTlsContext> tls_context;
    try {
        tls_context = std::make_unique<tls::ServerTlsContext>(config.tls);
    } catch (const Error& e) {
        return refuse_start(d, e);
    }
    tls_context->set_verdict_observer(&metrics);
    std::unique_ptr<CrlFetcher> crl_fetcher;
    if (!config.tls.files.crl_url.empty()) {
        crl_fetcher = std::make_unique<CrlFetcher>(*tls_context, config.crl_refresh);
        crl_fetcher->fetch();  // before serving: the first clients are judged with it
        tls_context->watch_revocation();
    }
    // --renew-from: after a renewal the files are reloaded at once rather than at the watcher's
    // next look; the handshakes under way keep the snapshot they started with.
    std::unique_ptr<tls::BackgroundRenewal> renewal;
    if (!config.renew_from.empty()) {
        tls::BackgroundRenewal::Hooks hooks;
        hooks.on_result = [&metrics, &tls_context](bool ok, const tls::Issued*) {
            metrics.renewal_attempted(ok);
            if (ok) tls_context->reload("renewal", tls::ReloadTrigger::file_change);
        };
        renewal = std::make_unique<tls::BackgroundRenewal>(
            config.renewal_paths, config.renew_from,
            https_ca_post(config.renew_from, config.renewal_paths,
                          [&tls_context] { return tls_context->snapshot()->trust_without_crls; }),
            std::move(hooks));
    }
    if (config.oauth.settings.enabled()) {
        // The authorization server is judged by --oauth-ca, else by the bundle clients are.
        std::shared_ptr<const pki::TrustStore> oauth_trust;
        if (!config.oauth.ca_path.empty()) oauth_trust = pki::TrustStore::load(config.oauth.ca_path);
        auto transport = https_oauth_transport(
            [&tls_context, oauth_trust] { return oauth_trust ? oauth_trust : tls_context->snapshot()->trust_without_crls; },
            {config.tls.files.cert_path, config.tls.files.key_path, ""}, config.tls.files.pkcs11);
        config.runtime.oauth = std::make_shared<mcp::ResourceServer>(config.oauth.settings, std::move(transport));
        config.runtime.oauth->prefetch();  // before serving; a failure is logged and tried again per token
        config.runtime.on_token = [&metrics](const std::string& result, const tls::PeerIdentity& client) {
            metrics.token_checked(result, client.display_name(), client.token_subject);
        };
    }
    config.runtime.on_tool_call = [&metrics](const std::string& tool, const std::string& outcome) {
        metrics.tool_called(tool, outcome);
    };
    mcp::ToolRegistry registry;
    d.register_tools(registry);
    if (d.register_content) d.register_content(config.runtime.resources, config.runtime.prompts);
    config.runtime.version = kVersion;
    mcp::StreamableHttpServer runtime(config.runtime, registry);
    ConnectionManager connections(*tls_context, config.connections, &metrics);
    httplib::SSLServer server([&](SSL_CTX& ctx) { return tls_context->configure(ctx); });
    if (!server.is_valid()) return refuse_start(d, Error(kExitFailed, "cannot set up TLS"));
    configure_http(server, connections, runtime, config);
    const int port = bind_listener(server, config.bind, config.port);
    if (port < 0)
        return refuse_start(d, Error(kExitFailed, "cannot listen on " + config.bind + ":" + std::to_string(config.port) +
                                                      " (port in use?)"));
    std::unique_ptr<HealthEndpoint> health;
    if (config.metrics_port >= 0) {
        try {
            health = std::make_unique<HealthEndpoint>(
                config.metrics_address, config.metrics_port,
                HealthEndpoint::Handlers{[&] { return metrics.render(*tls_context, connections.census(), runtime.session_census()); },
                                         [&] { return check_readiness(*tls_context); }});
        } catch (const Error& e) {
            return refuse_start(d, e);
        }
    }
    // Everything is read and bound: the server gives up the rest before it starts a thread.
    if (config.sandbox && tls::is_pkcs11_uri(config.tls.files.key_path)) {
        log_event(spdlog::level::warn, "sandbox_off",
                  {{"reason", "the key is in a PKCS#11 token, whose module reads and writes files of its own (its "
                              "configuration, token directory, locks) that the sandbox cannot know"}});
    } else if (config.sandbox) {
        try {
            enter_sandbox(server_sandbox_rules(config));
        } catch (const Error& e) {
            return refuse_start(d, e);
        }
    } else {
        log_event(spdlog::level::warn, "sandbox_off", {{"reason", "--no-sandbox"}});
    }
    setup_logging(config.log_format, level, /*asynchronous=*/true);
    if (crl_fetcher) crl_fetcher->start();
    if (renewal) renewal->start();
    connections.install(server);
    if (health) health->start();
    {
        Supervisor supervisor(*tls_context, server, config.reload_interval, signals);
        log_started(d, config, port, *tls_context, health.get());
        server.listen_after_bind();  // returns after stop(), once in-flight requests are done
    }
    health.reset();
    log_event(spdlog::level::info, "server_stopped",
              {{"server", d.binary}, {"idle_connections_closed_for_waiting_ones", connections.closed_to_make_room()}});
    spdlog::shutdown();  // drains the asynchronous log queue
    return kExitOk;
}

}  // namespace mcpmtls::server
