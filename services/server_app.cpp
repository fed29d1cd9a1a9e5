#include "services/server_app.hpp"

#include "common/args.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/httplib_adapter.hpp"
#include "mcp/streamable_http.hpp"
#include "services/worker_pool.hpp"
#include "tls/connection_governor.hpp"
#include "tls/server_context.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <httplib.h>
#include <iostream>
#include <pthread.h>
#include <sys/socket.h>
#include <thread>

namespace mcpmtls::services {
namespace {

using nlohmann::json;

struct ServerConfig {
    std::string bind = "127.0.0.1";
    int port = 0;
    tls::ServerTlsSettings tls;
    std::vector<std::string> allowed_hosts;
    LogFormat log_format = LogFormat::text;
    bool verbose = false;
    size_t threads = 256;
    size_t max_body = 1024 * 1024;
    std::chrono::seconds reload_interval{2};
    std::chrono::seconds session_idle{1800};
    long keep_alive_timeout = 30;
    size_t max_sessions = 10000;
    double rate_limit = 0;
    double rate_burst = 0;
    mcp::ToolPolicy policy;
};

ArgSpec server_flags(const ServerDescription& d) {
    return ArgSpec(d.binary + " [options]",
                   d.title + " MCP server over mutual TLS (MCP Streamable HTTP at https://HOST:PORT/mcp).\n"
                   "Every client must present a certificate that the project's verifier accepts.")
        .option("port", "N", "TCP port (default " + std::to_string(d.default_port) + "; 0 picks a free one)")
        .option("bind", "ADDR", "address to listen on (default 127.0.0.1)")
        .option("cert", "FILE", "server certificate chain (default certs/" + d.short_name + ".crt)")
        .option("key", "FILE", "server private key (default certs/" + d.short_name + ".key)")
        .option("ca", "FILE", "trust bundle for client certificates (default certs/ca-bundle.crt)")
        .option("crl", "FILE", "CRL to check client certificates against (default: ca.crl beside --ca, when present)")
        .flag("relaxed", "DEMOS ONLY: accept self-signed, unknown-issuer or expired client certificates with a WARNING")
        .repeated("allow-client", "ID", "only admit clients whose CN, DNS SAN or URI SAN equals ID")
        .repeated("allow-host", "NAME", "extra Host/Origin name accepted besides localhost, 127.0.0.1, [::1]")
        .option("log-format", "text|json", "log format (default text)")
        .option("config", "FILE", "JSON file with the same settings (flags win)")
        .option("max-connections", "N", "connections served at once, one worker thread each (default 256); "
                                        "a connection beyond them waits while the longest-idle keep-alive connection is closed")
        .option("threads", "N", "the same as --max-connections")
        .option("max-body", "BYTES", "largest request body (default 1048576)")
        .option("expiry-warning-days", "N", "warn when our certificate or a trusted CA expires within N days (default 14)")
        .option("reload-interval", "SECONDS", "how often watched files are checked for changes (default 2)")
        .option("keep-alive-timeout", "SECONDS", "close a connection idle this long between requests (default 30)")
        .option("max-sessions", "N", "most MCP sessions at once; beyond it initialize gets 503 (default 10000)")
        .option("rate-limit", "N", "requests per second allowed per client identity; beyond it 429 with Retry-After (default 0: unlimited)")
        .option("rate-burst", "N", "requests a client may send at once before --rate-limit applies (default 2 x rate)")
        .flag("verbose", "debug logging")
        .flag("version", "print the version");
}

// Flags override the --config file, which overrides the defaults. `config_text` is the
// --config file's content (empty when there is none).
ServerConfig resolve_config(const ServerDescription& d, const Args& args, const std::string& config_text,
                            const std::string& config_name) {
    json file = json::object();
    if (!config_text.empty() || args.has("config")) {
        file = json::parse(config_text, nullptr, false);
        if (!file.is_object()) throw InputError(config_name + " is not a JSON object");
        static const std::vector<std::string> known = {"port", "bind", "cert", "key", "ca", "crl", "relaxed",
                                                       "allow_client", "allow_host", "log_format", "threads",
                                                       "max_body", "expiry_warning_days", "reload_interval",
                                                       "keep_alive_timeout", "max_sessions", "max_connections",
                                                       "rate_limit", "rate_burst", "authorization"};
        for (auto it = file.begin(); it != file.end(); ++it)
            if (std::find(known.begin(), known.end(), it.key()) == known.end())
                throw InputError(config_name + ": unknown setting '" + it.key() + "'");
    }
    auto text = [&](const std::string& flag, const std::string& key, const std::string& fallback) -> std::string {
        if (args.has(flag)) return args.get(flag);
        if (file.contains(key)) {
            if (!file[key].is_string()) throw InputError("--config: '" + key + "' must be a string");
            return file[key].get<std::string>();
        }
        return fallback;
    };
    auto number = [&](const std::string& flag, const std::string& key, long fallback, long min, long max) -> long {
        if (args.has(flag)) return parse_positive("--" + flag, args.get(flag), min, max);
        if (file.contains(key)) {
            if (!file[key].is_number_integer()) throw InputError("--config: '" + key + "' must be a whole number");
            long v = file[key].get<long>();
            if (v < min || v > max) throw InputError("--config: '" + key + "' out of range");
            return v;
        }
        return fallback;
    };
    auto list = [&](const std::string& flag, const std::string& key) {
        std::vector<std::string> out = args.all(flag);
        if (out.empty() && file.contains(key)) {
            if (!file[key].is_array()) throw InputError("--config: '" + key + "' must be a list of strings");
            for (const auto& item : file[key]) {
                if (!item.is_string()) throw InputError("--config: '" + key + "' must be a list of strings");
                out.push_back(item.get<std::string>());
            }
        }
        return out;
    };

    ServerConfig config;
    config.port = static_cast<int>(number("port", "port", d.default_port, 0, 65535));
    config.bind = text("bind", "bind", "127.0.0.1");
    config.tls.cert_path = text("cert", "cert", "certs/" + d.short_name + ".crt");
    config.tls.key_path = text("key", "key", "certs/" + d.short_name + ".key");
    config.tls.ca_path = text("ca", "ca", "certs/ca-bundle.crt");
    config.tls.crl_path = text("crl", "crl", "");
    if (config.tls.crl_path.empty()) {
        // The CRL that `pki revoke` writes next to the trust bundle, picked up when it appears.
        auto slash = config.tls.ca_path.find_last_of('/');
        config.tls.crl_path = (slash == std::string::npos ? std::string() : config.tls.ca_path.substr(0, slash + 1)) + "ca.crl";
        config.tls.crl_optional = true;
    }
    if (file.contains("relaxed") && !file["relaxed"].is_boolean()) throw InputError("--config: 'relaxed' must be true or false");
    config.tls.relaxed = args.has("relaxed") || file.value("relaxed", false);
    config.tls.allowed_clients = list("allow-client", "allow_client");
    config.tls.expiry_warning = std::chrono::hours(24) * number("expiry-warning-days", "expiry_warning_days", 14, 0, 3650);
    config.allowed_hosts = list("allow-host", "allow_host");
    config.log_format = parse_log_format(text("log-format", "log_format", "text"));
    if ((args.has("max-connections") && args.has("threads")) || (file.contains("max_connections") && file.contains("threads")))
        throw InputError("max-connections and threads are the same setting; give one");
    const bool threads_named = args.has("threads") || (!args.has("max-connections") && file.contains("threads"));
    config.threads = static_cast<size_t>(threads_named ? number("threads", "threads", 256, 1, 4096)
                                                       : number("max-connections", "max_connections", 256, 1, 4096));
    config.max_body = static_cast<size_t>(number("max-body", "max_body", 1024 * 1024, 1024, 64L * 1024 * 1024));
    config.reload_interval = std::chrono::seconds(number("reload-interval", "reload_interval", 2, 1, 3600));
    config.keep_alive_timeout = number("keep-alive-timeout", "keep_alive_timeout", 30, 1, 3600);
    config.max_sessions = static_cast<size_t>(number("max-sessions", "max_sessions", 10000, 1, 10000000));
    config.rate_limit = static_cast<double>(number("rate-limit", "rate_limit", 0, 0, 1000000));
    config.rate_burst = static_cast<double>(number("rate-burst", "rate_burst", 0, 0, 1000000));
    if (config.rate_burst > 0 && config.rate_limit == 0) throw InputError("--rate-burst needs --rate-limit");
    config.verbose = args.has("verbose");
    if (file.contains("authorization")) config.policy = mcp::ToolPolicy::from_json(file["authorization"]);
    return config;
}

// Signals are taken synchronously by one thread (sigwait), so reload and shutdown run as
// ordinary code, not in a signal handler.
sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void validate_server_settings(const ServerDescription& d, const std::vector<std::string>& argv,
                              const std::string& config_json) {
    const Args args = server_flags(d).parse(argv);
    resolve_config(d, args, config_json, "--config");
}

int run_server_main(const ServerDescription& d, int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    const ArgSpec spec = server_flags(d);
    ServerConfig config;
    try {
        Args args = spec.parse(std::vector<std::string>(argv + 1, argv + argc));
        if (args.has("help")) {
            std::cout << spec.help();
            return kExitOk;
        }
        if (args.has("version")) {
            std::cout << d.binary << " (mcp-mtls) " << d.version << "\n";
            return kExitOk;
        }
        const std::string config_path = args.has("config") ? args.get("config") : "";
        config = resolve_config(d, args, config_path.empty() ? "" : read_file(config_path), config_path);
    } catch (const Error& e) {
        std::cerr << d.binary << ": " << e.what() << "\n";
        return e.code();
    }
    // Block the signals before any thread starts (the logger's included), so that only the
    // signal thread receives them.
    sigset_t signals = handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    setup_logging(config.log_format, config.verbose ? spdlog::level::debug : spdlog::level::info, /*asynchronous=*/true);

    std::unique_ptr<tls::ServerTlsContext> tls_context;
    try {
        tls_context = std::make_unique<tls::ServerTlsContext>(config.tls);
    } catch (const Error& e) {
        log_event(spdlog::level::err, "startup_failed", {{"reason", e.what()}});
        spdlog::shutdown();
        std::cerr << d.binary << ": " << e.what() << "\n";
        return e.code();
    }

    mcp::ToolRegistry registry;
    d.register_tools(registry);
    mcp::ServerOptions options;
    options.name = d.binary;
    options.title = d.title;
    options.version = d.version;
    options.instructions = d.instructions;
    options.allowed_hosts = config.allowed_hosts;
    options.max_body_bytes = config.max_body;
    options.session_idle_timeout = config.session_idle;
    options.policy = config.policy;
    options.max_sessions = config.max_sessions;
    options.rate_limit = config.rate_limit;
    options.rate_burst = config.rate_burst;
    mcp::StreamableHttpServer mcp_server(options, registry);

    httplib::SSLServer server([&](SSL_CTX& ctx) { return tls_context->configure(ctx); });
    if (!server.is_valid()) {
        std::cerr << d.binary << ": cannot set up TLS\n";
        return kExitFailed;
    }
    const size_t threads = config.threads;
    // Header bytes: cpp-httplib allows 8 KiB per line; 64 KiB in all is generous for MCP.
    tls::ConnectionGovernor governor(64 * 1024);
    tls_context->set_connection_governor(&governor);
    std::atomic<WorkerPool*> pool{nullptr};
    server.new_task_queue = [threads, &governor, &pool] {
        auto* created = new WorkerPool(threads, governor);
        pool.store(created);
        return created;
    };
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(100000);
    server.set_keep_alive_timeout(config.keep_alive_timeout);
    server.set_read_timeout(10);
    server.set_write_timeout(10);
    mcp::MountHooks hooks;
    hooks.identify = [](const httplib::Request& req) { return tls::ServerTlsContext::peer_identity(req.ssl); };
    hooks.request_started = [&governor](const httplib::Request& req) { governor.request_started(req.ssl); };
    hooks.request_finished = [&governor, &pool](const httplib::Request& req) {
        WorkerPool* workers = pool.load();
        const bool yield = workers && workers->should_yield();
        governor.request_finished(req.ssl);
        return yield;
    };
    mcp::mount(server, mcp_server, std::move(hooks));

    // cpp-httplib 0.11 is compiled with a listen backlog of 5: bursts of new connections would
    // wait a second for SYN retransmits. Remember the listening socket to widen it after bind.
    int listen_fd = -1;
    server.set_socket_options([&listen_fd](int fd) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        listen_fd = fd;
    });
    int port = config.port;
    if (port == 0) {
        port = server.bind_to_any_port(config.bind);
    } else if (!server.bind_to_port(config.bind, port)) {
        port = -1;
    }
    if (port <= 0) {
        const std::string why = "cannot listen on " + config.bind + ":" + std::to_string(config.port) + " (port in use?)";
        log_event(spdlog::level::err, "startup_failed", {{"reason", why}});
        spdlog::shutdown();
        std::cerr << d.binary << ": " << why << "\n";
        return kExitFailed;
    }

