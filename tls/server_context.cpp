#include "tls/server_context.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"

#include <cstring>
#include <openssl/hmac.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/stat.h>

namespace mcpmtls::tls {

using nlohmann::json;

// Ticket keys: a fresh set whenever trust changes, so that no ticket issued under the old trust
// can be decrypted (and so resumed) afterwards.
struct ServerTlsContext::TicketKeys {
    struct Key {
        unsigned char name[16];
        unsigned char aes[32];
        unsigned char hmac[32];
    };
    Key current{};
    uint64_t trust_generation = 0;

    static std::shared_ptr<const TicketKeys> fresh(uint64_t trust_generation) {
        auto keys = std::make_shared<TicketKeys>();
        if (RAND_bytes(keys->current.name, sizeof keys->current.name) != 1 ||
            RAND_bytes(keys->current.aes, sizeof keys->current.aes) != 1 ||
            RAND_bytes(keys->current.hmac, sizeof keys->current.hmac) != 1)
            throw Error(kExitFailed, "no randomness for TLS ticket keys");
        keys->trust_generation = trust_generation;
        return keys;
    }
};

namespace {

json identity_to_json(const PeerIdentity& id) {
    return {{"subject", id.subject}, {"cn", id.common_name},      {"dns", id.dns_names},
            {"ip", id.ip_addresses}, {"uri", id.uris},           {"email", id.emails},
            {"serial", id.serial_hex}, {"fp", id.fingerprint_sha256}, {"verified", id.fully_verified},
            {"skipped", id.skipped_checks}};
}

PeerIdentity identity_from_json(const json& in) {
    PeerIdentity id;
    id.subject = in.at("subject").get<std::string>();
    id.common_name = in.at("cn").get<std::string>();
    id.dns_names = in.at("dns").get<std::vector<std::string>>();
    id.ip_addresses = in.at("ip").get<std::vector<std::string>>();
    id.uris = in.at("uri").get<std::vector<std::string>>();
    id.emails = in.at("email").get<std::vector<std::string>>();
    id.serial_hex = in.at("serial").get<std::string>();
    id.fingerprint_sha256 = in.at("fp").get<std::string>();
    id.fully_verified = in.at("verified").get<bool>();
    id.skipped_checks = in.at("skipped").get<std::vector<std::string>>();
    return id;
}

void free_identity(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<std::shared_ptr<const PeerIdentity>*>(ptr);
}

int identity_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_identity);
    return index;
}

void attach_identity(SSL* ssl, std::shared_ptr<const PeerIdentity> identity) {
    delete static_cast<std::shared_ptr<const PeerIdentity>*>(SSL_get_ex_data(ssl, identity_index()));
    SSL_set_ex_data(ssl, identity_index(), new std::shared_ptr<const PeerIdentity>(std::move(identity)));
}

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return to_hex(digest, len);
}

std::string file_stamp(const std::string& path) {
    if (path.empty()) return "-";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
           "." + std::to_string(st.st_mtim.tv_nsec);
}

long days_until(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::hours>(t - std::chrono::system_clock::now()).count() / 24;
}

}  // namespace

