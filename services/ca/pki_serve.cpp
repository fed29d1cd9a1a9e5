// pki serve: the online CA. HTTPS with the MCP servers' connection machinery (governor, worker
// pool, reload on file change and SIGHUP, graceful stop), routes that turn JSON into
// pki::OnlineCa calls and refusals into {"error": {code, message}} (docs/enrollment.md).
#include "services/pki_serve.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"
#include "mcp/rate_limiter.hpp"
#include "pki/ca/enrollment_token.hpp"
#include "pki/ca/online_ca.hpp"
#include "pki/cli/cli_support.hpp"
#include "pki/cli/commands.hpp"
#include "pki/verify/verifier.hpp"
#include "server/connections.hpp"
#include "server/supervisor.hpp"
#include "tls/cert_dir.hpp"
#include "tls/server_context.hpp"

#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>

namespace mcpmtls::services {
namespace {

using nlohmann::json;

// Bodies are a token and a CSR: a few KiB. Anything larger is refused unread.
constexpr size_t kMaxBodyBytes = 64 * 1024;
// The name of the CA's own serving certificate when it issues one from DIR.
constexpr const char* kServingName = "pki-serve";
constexpr std::chrono::hours kServingLifetime{24 * 7};

ArgSpec serve_spec() {
    return ArgSpec("pki serve", "Runs the directory's CA online over HTTPS: enrollment with one-time tokens, renewal "
                                "and revocation over mutual TLS, the trust bundle and the CRL (docs/enrollment.md).")
        .add(Option::integer("port", "N", 0, 65535, "port to listen on (0: any free port, printed at start)").fallback(9443))
        .add(Option::text("bind", "ADDR", "address to listen on").fallback("127.0.0.1"))
        .add(Option::text("cert", "FILE", "the CA server's own certificate (chain); with --key"))
        .add(Option::text("key", "FILE", "its private key; with --cert"))
        .add(Option::text("cert-dir", "DIR", "its certificate and key in a cert-manager or spiffe-helper directory"))
        .add(Option::list("dns", "NAME", "DNS name of the certificate issued for this server from DIR (default localhost)"))
        .add(Option::list("ip", "ADDR", "IP address of that certificate (default 127.0.0.1, and --bind when it is one address)"))
        .add(Option::text("max-ttl", "DURATION", "the longest lifetime of a certificate issued or renewed here").fallback("30d"))
        .add(Option::integer("rate-limit", "N", 0, 100000,
                             "requests per second per identity (a client certificate, else an address), bursts of 5x; 0: none")
                 .fallback(10))
        .add(Option::integer("max-connections", "N", 1, 4096, "connections served at once (worker threads)").fallback(64))
        .add(Option::text("log-format", "FORMAT", "text or json").one_of({"text", "json"}).fallback("text"))
        .add(pki::cli::ca_key_options())
        .add(pki::cli::dir_option());
}

// The files the CA serves with: given, or its own certificate issued (and kept fresh) from DIR.
struct ServingCertificate {
    std::string cert_path;
    std::string key_path;
    bool issued_here = false;
};

bool is_address(const std::string& text) { return text.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos; }

pki::SubjectAltNames serving_names(const Args& args) {
    pki::SubjectAltNames names;
    names.dns = args.list("dns");
    names.ips = args.list("ip");
    if (names.dns.empty()) names.dns = {"localhost"};
    if (names.ips.empty()) {
        names.ips = {"127.0.0.1"};
        const std::string bind = args.text("bind");
        if (is_address(bind) && bind != "0.0.0.0" && bind != "::" && bind != "127.0.0.1") names.ips.push_back(bind);
    }
    return names;
}

bool covers(const pki::SubjectAltNames& have, const pki::SubjectAltNames& want) {
    auto all_in = [](const std::vector<std::string>& wanted, const std::vector<std::string>& held) {
        for (const auto& name : wanted)
            if (std::find(held.begin(), held.end(), name) == held.end()) return false;
        return true;
    };
    return all_in(want.dns, have.dns) && all_in(want.ips, have.ips);
}

// Issues DIR/pki-serve.crt on first start, and a new one when the current one is past two thirds
// of its life. Names that changed since are an error: the old certificate has to be retired by
// hand (its key is in DIR), which is what a changed address usually needs anyway.
void refresh_serving_certificate(const pki::CaDirectory& dir, const pki::SubjectAltNames& names, const std::string& passphrase) {
    const auto inventory = pki::Inventory::load(dir.inventory());
    const pki::InventoryEntry* current = nullptr;
    for (const auto& entry : inventory.entries())
        if (entry.name == kServingName && entry.status == "valid") current = &entry;
    if (!current) {
        pki::IssueOptions options;
        options.kind = pki::LeafKind::server;
        options.name = kServingName;
        options.sans = names;
        options.lifetime = kServingLifetime;
        options.ca_passphrase = passphrase;
        const auto issued = pki::issue_certificate(dir, options);
        log_event(spdlog::level::info, "ca_serving_certificate",
                  {{"action", "issued"}, {"serial", issued.entry.serial}, {"not_after", format_rfc3339(issued.entry.not_after)}});
        return;
    }
    if (!covers(current->sans, names))
        throw InputError(dir.leaf_cert(kServingName) + " does not name every address asked for (--dns/--ip); retire it " +
                         "first: pki revoke " + kServingName + " && rm " + dir.leaf_cert(kServingName) + " " +
                         dir.leaf_key(kServingName));
    const auto renew_at = current->not_before + (current->not_after - current->not_before) * 2 / 3;
    if (std::chrono::system_clock::now() < renew_at) return;
    const auto rotated = pki::rotate_certificate(dir, kServingName, /*revoke_old=*/false, passphrase);
    log_event(spdlog::level::info, "ca_serving_certificate",
              {{"action", "renewed"}, {"serial", rotated.new_entry.serial}, {"not_after", format_rfc3339(rotated.new_entry.not_after)}});
}

ServingCertificate serving_certificate(const Args& args, const pki::CaDirectory& dir, const std::string& passphrase) {
    const bool pair = args.given("cert") || args.given("key");
    if (pair && args.given("cert-dir")) throw InputError("give --cert and --key, or --cert-dir, not both");
    if (pair) {
        if (!args.given("cert") || !args.given("key")) throw InputError("--cert and --key go together");
        return {args.text("cert"), args.text("key"), false};
    }
    if (args.given("cert-dir")) {
        const auto found = tls::find_cert_directory(args.text("cert-dir"));
        return {found.cert_path, found.key_path, false};
    }
    refresh_serving_certificate(dir, serving_names(args), passphrase);
    return {dir.leaf_cert(kServingName), dir.leaf_key(kServingName), true};
}

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump() + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    send_json(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

json issued_json(const pki::IssuedChain& issued) {
    return {{"certificate", issued.certificate_pem}, {"chain", issued.chain_pem},
            {"roots", issued.roots_pem},             {"serial", issued.serial},
            {"not_before", format_rfc3339(issued.not_before)}, {"not_after", format_rfc3339(issued.not_after)},
            {"name", issued.name},                   {"kind", issued.kind}};
}

// The parsed body of a POST: an object, or a refusal already written to `res`.
std::optional<json> json_body(const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body.empty() ? std::string("{}") : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        send_error(res, 400, "bad_request", "the body must be a JSON object");
        return std::nullopt;
    }
    return body;
}

std::optional<std::string> string_field(const json& body, const std::string& key, bool required, httplib::Response& res) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
        if (!required) return std::string();
        send_error(res, 400, "bad_request", "the body has no \"" + key + "\"");
        return std::nullopt;
    }
    if (!it->is_string()) {
        send_error(res, 400, "bad_request", "\"" + key + "\" must be a string");
        return std::nullopt;
    }
    return it->get<std::string>();
}

