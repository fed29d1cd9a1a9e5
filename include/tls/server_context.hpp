#pragma once
// The server side of mutual TLS: an OpenSSL context whose every certificate decision is made by
// the project's Botan verifier, with credentials that can be swapped while serving.
//
// Data flows one way: files -> immutable snapshot (shared_ptr, swapped atomically on reload)
// -> handshake (certificate chosen and client judged with the snapshot current at that moment)
// -> request (the verified identity is attached to the connection).
#include "pki/verifier.hpp"
#include "tls/connection_governor.hpp"
#include "tls/credentials.hpp"
#include "tls/peer_identity.hpp"
#include "tls/verdict_cache.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mcpmtls::tls {

struct ServerTlsSettings {
    std::string cert_path;
    std::string key_path;
    std::string ca_path;   // trust bundle for client certificates
    std::string crl_path;  // optional
    bool crl_optional = false;  // a missing crl_path means "no CRL yet" (the default certs/ca.crl)
    bool relaxed = false;  // accept unknown issuer / expired client certs with a WARNING
    std::vector<std::string> allowed_clients;  // CN, DNS SAN or URI SAN; empty: any verified client
    std::chrono::seconds expiry_warning = std::chrono::hours(24 * 14);
};

struct CredentialSnapshot {
    uint64_t generation = 0;        // every successful load
    uint64_t trust_generation = 0;  // only when the trust bundle or CRL content changed
    std::string trust_digest;       // SHA-256 of bundle + CRL bytes
    KeyPair credentials;
    std::shared_ptr<const pki::TrustStore> trust;
    // Shared by snapshots of one trust generation; a trust or CRL change starts a new one.
    std::shared_ptr<VerdictCache> verdicts;
};

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

    // Completed handshakes are reported to the governor (set before serving; may be null).
    void set_connection_governor(ConnectionGovernor* governor) { governor_ = governor; }

    struct TicketKeys;

private:
    bool client_allowed(const PeerIdentity& identity) const;
    std::shared_ptr<const CredentialSnapshot> load_snapshot(uint64_t generation, const CredentialSnapshot* previous) const;
    std::string file_stamps() const;

    friend struct HandshakeCallbacks;
    ServerTlsSettings settings_;
    std::shared_ptr<const CredentialSnapshot> snapshot_;
    std::shared_ptr<const TicketKeys> ticket_keys_;
    mutable std::mutex reload_mutex_;
    std::string loaded_stamps_;
    uint64_t context_certificate_generation_ = 0;
    ConnectionGovernor* governor_ = nullptr;  // the snapshot whose certificate the SSL_CTX holds
};

}  // namespace mcpmtls::tls
