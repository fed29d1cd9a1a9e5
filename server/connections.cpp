#include "server/connections.hpp"

namespace mcpmtls::server {

ConnectionManager::ConnectionManager(tls::ServerTlsContext& tls, Settings settings, tls::VerdictObserver* verdicts)
    : tls_(tls), settings_(settings), governor_(settings.limits, verdicts) {
    tls_.set_handshake_observer(&governor_);
}

ConnectionManager::~ConnectionManager() { tls_.set_handshake_observer(nullptr); }

void ConnectionManager::install(httplib::Server& server) {
    // The workers start now, so that a server that says it has started has them all; cpp-httplib
    // takes the pool when it starts listening and deletes it when it stops.
    auto start_pool = [this] {
        auto* created = new WorkerPool(settings_.max_connections, governor_);
        pool_.store(created);
        return created;
    };
    prepared_.reset(start_pool());
    server.new_task_queue = [this, start_pool]() -> httplib::TaskQueue* {
        if (prepared_) return prepared_.release();
        return start_pool();  // listening again
    };
}

MountHooks ConnectionManager::hooks() {
    MountHooks hooks;
    hooks.identify = [](const httplib::Request& req) { return tls::ServerTlsContext::peer_identity(req.ssl); };
    hooks.request_started = [this](const httplib::Request& req) { governor_.request_started(req.ssl); };
    hooks.request_finished = [this](const httplib::Request& req, bool complete) {
        WorkerPool* workers = pool_.load();
        const bool yield = workers && workers->should_yield();
        governor_.request_finished(req.ssl, complete);
        return yield;
    };
    hooks.end_after_answer = [this](const httplib::Request& req) { governor_.end_after_answer(req.ssl); };
    return hooks;
}

}  // namespace mcpmtls::server