class OnlineCaServer {
public:
    OnlineCaServer(pki::OnlineCa& ca, server::ConnectionManager& connections, int rate_limit)
        : ca_(ca), connections_(connections), limiter_(rate_limit, std::max(10, rate_limit * 5)) {}

    void mount(httplib::SSLServer& server) {
        auto hooks = connections_.hooks();
        server.set_payload_max_length(kMaxBodyBytes);
        // An oversized body is refused from its Content-Length, before a byte of it is read; the
        // connection then ends, since what follows is that body and not a next request.
        auto refused_before_body = [hooks](const httplib::Request& req, httplib::Response& res) {
            const std::string length = req.get_header_value("Content-Length");
            if (length.empty() || length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos ||
                std::stoull(length) <= kMaxBodyBytes)
                return false;
            send_error(res, 413, "too_large", "the body is larger than " + std::to_string(kMaxBodyBytes / 1024) + " KiB");
            if (hooks.end_after_answer) hooks.end_after_answer(req);
            return true;
        };
        server.set_expect_100_continue_handler([refused_before_body](const httplib::Request& req, httplib::Response& res) {
            return refused_before_body(req, res) ? res.status : 100;
        });
        server.set_pre_routing_handler([refused_before_body, started = hooks.request_started](const httplib::Request& req,
                                                                                             httplib::Response& res) {
            if (started) started(req);
            return refused_before_body(req, res) ? httplib::Server::HandlerResponse::Handled
                                                 : httplib::Server::HandlerResponse::Unhandled;
        });
        // Every answer, httplib's own (404, 413 of a chunked body, 400) included: a JSON error
        // where it has no body yet, and the connection idle again for the governor.
        httplib::Server::HandlerWithResponse on_error = [finished = hooks.request_finished](const httplib::Request& req,
                                                                                           httplib::Response& res) {
            if (res.body.empty())
                send_error(res, res.status, res.status == 404 ? "not_found" : res.status == 413 ? "too_large" : "bad_request",
                           res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                             : "the request was refused (HTTP " + std::to_string(res.status) + ")");
            if (finished && finished(req, true)) res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Handled;
        };
        server.set_error_handler(std::move(on_error));
        auto finished = hooks.request_finished;
        auto route = [this, finished](auto handler) {
            return [this, handler, finished](const httplib::Request& req, httplib::Response& res) {
                (this->*handler)(req, res);
                if (res.status < 400 && finished && finished(req, true)) res.set_header("Connection", "close");
            };
        };
        server.Post("/v1/enroll", route(&OnlineCaServer::enroll));
        server.Post("/v1/renew", route(&OnlineCaServer::renew));
        server.Post("/v1/revoke", route(&OnlineCaServer::revoke));
        server.Get("/v1/roots", route(&OnlineCaServer::roots));
        server.Get("/v1/crl", route(&OnlineCaServer::crl));
        server.Get("/healthz", route(&OnlineCaServer::healthz));
    }

private:
    // Runs one operation: rate limit, then the CA; refusals become the API's errors. Every
    // outcome is one log line.
    template <typename Operation>
    void answer(const char* endpoint, const std::string& identity, const httplib::Request& req, httplib::Response& res,
                Operation&& operation) {
        json fields = {{"endpoint", endpoint}, {"peer", req.remote_addr}, {"identity", identity}};
        const auto decision = limiter_.acquire(identity);
        if (!decision.allowed) {
            const long seconds = std::max<long>(1, static_cast<long>((decision.retry_after.count() + 999) / 1000));
            res.set_header("Retry-After", std::to_string(seconds));
            send_error(res, 429, "rate_limited", "too many requests from " + identity + "; retry in " + std::to_string(seconds) + " s");
            if (decision.first_refusal) log_event(spdlog::level::warn, "ca_rate_limited", fields);
            return;
        }
        try {
            json result = operation(fields);
            send_json(res, result.contains("certificate") ? 201 : 200, result);
            fields["outcome"] = "ok";
            log_event(spdlog::level::info, "ca_request", fields);
        } catch (const pki::OnlineCaRefusal& refusal) {
            send_error(res, refusal.http_status(), refusal.code(), refusal.what());
            fields["outcome"] = refusal.code();
            fields["reason"] = refusal.what();
            log_event(spdlog::level::warn, "ca_request", fields);
        } catch (const InputError& e) {
            send_error(res, 400, "bad_request", e.what());
            fields["outcome"] = "bad_request";
            fields["reason"] = e.what();
            log_event(spdlog::level::warn, "ca_request", fields);
        } catch (const std::exception& e) {
            // The reason may name files: the log keeps it, the client learns that nothing happened.
            send_error(res, 500, "internal", "the CA could not complete the request; nothing was issued");
            fields["outcome"] = "internal";
            fields["reason"] = e.what();
            log_event(spdlog::level::err, "ca_request", fields);
        }
    }

