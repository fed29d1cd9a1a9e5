#include "server/supervisor.hpp"

#include "common/log.hpp"

#include <pthread.h>

namespace mcpmtls::server {

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);  // spiffe-helper's and ghostunnel's reload signal
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

Supervisor::Supervisor(tls::ServerTlsContext& tls, httplib::Server& server, std::chrono::seconds reload_interval,
                       sigset_t signals)
    : tls_(tls), server_(server), reload_interval_(reload_interval), signals_(signals) {
    signal_thread_ = std::thread([this] { take_signals(); });
    watch_thread_ = std::thread([this] { watch_files(); });
}

Supervisor::~Supervisor() {
    stop_watching();
    watch_thread_.join();
    // The signal thread ends after a stop signal; if listening ended otherwise, wake it.
    pthread_kill(signal_thread_.native_handle(), SIGTERM);
    signal_thread_.join();
}

void Supervisor::stop_watching() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
}

void Supervisor::take_signals() {
    for (;;) {
        int sig = 0;
        if (sigwait(&signals_, &sig) != 0) continue;
        if (sig == SIGHUP || sig == SIGUSR1) {
            tls_.reload(sig == SIGHUP ? "SIGHUP" : "SIGUSR1");
            continue;
        }
        log_event(spdlog::level::info, "shutdown",
                  {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}, {"note", "finishing in-flight requests"}});
        stop_watching();
        server_.stop();
        return;
    }
}

void Supervisor::watch_files() {
    std::unique_lock<std::mutex> lock(mutex_);
    auto last_expiry_check = std::chrono::steady_clock::now();
    while (!wake_.wait_for(lock, reload_interval_, [&] { return stopping_; })) {
        if (tls_.files_changed()) {
            // Let a multi-file update (certificate, then key) settle before reading it.
            if (wake_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; })) break;
            lock.unlock();
            tls_.reload("file change", tls::ReloadTrigger::file_change);
            lock.lock();
        }
        tls_.watch_revocation();
        tls_.watch_token_key();
        if (std::chrono::steady_clock::now() - last_expiry_check > std::chrono::hours(12)) {
            tls_.warn_about_expiry();
            last_expiry_check = std::chrono::steady_clock::now();
        }
    }
}

}  // namespace mcpmtls::server
