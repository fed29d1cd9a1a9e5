#pragma once
// The server's connection machinery, owned in one place: the governor (attached to the TLS
// context for exactly as long as this object lives), the worker pool cpp-httplib creates for
// each listen, and the request hooks that tell the governor when a connection is busy or idle.
#include "server/connection_governor.hpp"
#include "server/httplib_adapter.hpp"
#include "server/worker_pool.hpp"
#include "tls/server_context.hpp"

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <memory>

namespace mcpmtls::server {

class ConnectionManager {
public:
    struct Settings {
        size_t max_connections = 0;  // worker threads: connections served at once
        ConnectionGovernor::Limits limits;
    };

    // Attaches the governor to `tls`, which must outlive this object; `verdicts` (may be null,
    // else outlives this object too) counts handshakes that fail before a certificate is judged.
    ConnectionManager(tls::ServerTlsContext& tls, Settings settings, tls::VerdictObserver* verdicts = nullptr);
    // Detaches the governor. Destroy only after the server has stopped listening.
    ~ConnectionManager();
    ConnectionManager(const ConnectionManager&) = delete;
    ConnectionManager& operator=(const ConnectionManager&) = delete;

    // Gives `server` its worker pool; `server` must not outlive this object.
    void install(httplib::Server& server);
    // Hooks for mount(): the verified identity of a request, and busy/idle for the governor.
    MountHooks hooks();

    size_t closed_to_make_room() const { return governor_.closed_to_make_room(); }
    ConnectionGovernor::Census census() const { return governor_.census(); }

private:
    tls::ServerTlsContext& tls_;
    const Settings settings_;
    ConnectionGovernor governor_;
    std::unique_ptr<WorkerPool> prepared_;    // started before listening, until httplib takes it
    std::atomic<WorkerPool*> pool_{nullptr};  // owned by httplib while it listens
};

}  // namespace mcpmtls::server