    // The presented certificate of a mutual TLS request, or a refusal written to `res`.
    std::optional<pki::Certificate> holder(const httplib::Request& req, httplib::Response& res) {
        auto presented = tls::ServerTlsContext::presented_certificate(req.ssl);
        if (!presented)
            send_error(res, 401, "certificate_required",
                       "this endpoint needs mutual TLS with the certificate to renew or revoke (client renew does that)");
        return presented;
    }

    void enroll(const httplib::Request& req, httplib::Response& res) {
        auto body = json_body(req, res);
        if (!body) return;
        auto token = string_field(*body, "token", true, res);
        if (!token) return;
        auto csr = string_field(*body, "csr", true, res);
        if (!csr) return;
        answer("enroll", "address:" + req.remote_addr, req, res, [&](json& fields) {
            const auto issued = ca_.enroll(*token, *csr);
            fields["name"] = issued.name;
            fields["serial"] = issued.serial;
            return issued_json(issued);
        });
    }

    void renew(const httplib::Request& req, httplib::Response& res) {
        auto presented = holder(req, res);
        if (!presented) return;
        auto body = json_body(req, res);
        if (!body) return;
        auto csr = string_field(*body, "csr", false, res);
        if (!csr) return;
        answer("renew", "certificate:" + presented->serial_hex(), req, res, [&](json& fields) {
            const auto issued = ca_.renew(*presented, *csr);
            fields["name"] = issued.name;
            fields["serial"] = issued.serial;
            fields["previous_serial"] = presented->serial_hex();
            return issued_json(issued);
        });
    }