    if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);  // Linux lets a second listen() grow the backlog

    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool stopping = false;

    std::thread signal_thread([&] {
        for (;;) {
            int sig = 0;
            if (sigwait(&signals, &sig) != 0) continue;
            if (sig == SIGHUP) {
                tls_context->reload("SIGHUP");
                continue;
            }
            log_event(spdlog::level::info, "shutdown", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
                                                        {"note", "finishing in-flight requests"}});
            {
                std::lock_guard<std::mutex> lock(stop_mutex);
                stopping = true;
            }
            stop_cv.notify_all();
            server.stop();
            return;
        }
    });
    std::thread watch_thread([&] {
        std::unique_lock<std::mutex> lock(stop_mutex);
        auto last_expiry_check = std::chrono::steady_clock::now();
        while (!stop_cv.wait_for(lock, config.reload_interval, [&] { return stopping; })) {
            if (tls_context->files_changed()) {
                // Let a multi-file update (certificate, then key) settle before reading it.
                if (stop_cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping; })) break;
                lock.unlock();
                tls_context->reload("file change");
                lock.lock();
            }
            if (std::chrono::steady_clock::now() - last_expiry_check > std::chrono::hours(12)) {
                tls_context->warn_about_expiry();
                last_expiry_check = std::chrono::steady_clock::now();
            }
        }
    });

    const bool bracket = config.bind.find(':') != std::string::npos;
    const std::string host = bracket ? "[" + config.bind + "]" : config.bind;
    log_event(spdlog::level::info, "server_started",
              {{"server", d.binary}, {"url", "https://" + host + ":" + std::to_string(port) + "/mcp"},
               {"port", port}, {"max_connections", threads}, {"keep_alive_timeout", config.keep_alive_timeout},
               {"max_sessions", config.max_sessions}, {"rate_limit", config.rate_limit}, {"client_auth", config.tls.relaxed ? "relaxed" : "strict"},
               {"allow_client", config.tls.allowed_clients},
               {"certificate_serial", tls_context->snapshot()->credentials.certificates.front().serial_hex()}});
    if (config.tls.relaxed)
        log_event(spdlog::level::warn, "relaxed_mode",
                  {{"note", "client certificates from unknown or self-signed issuers, or expired, are ACCEPTED; "
                            "a certificate and proof of its key are still required. Never use in production."}});
    tls_context->warn_about_expiry();

    server.listen_after_bind();  // returns after stop(), once in-flight requests are done
    tls_context->set_connection_governor(nullptr);  // the governor dies before the context

    {
        std::lock_guard<std::mutex> lock(stop_mutex);
        stopping = true;
    }
    stop_cv.notify_all();
    watch_thread.join();
    // The signal thread exits after a stop signal; if listen ended otherwise, wake it up.
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    log_event(spdlog::level::info, "server_stopped",
              {{"server", d.binary}, {"idle_connections_closed_for_waiting_ones", governor.closed_to_make_room()}});
    spdlog::shutdown();  // drains the asynchronous log queue
    return kExitOk;
}

}  // namespace mcpmtls::services
