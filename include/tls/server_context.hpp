#pragma once
// The server side of mutual TLS: an OpenSSL context whose every certificate decision is made by
// the project's Botan verifier, with credentials that can be swapped while serving.
//
// Data flows one way: files (and a CRL fetched from --crl-url) -> immutable snapshot
// (shared_ptr, swapped atomically on reload) -> handshake (certificate chosen and client judged
// with the snapshot current at that moment) -> request (the verified identity is attached to
// the connection).
//
// Files rewritten by an engine are read as they settle: kubelet swaps a whole directory at once
// (its files are links through ..data, followed to what they name), spiffe-helper rewrites the
// certificate and then the key in place. A set that does not load right after a change is tried
// again at the next poll for a few seconds, and a certificate whose key has not arrived yet for
// as long as it takes (one WARNING): the last good set keeps serving meanwhile.
#include "tls/client_verdict.hpp"
#include "tls/credential_snapshot.hpp"
#include "tls/handshake_observer.hpp"
#include "tls/peer_identity.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace mcpmtls::tls {

struct ServerTlsSettings {
    ServerFiles files;
    ClientPolicy clients;
    // The online CA (pki serve): a client may connect without a certificate (enrollment is
    // authenticated by a token), and one whose certificate fails verification still completes
    // the handshake, with no identity attached, so that the application can refuse it with a
    // reason rather than a TLS alert. Possession of the key is proven either way.
    bool client_certificate_optional = false;
    std::chrono::seconds expiry_warning = std::chrono::hours(24 * 14);
};

// What became of reloads since start, for metrics and readiness.
struct ReloadStatus {
    uint64_t ok = 0;
    uint64_t rejected = 0;
    std::chrono::system_clock::time_point last_success;  // the load at start counts
    // Why the files on disk are not what is served, since when; empty while they are.
    std::string failing;
};

enum class ReloadTrigger {
    signal,       // an operator or a sidecar asked: a bad set is rejected at once
    file_change,  // the watcher saw a change: a set that does not load yet may still be settling
};

class SessionTickets;

class ServerTlsContext {
public:
    // Loads and checks every file; throws InputError (the server then refuses to start).
    explicit ServerTlsContext(ServerTlsSettings settings);
    ~ServerTlsContext();
    ServerTlsContext(const ServerTlsContext&) = delete;
    ServerTlsContext& operator=(const ServerTlsContext&) = delete;

    // Pass to httplib::SSLServer's SSL_CTX setup constructor. The context must outlive the server.
    bool configure(SSL_CTX& ctx);

    // Re-reads the files. A bad set is logged as an ERROR and the current snapshot stays.
    // Returns true if a new snapshot is in service.
    bool reload(const std::string& why, ReloadTrigger trigger = ReloadTrigger::signal);
    // True if any watched file changed since the last load: its resolved path (symlinks
    // followed), inode, size or modification time.
    bool files_changed() const;
    // Puts a CRL fetched from files.crl_url in service (DER or PEM). Throws InputError when it
    // does not parse, is not signed by a trusted CA, or is older than the one in use. Returns
    // true when it changed the trust (session tickets are then rotated, as for a reload).
    bool install_crl(const std::string& crl);
    // Logs when revocation can no longer be checked (a CRL went stale, or none came from
    // --crl-url) and when it can again; with --crl-stale fail-closed, session tickets are
    // rotated at that moment so that no client resumes past the refusal. Call it periodically.
    void watch_revocation();
    // A key in a token that stopped signing (the token was removed, or its module lost it): a
    // handshake that failed on our side marks the key suspect, and the next call checks it by
    // signing. A key that no longer signs is logged once per outage (ERROR tls_key_unavailable,
    // with the token's reason); every call then opens the key again, and puts it in service
    // when the token is back (tls_key_recovered). Established connections are not touched:
    // their keys were agreed at their handshakes. Call it periodically.
    void watch_token_key();
    // Logs WARNINGs for the server certificate or a trusted CA expiring within the window.
    void warn_about_expiry() const;

    std::shared_ptr<const CredentialSnapshot> snapshot() const { return std::atomic_load(&snapshot_); }
    const ServerTlsSettings& settings() const { return settings_; }
    ReloadStatus reload_status() const;

    // The identity verified for this connection (also after session resumption); null if none.
    static std::shared_ptr<const PeerIdentity> peer_identity(const SSL* ssl);
    // The certificate the client presented and proved it holds the key of, verified or not
    // (with client_certificate_optional, the application judges it); none if it sent none.
    static std::optional<pki::Certificate> presented_certificate(const SSL* ssl);

    // Told of every handshake from now on; null detaches. The caller keeps the observer alive
    // until it detaches it, and detaches it only once no handshake can run (the server stopped).
    void set_handshake_observer(HandshakeObserver* observer) { observer_.store(observer); }
    // Told of every verdict from now on, under the same rules.
    void set_verdict_observer(VerdictObserver* observer) { verdict_observer_.store(observer); }

    // How long a set that fails to load after a change is taken for one still being written.
    static constexpr std::chrono::seconds kSettle{3};

private:
    friend struct HandshakeCallbacks;
    std::string file_stamps() const;
    bool still_settling(const std::exception& failure);
    void put_in_service(std::shared_ptr<const CredentialSnapshot> next, const std::shared_ptr<const CredentialSnapshot>& current);
    void set_failing(std::string why);

    ServerTlsSettings settings_;
    std::shared_ptr<const CredentialSnapshot> snapshot_;
    std::unique_ptr<SessionTickets> tickets_;
    mutable std::mutex reload_mutex_;
    std::string loaded_stamps_;
    // Since when the changed files have failed to load, and whether a torn pair was warned of.
    std::optional<std::chrono::steady_clock::time_point> unsettled_since_;
    bool torn_warned_ = false;
    bool revocation_unavailable_ = false;  // as last logged by watch_revocation
    std::atomic<bool> key_suspect_{false};  // a handshake failed on our side since the last check
    bool key_unavailable_ = false;          // as last logged by watch_token_key
    mutable std::mutex status_mutex_;
    ReloadStatus status_;
    uint64_t context_certificate_generation_ = 0;  // the credentials the SSL_CTX holds
    std::atomic<HandshakeObserver*> observer_{nullptr};
    std::atomic<VerdictObserver*> verdict_observer_{nullptr};
};

}  // namespace mcpmtls::tls