    void revoke(const httplib::Request& req, httplib::Response& res) {
        auto presented = holder(req, res);
        if (!presented) return;
        auto body = json_body(req, res);
        if (!body) return;
        auto reason = string_field(*body, "reason", false, res);
        if (!reason) return;
        answer("revoke", "certificate:" + presented->serial_hex(), req, res, [&](json& fields) {
            const auto revoked = ca_.revoke(*presented, reason->empty() ? "unspecified" : *reason);
            fields["serial"] = revoked.serial;
            return json{{"serial", revoked.serial}, {"revoked_at", format_rfc3339(revoked.revoked_at)}};
        });
    }

    void roots(const httplib::Request&, httplib::Response& res) {
        res.set_content(ca_.roots_pem(), "application/pem-certificate-chain");
    }

    void crl(const httplib::Request& req, httplib::Response& res) {
        std::string der;
        try {
            der = ca_.crl_der();
        } catch (const std::exception& e) {
            log_event(spdlog::level::err, "ca_request", {{"endpoint", "crl"}, {"outcome", "internal"}, {"reason", e.what()}});
            send_error(res, 500, "internal", "the CA could not sign a CRL");
            return;
        }
        const auto crl = pki::RevocationList::parse_all(der, "the CRL").front();
        const std::string etag = "\"" + std::to_string(crl.number()) + "\"";
        res.set_header("ETag", etag);
        res.set_header("Last-Modified", httplib_date(crl.this_update()));
        // Until halfway to nextUpdate, when the CA signs a fresh one: caches never serve a CRL
        // that a server would find stale.
        const auto fresh_for = std::chrono::duration_cast<std::chrono::seconds>((crl.next_update() - crl.this_update()) / 2);
        const auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - crl.this_update());
        res.set_header("Cache-Control", "public, max-age=" + std::to_string(std::max<long>(0, (fresh_for - age).count())));
        if (req.get_header_value("If-None-Match") == etag) {
            res.status = 304;
            return;
        }
        res.set_content(der, "application/pkix-crl");
    }

    void healthz(const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); }

    static std::string httplib_date(pki::TimePoint t) {
        const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char text[64];
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        return text;
    }

    pki::OnlineCa& ca_;
    server::ConnectionManager& connections_;
    mcp::RateLimiter limiter_;
};

// Re-issues the CA's own certificate from DIR when it is due (the supervisor then reloads it).
class ServingCertificateKeeper {
public:
    ServingCertificateKeeper(pki::CaDirectory dir, pki::SubjectAltNames names, std::string passphrase)
        : dir_(std::move(dir)), names_(std::move(names)), passphrase_(std::move(passphrase)) {
        thread_ = std::thread([this] { run(); });
    }
    ~ServingCertificateKeeper() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

private:
    void run() {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!wake_.wait_for(lock, std::chrono::minutes(1), [&] { return stopping_; })) {
            try {
                refresh_serving_certificate(dir_, names_, passphrase_);
            } catch (const std::exception& e) {
                log_event(spdlog::level::warn, "ca_serving_certificate", {{"action", "renewal_failed"}, {"reason", e.what()}});
            }
        }
    }
    pki::CaDirectory dir_;
    pki::SubjectAltNames names_;
    std::string passphrase_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

