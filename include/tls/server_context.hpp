#pragma once
// The server side of mutual TLS: an OpenSSL context whose every certificate decision is made by
// the project's Botan verifier, with credentials that can be swapped while serving.
//
// Data flows one way: files -> immutable snapshot (shared_ptr, swapped atomically on reload)
// -> handshake (certificate chosen and client judged with the snapshot current at that moment)
// -> request (the verified identity is attached to the connection).
#include "tls/client_verdict.hpp"
#include "tls/credential_snapshot.hpp"
#include "tls/handshake_observer.hpp"
#include "tls/peer_identity.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace mcpmtls::tls {

struct ServerTlsSettings {
    ServerFiles files;
    ClientPolicy clients;
    std::chrono::seconds expiry_warning = std::chrono::hours(24 * 14);
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
    bool reload(const std::string& why);
    // True if any watched file's identity (inode, size, mtime) changed since the last load.
    bool files_changed() const;
    // Logs WARNINGs for the server certificate or a trusted CA expiring within the window.
    void warn_about_expiry() const;

    std::shared_ptr<const CredentialSnapshot> snapshot() const { return std::atomic_load(&snapshot_); }
    const ServerTlsSettings& settings() const { return settings_; }

    // The identity verified for this connection (also after session resumption); null if none.
    static std::shared_ptr<const PeerIdentity> peer_identity(const SSL* ssl);

    // Told of every handshake from now on; null detaches. The caller keeps the observer alive
    // until it detaches it, and detaches it only once no handshake can run (the server stopped).
    void set_handshake_observer(HandshakeObserver* observer) { observer_.store(observer); }

private:
    friend struct HandshakeCallbacks;
    std::string file_stamps() const;

    ServerTlsSettings settings_;
    std::shared_ptr<const CredentialSnapshot> snapshot_;
    std::unique_ptr<SessionTickets> tickets_;
    mutable std::mutex reload_mutex_;
    std::string loaded_stamps_;
    uint64_t context_certificate_generation_ = 0;  // the snapshot whose certificate the SSL_CTX holds
    std::atomic<HandshakeObserver*> observer_{nullptr};
};

}  // namespace mcpmtls::tls
