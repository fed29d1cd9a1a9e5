#include "tls/server_context.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "tls/internal/identity_slot.hpp"
#include "tls/internal/session_tickets.hpp"
#include "tls/protocol_policy.hpp"

#include <openssl/err.h>

namespace mcpmtls::tls {

namespace {

long days_until(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::hours>(t - std::chrono::system_clock::now()).count() / 24;
}

SSL* ssl_of(X509_STORE_CTX* store_ctx) {
    return static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
}

}  // namespace

// Static callbacks OpenSSL calls during handshakes; they reach the context through the
// SSL_CTX's app data.
struct HandshakeCallbacks {
    static ServerTlsContext* context_of(const SSL* ssl) {
        return static_cast<ServerTlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    }

    // Presents the certificate of the snapshot current at this handshake.
    static int select_certificate(SSL* ssl, void* arg) {
        auto* self = static_cast<ServerTlsContext*>(arg);
        auto snap = self->snapshot();
        // Until the first reload every SSL inherits the context's certificate (set in
        // configure()); setting it per connection costs OpenSSL 3 a round of key checks.
        if (snap->credentials_generation == self->context_certificate_generation_) return 1;
        const auto& creds = snap->credentials;
        if (SSL_use_certificate(ssl, creds.leaf.get()) != 1 || SSL_use_PrivateKey(ssl, creds.key.get()) != 1 ||
            SSL_set1_chain(ssl, creds.chain.get()) != 1) {
            ERR_clear_error();
            return 0;
        }
        return 1;
    }