int run_serve(const Args& args) {
    const pki::CaDirectory dir = pki::cli::ca_directory(args);
    pki::OnlineCaSettings settings;
    settings.max_ttl = parse_duration(args.text("max-ttl"));
    settings.ca_passphrase = pki::cli::passphrase(args);
    const LogFormat log_format = parse_log_format(args.text("log-format"));

    // Only the supervisor's thread takes these signals, so block them before any thread starts.
    std::signal(SIGPIPE, SIG_IGN);
    const sigset_t signals = server::handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    setup_logging(log_format, spdlog::level::info, /*asynchronous=*/true);

    if (pki::ensure_provisioner_key(dir, pki::provisioner_passphrase_from("")))
        log_event(spdlog::level::info, "ca_provisioner_created",
                  {{"key", dir.provisioner_key()}, {"public_key", dir.provisioner_pub()},
                   {"note", "pki token signs enrollment tokens with it; keep it as safe as ca.key"}});
    pki::OnlineCa ca(dir, settings);
    const ServingCertificate serving = serving_certificate(args, dir, settings.ca_passphrase);
    tls::ServerTlsSettings tls_settings;
    tls_settings.files.cert_path = serving.cert_path;
    tls_settings.files.key_path = serving.key_path;
    tls_settings.files.ca_path = dir.bundle();
    tls_settings.files.crl_path = dir.crl();
    tls_settings.files.crl_optional = true;
    tls_settings.client_certificate_optional = true;
    tls::ServerTlsContext tls_context(tls_settings);

    server::ConnectionManager::Settings connection_settings;
    connection_settings.max_connections = static_cast<size_t>(args.integer("max-connections"));
    connection_settings.limits.keep_alive_timeout = std::chrono::seconds(5);
    server::ConnectionManager connections(tls_context, connection_settings);
    httplib::SSLServer server([&](SSL_CTX& ctx) { return tls_context.configure(ctx); });
    if (!server.is_valid()) throw OperationError("cannot set up TLS");
    connections.install(server);
    server.set_tcp_nodelay(true);
    server.set_keep_alive_timeout(5);
    server.set_read_timeout(10);
    server.set_write_timeout(10);
    OnlineCaServer routes(ca, connections, static_cast<int>(args.integer("rate-limit")));
    routes.mount(server);

    const std::string bind = args.text("bind");
    const int port = server::bind_listener(server, bind, static_cast<int>(args.integer("port")));
    if (port < 0) throw OperationError("cannot listen on " + bind + ":" + std::to_string(args.integer("port")) + " (port in use?)");
    const std::string host = bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
    const std::string url = "https://" + host + ":" + std::to_string(port);
    std::unique_ptr<ServingCertificateKeeper> keeper;
    if (serving.issued_here) keeper = std::make_unique<ServingCertificateKeeper>(dir, serving_names(args), settings.ca_passphrase);
    {
        server::Supervisor supervisor(tls_context, server, std::chrono::seconds(1), signals);
        log_event(spdlog::level::info, "ca_started",
                  {{"url", url},
                   {"port", port},
                   {"dir", dir.dir()},
                   {"max_ttl", args.text("max-ttl")},
                   {"cert", serving.cert_path},
                   {"roots_fingerprint_sha256", pki::Certificate::load(dir.bundle()).fingerprint_sha256()}});
        server.listen_after_bind();
    }
    keeper.reset();
    log_event(spdlog::level::info, "ca_stopped", {{"url", url}});
    spdlog::shutdown();
    return kExitOk;
}

}  // namespace

Command serve_command() { return {"serve", "run the CA online (enroll, renew, revoke, roots, CRL)", serve_spec(), run_serve}; }

CommandRegistry pki_registry() { return pki::cli::registry({serve_command()}); }

int run_pki(int argc, char** argv) { return pki_registry().main(std::vector<std::string>(argv + 1, argv + argc)); }

}  // namespace mcpmtls::services
