#pragma once
// What a long-running TLS server does besides serving: it reloads its credentials on SIGHUP or
// SIGUSR1 and when a watched file changes, watches its CRL go stale, warns of expiry, and stops
// the HTTP server on SIGINT or SIGTERM. Shared by the MCP servers and the online CA (pki serve).
#include "tls/server_context.hpp"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <httplib.h>
#include <mutex>
#include <thread>

namespace mcpmtls::server {

// The signals a Supervisor takes. Block them (pthread_sigmask) before any thread starts, the
// logger's included, so that only the supervisor's signal thread receives them.
sigset_t handled_signals();

// Signals are taken synchronously by one thread (sigwait), so reload and shutdown run as
// ordinary code, not in a signal handler. Its two threads end with it.
class Supervisor {
public:
    Supervisor(tls::ServerTlsContext& tls, httplib::Server& server, std::chrono::seconds reload_interval, sigset_t signals);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

private:
    void stop_watching();
    void take_signals();
    void watch_files();

    tls::ServerTlsContext& tls_;
    httplib::Server& server_;
    const std::chrono::seconds reload_interval_;
    sigset_t signals_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread signal_thread_, watch_thread_;
};

}  // namespace mcpmtls::server