    // Every client chain is judged by the project's verifier, never by OpenSSL's own. No
    // exception may cross back into OpenSSL's C frames: whatever escapes is a refusal.
    static int verify_client(X509_STORE_CTX* store_ctx, void* arg) {
        auto* self = static_cast<ServerTlsContext*>(arg);
        SSL* ssl = ssl_of(store_ctx);
        ClientVerdict verdict;
        try {
            verdict = judge_client(X509_STORE_CTX_get0_cert(store_ctx), X509_STORE_CTX_get0_untrusted(store_ctx),
                                   *self->snapshot(), self->settings_.clients, std::chrono::system_clock::now());
        } catch (const std::exception& e) {
            verdict = ClientVerdict{};
            verdict.reason = std::string("internal error while verifying the client certificate: ") + e.what();
        }
        if (verdict.reason_code.empty()) verdict.reason_code = "internal";
        if (VerdictObserver* observer = self->verdict_observer_.load()) observer->handshake_judged(verdict.accepted(), verdict.reason_code);
        // A refusal that fails the handshake is the observer's to report (a flood of strangers
        // must not flood the log); an optional certificate's refusal is the application's.
        const std::string peer = remembered_peer_address(ssl);
        HandshakeObserver* connections = self->observer_.load();
        if (!verdict.accepted() && !self->settings_.client_certificate_optional && connections) {
            HandshakeFailure failure{verdict.reason_code, verdict.reason, client_verdict_fields(verdict, peer), true};
            if (!connections->handshake_failed(ssl, failure)) log_client_verdict(verdict, peer);
        } else {
            log_client_verdict(verdict, peer);
        }
        if (!verdict.accepted()) {
            if (self->settings_.client_certificate_optional) return 1;  // anonymous: the application decides
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        attach_identity(ssl, std::move(verdict.identity));
        X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
        return 1;
    }

    // Handshakes start and end for the observer; those that fail before the verifier runs (no
    // client certificate, plain HTTP, garbage) still deserve a verdict in the log. An alert after
    // the handshake belongs to the connection's end, which the observer logs.
    static void on_info(const SSL* ssl, int where, int value) {
        // OpenSSL hands info callbacks a const SSL, but the connection is ours to annotate.
        SSL* connection = const_cast<SSL*>(ssl);
        auto* self = context_of(connection);
        HandshakeObserver* observer = self ? self->observer_.load() : nullptr;
        if (where & (SSL_CB_HANDSHAKE_START | SSL_CB_HANDSHAKE_DONE)) {
            if (where & SSL_CB_HANDSHAKE_START) remember_peer_address(connection);
            if (observer && (where & SSL_CB_HANDSHAKE_START)) observer->handshake_started(connection);
            else if (observer) observer->handshake_finished(connection);
            // A resumed session was verified when its ticket was issued: no verdict is logged for
            // it, only that it came back.
            if ((where & SSL_CB_HANDSHAKE_DONE) && SSL_session_reused(connection) && log_enabled(spdlog::level::debug))
                if (auto identity = attached_identity(ssl)) {
                    auto fields = describe_peer(*identity, remembered_peer_address(ssl));
                    fields["verdict"] = "accepted";
                    fields["resumed"] = true;
                    log_event(spdlog::level::debug, "tls_handshake", fields);
                }
            return;
        }
        if (!(where & SSL_CB_ALERT) || (value >> 8) != SSL3_AL_FATAL) return;
        const int description = value & 0xff;
        // SSL_CB_WRITE_ALERT and SSL_CB_READ_ALERT share the SSL_CB_ALERT bit: only SSL_CB_WRITE tells.
        const bool sent = (where & SSL_CB_WRITE) != 0;
        // OpenSSL's own state says little here (a TLS 1.3 connection reading a post-handshake
        // message counts as "in init"); the observer knows whether the handshake completed.
        if (observer && observer->alert(connection, sent, description)) return;
        std::optional<HandshakeFailure> failure = alert_failure(self, ssl, sent, description);
        if (!failure) return;
        failure->fields["peer"] = remembered_peer_address(ssl);
        if (observer && observer->handshake_failed(connection, *failure)) return;
        if (!sent) return;  // without an observer, only our own refusals are logged
        log_event(spdlog::level::warn, "tls_handshake",
                  {{"peer", remembered_peer_address(ssl)}, {"verdict", "rejected"}, {"reason", failure->reason}});
        if (VerdictObserver* verdicts = self ? self->verdict_observer_.load() : nullptr) verdicts->handshake_judged(false, failure->code);
    }

    // What a fatal alert during the handshake says about why it failed; none when the verifier
    // has already said it (the alert only carries its refusal).
    static std::optional<HandshakeFailure> alert_failure(ServerTlsContext* self, const SSL* ssl, bool sent, int description) {
        HandshakeFailure failure;
        if (!sent) {
            failure.code = "tls_alert_received";
            failure.reason = std::string("the client sent TLS alert: ") + SSL_alert_desc_string_long(description);
        } else if (description == 116 || (description == SSL_AD_HANDSHAKE_FAILURE && !SSL_get0_peer_certificate(ssl) &&
                                          SSL_get_state(ssl) != TLS_ST_BEFORE)) {
            failure.code = "no_certificate";
            failure.reason = "no client certificate";
        } else if (description == SSL_AD_BAD_CERTIFICATE || description == SSL_AD_CERTIFICATE_UNKNOWN ||
                   description == SSL_AD_UNKNOWN_CA || description == SSL_AD_ACCESS_DENIED) {
            return std::nullopt;
        } else if (description == SSL_AD_INTERNAL_ERROR && self && is_pkcs11_uri(self->settings_.files.key_path)) {
            // Most likely the token's key failed to sign; watch_token_key checks and says why.
            self->key_suspect_.store(true);
            failure.code = "tls_error";
            failure.reason = "TLS handshake failed on our side: internal error (is the key's token still there?)";
        } else {
            failure.code = "tls_alert_sent";
            failure.reason = std::string("TLS handshake failed: sent TLS alert: ") + SSL_alert_desc_string_long(description);
        }
        return failure;
    }
};

ServerTlsContext::ServerTlsContext(ServerTlsSettings settings) : settings_(std::move(settings)) {
    const auto& files = settings_.files;
    if (files.cert_path.empty() || files.key_path.empty() || files.ca_path.empty())
        throw InputError("the server needs --cert, --key and --ca");
    loaded_stamps_ = file_stamps();
    snapshot_ = load_snapshot(files, 1, nullptr);
    tickets_ = std::make_unique<SessionTickets>(snapshot_->trust_generation);
    status_.last_success = std::chrono::system_clock::now();
}

ServerTlsContext::~ServerTlsContext() = default;

std::optional<pki::Certificate> ServerTlsContext::presented_certificate(const SSL* ssl) {
    X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
    if (!cert) return std::nullopt;
    unsigned char* der = nullptr;
    const int length = i2d_X509(cert, &der);
    if (length <= 0) return std::nullopt;
    const std::unique_ptr<unsigned char, void (*)(void*)> owned(der, [](void* p) { OPENSSL_free(p); });
    return pki::Certificate::from_der(der, static_cast<size_t>(length));
}

std::string ServerTlsContext::file_stamps() const {
    const auto& files = settings_.files;
    return file_stamp(files.cert_path) + ";" + file_stamp(files.key_path) + ";" + file_stamp(files.ca_path) + ";" +
           file_stamp(files.crl_path);
}

bool ServerTlsContext::configure(SSL_CTX& ctx) {
    try {
        SSL_CTX_set_app_data(&ctx, this);
        apply_protocol_policy(&ctx);
        SSL_CTX_set_options(&ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
        auto snap = snapshot();
        const auto& creds = snap->credentials;
        if (SSL_CTX_use_certificate(&ctx, creds.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(&ctx, creds.key.get()) != 1 ||
            SSL_CTX_set1_chain(&ctx, creds.chain.get()) != 1)
            return false;
        context_certificate_generation_ = snap->credentials_generation;
        SSL_CTX_set_cert_cb(&ctx, HandshakeCallbacks::select_certificate, this);
        SSL_CTX_set_verify(&ctx, settings_.client_certificate_optional ? SSL_VERIFY_PEER
                                                                        : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           nullptr);
        SSL_CTX_set_cert_verify_callback(&ctx, HandshakeCallbacks::verify_client, this);
        SSL_CTX_set_info_callback(&ctx, HandshakeCallbacks::on_info);
        tickets_->install(ctx);
        return true;
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "tls_setup_failed", {{"reason", e.what()}});
        return false;
    }
}

bool ServerTlsContext::files_changed() const {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    return file_stamps() != loaded_stamps_;
}

bool ServerTlsContext::reload(const std::string& why, ReloadTrigger trigger) {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    const auto current = snapshot();
    const std::string stamps = file_stamps();
    std::shared_ptr<const CredentialSnapshot> next;
    try {
        next = load_snapshot(settings_.files, current->generation + 1, current.get());
    } catch (const std::exception& e) {
        // Not marked as loaded: the next poll tries the files again.
        if (trigger == ReloadTrigger::file_change && still_settling(e)) return false;
        loaded_stamps_ = stamps;  // do not retry the same broken files every poll
        unsettled_since_.reset();
        torn_warned_ = false;
        {
            std::lock_guard<std::mutex> status_lock(status_mutex_);
            ++status_.rejected;
        }
        set_failing(std::string("the files could not be loaded since ") + format_rfc3339(std::chrono::system_clock::now()) +
                    ": " + e.what());
        log_event(spdlog::level::err, "tls_reload_rejected",
                  {{"trigger", why}, {"reason", e.what()}, {"serving_generation", current->generation}});
        return false;
    }
    loaded_stamps_ = stamps;
    unsettled_since_.reset();
    torn_warned_ = false;
    {
        std::lock_guard<std::mutex> status_lock(status_mutex_);
        ++status_.ok;
        status_.last_success = std::chrono::system_clock::now();
        status_.failing.clear();
    }
    put_in_service(next, current);
    log_event(spdlog::level::info, "tls_reloaded",
              {{"trigger", why},
               {"generation", next->generation},
               {"certificate_serial", next->credentials.certificates.front().serial_hex()},
               {"trust_changed", next->trust_generation != current->trust_generation},
               {"trusted_cas", next->trust->anchors().size()},
               {"crls", next->trust->crls().size()}});
    warn_about_expiry();
    return true;
}

// Called with reload_mutex_ held, when files that changed do not load. True while they may
// still be being written: anything for kSettle, a certificate whose key does not match it yet
// for as long as it takes (with one WARNING once kSettle has passed).
bool ServerTlsContext::still_settling(const std::exception& failure) {
    const auto now = std::chrono::steady_clock::now();
    if (!unsettled_since_) unsettled_since_ = now;
    if (now - *unsettled_since_ < kSettle) {
        log_event(spdlog::level::debug, "tls_reload_waiting", {{"reason", failure.what()}});
        return true;
    }
    if (!dynamic_cast<const KeyMismatch*>(&failure)) return false;
    if (!torn_warned_) {
        torn_warned_ = true;
        const long waited = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(now - *unsettled_since_).count());
        set_failing(std::string("the certificate and key on disk have not matched for ") + std::to_string(waited) +
                    " s: " + failure.what());
        log_event(spdlog::level::warn, "tls_credentials_torn",
                  {{"reason", failure.what()},
                   {"waited_seconds", waited},
                   {"effect", "the last good certificate keeps serving; the pair is tried again at every poll"}});
    }
    return true;
}

void ServerTlsContext::set_failing(std::string why) {
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_.failing = std::move(why);
}

ReloadStatus ServerTlsContext::reload_status() const {
    std::lock_guard<std::mutex> lock(status_mutex_);
    return status_;
}

// With reload_mutex_ held: `next` replaces `current` for new handshakes.
void ServerTlsContext::put_in_service(std::shared_ptr<const CredentialSnapshot> next,
                                      const std::shared_ptr<const CredentialSnapshot>& current) {
    if (next->trust_generation != current->trust_generation) tickets_->rotate(next->trust_generation);
    std::atomic_store(&snapshot_, std::move(next));
}

bool ServerTlsContext::install_crl(const std::string& crl) {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    const auto current = snapshot();
    auto next = with_fetched_crl(settings_.files, *current, crl, current->generation + 1);
    if (next->trust_digest == current->trust_digest) return false;
    log_event(spdlog::level::info, "crl_installed",
              {{"url", settings_.files.crl_url},
               {"generation", next->generation},
               {"crls", next->trust->crls().size()},
               {"next_update", next->trust->earliest_crl_next_update() ? format_rfc3339(*next->trust->earliest_crl_next_update()) : ""}});
    put_in_service(std::move(next), current);
    return true;
}

void ServerTlsContext::watch_revocation() {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    const auto snap = snapshot();
    const auto problem = snap->revocation_problem(std::chrono::system_clock::now());
    if (problem.has_value() == revocation_unavailable_) return;
    revocation_unavailable_ = problem.has_value();
    const bool fail_closed = settings_.clients.stale_crl == StaleCrl::fail_closed;
    if (!problem) {
        log_event(spdlog::level::info, "crl_fresh", {{"effect", "client certificates are checked against the CRL again"}});
        return;
    }
    // A session resumed from a ticket would skip the refusal.
    if (fail_closed) tickets_->rotate(snap->trust_generation);
    log_event(fail_closed ? spdlog::level::err : spdlog::level::warn, "crl_stale",
              {{"reason", *problem},
               {"effect", fail_closed ? "every new handshake is refused until a fresh CRL is in (--crl-stale fail-closed)"
                                      : "clients are admitted without revocation checks until a fresh CRL is in "
                                        "(--crl-stale fail-open)"}});
}

void ServerTlsContext::watch_token_key() {
    const bool suspect = key_suspect_.exchange(false);
    std::lock_guard<std::mutex> lock(reload_mutex_);
    if (!suspect && !key_unavailable_) return;
    const auto current = snapshot();
    if (!key_unavailable_) {
        const auto failure = signing_failure(current->credentials.key.get(), current->credentials.leaf.get());
        if (!failure) return;  // the handshake failed for another reason
        key_unavailable_ = true;
        set_failing("the key " + settings_.files.key_path + " cannot sign since " + format_rfc3339(std::chrono::system_clock::now()) +
                    ": " + *failure);
        log_event(spdlog::level::err, "tls_key_unavailable",
                  {{"key", settings_.files.key_path},
                   {"reason", *failure},
                   {"effect", "new handshakes fail; established connections carry on; the key is opened again at every poll"}});
    }
    // The module's handles to a token that went away stay dead when it returns: the key is
    // looked up and loaded again, as a reload would.
    std::shared_ptr<const CredentialSnapshot> next;
    try {
        next = load_snapshot(settings_.files, current->generation + 1, current.get());
    } catch (const std::exception& e) {
        // Still away: logged once at the start of the outage, and at every try for debugging.
        log_event(spdlog::level::debug, "tls_key_still_unavailable", {{"reason", e.what()}});
        return;
    }
    key_unavailable_ = false;
    {
        std::lock_guard<std::mutex> status_lock(status_mutex_);
        status_.failing.clear();
    }
    put_in_service(next, current);
    log_event(spdlog::level::info, "tls_key_recovered", {{"key", settings_.files.key_path}, {"generation", next->generation}});
}

void ServerTlsContext::warn_about_expiry() const {
    auto snap = snapshot();
    const auto horizon = std::chrono::system_clock::now() + settings_.expiry_warning;
    auto warn = [](const char* which, const std::string& file, const pki::Certificate& cert) {
        log_event(spdlog::level::warn, "certificate_expiring",
                  {{"which", which}, {"file", file}, {"subject", cert.subject()},
                   {"not_after", format_rfc3339(cert.not_after())}, {"days_left", days_until(cert.not_after())}});
    };
    const auto& leaf = snap->credentials.certificates.front();
    if (leaf.not_after() < horizon) warn("server certificate", settings_.files.cert_path, leaf);
    for (const auto& ca : snap->trust->anchors())
        if (ca.not_after() < horizon) warn("trusted CA", settings_.files.ca_path, ca);
}

std::shared_ptr<const PeerIdentity> ServerTlsContext::peer_identity(const SSL* ssl) { return attached_identity(ssl); }

}  // namespace mcpmtls::tls