// Static callbacks OpenSSL calls during handshakes; they reach the context through the
// SSL_CTX's app data.
struct HandshakeCallbacks {
    // SHA-256 over the presented certificates' own SHA-256s (OpenSSL caches each DER digest).
    static bool chain_digest(X509* leaf, STACK_OF(X509)* presented, ChainDigest& out) {
        if (!leaf) return false;
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        if (!md) return false;
        bool ok = EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1;
        auto add = [&](X509* cert) {
            unsigned char d[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            ok = ok && X509_digest(cert, EVP_sha256(), d, &len) == 1 && EVP_DigestUpdate(md, d, len) == 1;
        };
        add(leaf);
        for (int i = 0; presented && i < sk_X509_num(presented); ++i) add(sk_X509_value(presented, i));
        unsigned int out_len = 0;
        ok = ok && EVP_DigestFinal_ex(md, out.data(), &out_len) == 1 && out_len == out.size();
        EVP_MD_CTX_free(md);
        return ok;
    }

    static ServerTlsContext* context_of(SSL* ssl) {
        return static_cast<ServerTlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    }

    // Presents the certificate of the snapshot current at this handshake.
    static int select_certificate(SSL* ssl, void* arg) {
        auto* self = static_cast<ServerTlsContext*>(arg);
        auto snap = self->snapshot();
        // Until the first reload every SSL inherits the context's certificate (set in
        // configure()); setting it per connection costs OpenSSL 3 a round of key checks.
        if (snap->generation == self->context_certificate_generation_) return 1;
        const auto& creds = snap->credentials;
        if (SSL_use_certificate(ssl, creds.leaf.get()) != 1 || SSL_use_PrivateKey(ssl, creds.key.get()) != 1 ||
            SSL_set1_chain(ssl, creds.chain.get()) != 1) {
            ERR_clear_error();
            return 0;
        }
        return 1;
    }

    // Every client chain is judged here by Botan, never by OpenSSL's own verifier. No exception
    // may cross back into OpenSSL's C frames: whatever escapes the verification is a refusal.
    static int verify_client(X509_STORE_CTX* store_ctx, void* arg) {
        try {
            return verify_client_unguarded(store_ctx, arg);
        } catch (const std::exception& e) {
            SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
            log_event(spdlog::level::err, "tls_handshake",
                      {{"peer", peer_address_of(ssl)}, {"verdict", "rejected"},
                       {"reason", std::string("internal error while verifying the client certificate: ") + e.what()}});
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
    }

    static int verify_client_unguarded(X509_STORE_CTX* store_ctx, void* arg) {
        auto* self = static_cast<ServerTlsContext*>(arg);
        SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
        const std::string peer = peer_address_of(ssl);
        auto snap = self->snapshot();
        X509* presented_leaf = X509_STORE_CTX_get0_cert(store_ctx);
        STACK_OF(X509)* presented = X509_STORE_CTX_get0_untrusted(store_ctx);
        const auto now = std::chrono::system_clock::now();
        ChainDigest digest{};
        const bool digested = chain_digest(presented_leaf, presented, digest);
        if (digested) {
            if (auto cached = snap->verdicts->find(digest, now)) {
                if (self->client_allowed(*cached)) {
                    log_event(spdlog::level::debug, "tls_handshake",
                              {{"peer", peer}, {"subject", cached->subject}, {"serial", cached->serial_hex},
                               {"fingerprint_sha256", cached->fingerprint_sha256}, {"verdict", "accepted"},
                               {"cached", true}});
                    attach_identity(ssl, cached);
                    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
                    return 1;
                }
            }
        }
        std::vector<pki::Certificate> chain;
        try {
            chain = peer_chain(presented_leaf, presented);
        } catch (const std::exception& e) {
            log_event(spdlog::level::warn, "tls_handshake",
                      {{"peer", peer}, {"verdict", "rejected"}, {"reason", std::string("unparseable certificate: ") + e.what()}});
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        if (chain.empty()) {
            log_event(spdlog::level::warn, "tls_handshake", {{"peer", peer}, {"verdict", "rejected"}, {"reason", "no client certificate"}});
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        pki::VerifyOptions options;
        options.purpose = pki::Purpose::client_auth;
        const auto result = pki::verify_chain(chain, *snap->trust, options);
        json fields = describe_peer(chain.front(), peer);
        auto identity = std::make_shared<PeerIdentity>(identity_of(chain.front()));

        bool accepted = result.valid();
        if (!accepted && self->settings_.relaxed && result.only_relaxable_failures()) {
            accepted = true;
            identity->skipped_checks = result.failed_check_names();
        }
        identity->fully_verified = result.valid();
        std::string reason = result.reason();
        if (accepted && result.valid() && digested) {
            // Cached until a certificate of the chain, a trust anchor or the CRL expires.
            auto expires = chain.front().not_after();
            for (const auto& cert : chain) expires = std::min(expires, cert.not_after());
            for (const auto& ca : snap->trust->anchors()) expires = std::min(expires, ca.not_after());
            if (auto next = snap->trust->earliest_crl_next_update()) expires = std::min(expires, *next);
            snap->verdicts->remember(digest, identity, expires);
        }
        if (accepted && !self->client_allowed(*identity)) {
            accepted = false;
            reason = "client identity '" + identity->display_name() + "' is not in the --allow-client list";
        }
        if (!accepted) {
            fields["verdict"] = "rejected";
            fields["reason"] = reason;
            log_event(spdlog::level::warn, "tls_handshake", fields);
            X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        if (!identity->skipped_checks.empty()) {
            fields["verdict"] = "accepted_relaxed";
            fields["skipped_checks"] = identity->skipped_checks;
            std::string all;
            for (const auto& f : result.failures) all += (all.empty() ? "" : "; ") + f.message;
            fields["reason"] = "RELAXED MODE: accepted despite: " + all;
            log_event(spdlog::level::warn, "tls_handshake", fields);
        } else {
            fields["verdict"] = "accepted";
            log_event(spdlog::level::info, "tls_handshake", fields);
        }
        attach_identity(ssl, std::move(identity));
        X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
        return 1;
    }

    // Handshakes that fail before our verifier runs (no client certificate, plain HTTP, garbage)
    // still deserve a verdict in the log.
    static void on_info(const SSL* ssl, int where, int value) {
        if (where & SSL_CB_HANDSHAKE_DONE) {
            // OpenSSL hands info callbacks a const SSL, but the connection is ours to annotate.
            SSL* connection = const_cast<SSL*>(ssl);
            auto* self = context_of(connection);
            if (self && self->governor_) self->governor_->track(connection);
            return;
        }
        if (!(where & SSL_CB_WRITE_ALERT)) return;
        const int level = value >> 8, description = value & 0xff;
        if (level != SSL3_AL_FATAL) return;
        std::string reason;
        if (description == 116 || (description == SSL_AD_HANDSHAKE_FAILURE && !SSL_get0_peer_certificate(ssl) &&
                                   SSL_get_state(ssl) != TLS_ST_BEFORE))
            reason = "no client certificate";
        else if (description == SSL_AD_BAD_CERTIFICATE || description == SSL_AD_CERTIFICATE_UNKNOWN ||
                 description == SSL_AD_UNKNOWN_CA || description == SSL_AD_ACCESS_DENIED)
            return;  // our verifier already logged why
        else
            reason = std::string("TLS handshake failed: ") + SSL_alert_desc_string_long(value);
        log_event(spdlog::level::warn, "tls_handshake",
                  {{"peer", peer_address_of(ssl)}, {"verdict", "rejected"}, {"reason", reason}});
    }

    // HMAC with an EVP_MD object (not a digest name): OpenSSL 3 would otherwise look the
    // digest up by name for every ticket.
    static int ticket_key(SSL* ssl, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                          HMAC_CTX* mac, int encrypt) {
        auto* self = context_of(ssl);
        auto keys = std::atomic_load(&self->ticket_keys_);
        const auto& key = keys->current;
        if (!encrypt && std::memcmp(key_name, key.name, sizeof key.name) != 0) return 0;  // old key: full handshake
        if (encrypt) {
            std::memcpy(key_name, key.name, sizeof key.name);
            if (RAND_bytes(iv, 16) != 1) return -1;
        }
        if (HMAC_Init_ex(mac, key.hmac, sizeof key.hmac, EVP_sha256(), nullptr) != 1) return -1;
        int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv)
                         : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv);
        return ok == 1 ? 1 : -1;
    }

    // The verified identity travels inside the (encrypted) ticket, with the trust generation it
    // was verified under: a ticket from before a trust or CRL change never resumes.
    static int ticket_generate(SSL* ssl, void*) {
        auto* holder = static_cast<std::shared_ptr<const PeerIdentity>*>(SSL_get_ex_data(ssl, identity_index()));
        SSL_SESSION* session = SSL_get0_session(ssl);
        if (!holder || !*holder || !session) return 1;
        auto* self = context_of(ssl);
        std::string data = std::to_string(self->snapshot()->trust_generation) + "\n" + identity_to_json(**holder).dump();
        SSL_SESSION_set1_ticket_appdata(session, data.data(), data.size());
        return 1;
    }

    static SSL_TICKET_RETURN ticket_decrypted(SSL* ssl, SSL_SESSION* session, const unsigned char*, size_t,
                                              SSL_TICKET_STATUS status, void*) {
        if (status == SSL_TICKET_FATAL_ERR_MALLOC || status == SSL_TICKET_FATAL_ERR_OTHER) return SSL_TICKET_RETURN_ABORT;
        if (status != SSL_TICKET_SUCCESS && status != SSL_TICKET_SUCCESS_RENEW) return SSL_TICKET_RETURN_IGNORE_RENEW;
        void* raw = nullptr;
        size_t len = 0;
        if (SSL_SESSION_get0_ticket_appdata(session, &raw, &len) != 1 || !raw || len == 0)
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        std::string data(static_cast<const char*>(raw), len);
        auto newline = data.find('\n');
        auto* self = context_of(ssl);
        if (newline == std::string::npos ||
            data.substr(0, newline) != std::to_string(self->snapshot()->trust_generation))
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        try {
            auto identity = std::make_shared<const PeerIdentity>(identity_from_json(json::parse(data.substr(newline + 1))));
            attach_identity(ssl, identity);
        } catch (const std::exception&) {
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        }
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
    }
};

ServerTlsContext::ServerTlsContext(ServerTlsSettings settings) : settings_(std::move(settings)) {
    if (settings_.cert_path.empty() || settings_.key_path.empty() || settings_.ca_path.empty())
        throw InputError("the server needs --cert, --key and --ca");
    loaded_stamps_ = file_stamps();
    snapshot_ = load_snapshot(1, nullptr);
    ticket_keys_ = TicketKeys::fresh(snapshot_->trust_generation);
}

ServerTlsContext::~ServerTlsContext() = default;

std::string ServerTlsContext::file_stamps() const {
    return file_stamp(settings_.cert_path) + ";" + file_stamp(settings_.key_path) + ";" + file_stamp(settings_.ca_path) +
           ";" + file_stamp(settings_.crl_path);
}

std::shared_ptr<const CredentialSnapshot> ServerTlsContext::load_snapshot(uint64_t generation,
                                                                          const CredentialSnapshot* previous) const {
    auto snap = std::make_shared<CredentialSnapshot>();
    snap->generation = generation;
    snap->credentials = load_key_pair(settings_.cert_path, settings_.key_path);
    const std::string bundle = read_file(settings_.ca_path);
    const bool use_crl = !settings_.crl_path.empty() && (!settings_.crl_optional || file_exists(settings_.crl_path));
    const std::string crl = use_crl ? read_file(settings_.crl_path) : std::string();
    std::vector<pki::RevocationList> crls;
    if (use_crl) crls = pki::RevocationList::parse_all(crl, settings_.crl_path);
    snap->trust = std::make_shared<const pki::TrustStore>(pki::Certificate::parse_all(bundle, settings_.ca_path), std::move(crls));
    snap->trust_digest = sha256_hex(bundle + '\0' + crl);
    const bool same_trust = previous && previous->trust_digest == snap->trust_digest;
    snap->trust_generation = previous ? previous->trust_generation + (same_trust ? 0 : 1) : 1;
    snap->verdicts = same_trust ? previous->verdicts : std::make_shared<VerdictCache>();
    if (auto next = snap->trust->earliest_crl_next_update(); next && *next < std::chrono::system_clock::now())
        log_event(spdlog::level::warn, "crl_expired",
                  {{"file", settings_.crl_path}, {"next_update", format_rfc3339(*next)},
                   {"effect", "every client certificate is refused until a fresh CRL is installed (pki crl)"}});
    return snap;
}

bool ServerTlsContext::configure(SSL_CTX& ctx) {
    SSL_CTX_set_app_data(&ctx, this);
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    // TLS 1.2: ECDHE with AEAD only. TLS 1.3 suites are all AEAD with (EC)DHE.
    if (SSL_CTX_set_cipher_list(&ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
        return false;
    SSL_CTX_set1_groups_list(&ctx, "X25519:P-256:P-384");
    {
        auto snap = snapshot();
        const auto& creds = snap->credentials;
        if (SSL_CTX_use_certificate(&ctx, creds.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(&ctx, creds.key.get()) != 1 ||
            SSL_CTX_set1_chain(&ctx, creds.chain.get()) != 1)
            return false;
        context_certificate_generation_ = snap->generation;
    }
    SSL_CTX_set_cert_cb(&ctx, HandshakeCallbacks::select_certificate, this);
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_cert_verify_callback(&ctx, HandshakeCallbacks::verify_client, this);
    SSL_CTX_set_info_callback(&ctx, HandshakeCallbacks::on_info);
    static const unsigned char session_context[] = "mcp-mtls";
    SSL_CTX_set_session_id_context(&ctx, session_context, sizeof session_context - 1);
    // Stateless tickets only: nothing server-side to flush, and the ticket key callback decides
    // what may resume.
    SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(&ctx, 1);
    SSL_CTX_set_timeout(&ctx, 3600);
    SSL_CTX_set_tlsext_ticket_key_cb(&ctx, HandshakeCallbacks::ticket_key);
    SSL_CTX_set_session_ticket_cb(&ctx, HandshakeCallbacks::ticket_generate, HandshakeCallbacks::ticket_decrypted, this);
    return true;
}

bool ServerTlsContext::files_changed() const {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    return file_stamps() != loaded_stamps_;
}

bool ServerTlsContext::reload(const std::string& why) {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    const auto current = snapshot();
    const std::string stamps = file_stamps();
    std::shared_ptr<const CredentialSnapshot> next;
    try {
        next = load_snapshot(current->generation + 1, current.get());
    } catch (const std::exception& e) {
        loaded_stamps_ = stamps;  // do not retry the same broken files every poll
        log_event(spdlog::level::err, "tls_reload_rejected",
                  {{"trigger", why}, {"reason", e.what()}, {"serving_generation", current->generation}});
        return false;
    }
    loaded_stamps_ = stamps;
    const bool trust_changed = next->trust_generation != current->trust_generation;
    if (trust_changed) std::atomic_store(&ticket_keys_, TicketKeys::fresh(next->trust_generation));
    std::atomic_store(&snapshot_, next);
    log_event(spdlog::level::info, "tls_reloaded",
              {{"trigger", why},
               {"generation", next->generation},
               {"certificate_serial", next->credentials.certificates.front().serial_hex()},
               {"trust_changed", trust_changed},
               {"trusted_cas", next->trust->anchors().size()},
               {"crls", next->trust->crls().size()}});
    warn_about_expiry();
    return true;
}

void ServerTlsContext::warn_about_expiry() const {
    auto snap = snapshot();
    const auto horizon = std::chrono::system_clock::now() + settings_.expiry_warning;
    const auto& leaf = snap->credentials.certificates.front();
    if (leaf.not_after() < horizon)
        log_event(spdlog::level::warn, "certificate_expiring",
                  {{"which", "server certificate"}, {"file", settings_.cert_path}, {"subject", leaf.subject()},
                   {"not_after", format_rfc3339(leaf.not_after())}, {"days_left", days_until(leaf.not_after())}});
    for (const auto& ca : snap->trust->anchors())
        if (ca.not_after() < horizon)
            log_event(spdlog::level::warn, "certificate_expiring",
                      {{"which", "trusted CA"}, {"file", settings_.ca_path}, {"subject", ca.subject()},
                       {"not_after", format_rfc3339(ca.not_after())}, {"days_left", days_until(ca.not_after())}});
}

std::shared_ptr<const PeerIdentity> ServerTlsContext::peer_identity(const SSL* ssl) {
    if (!ssl) return nullptr;
    auto* holder = static_cast<std::shared_ptr<const PeerIdentity>*>(SSL_get_ex_data(ssl, identity_index()));
    return holder ? *holder : nullptr;
}

}  // namespace mcpmtls::tls

namespace mcpmtls::tls {

bool ServerTlsContext::client_allowed(const PeerIdentity& identity) const {
    if (settings_.allowed_clients.empty()) return true;
    for (const auto& id : settings_.allowed_clients)
        if (identity.matches(id)) return true;
    return false;
}

}  // namespace mcpmtls::tls
