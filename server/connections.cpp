#include "server/connections.hpp"

namespace mcpmtls::server {

ConnectionManager::ConnectionManager(tls::ServerTlsContext& tls, Settings settings)
    : tls_(tls), settings_(settings), governor_(settings.limits) {
    tls_.set_handshake_observer(&governor_);
}

ConnectionManager::~ConnectionManager() { tls_.set_handshake_observer(nullptr); }

void ConnectionManager::install(httplib::Server& server) {
    server.new_task_queue = [this] {
        auto* created = new WorkerPool(settings_.max_connections, governor_);
        pool_.store(created);
        return created;
    };
}

MountHooks ConnectionManager::hooks() {
    MountHooks hooks;
    hooks.identify = [](const httplib::Request& req) { return tls::ServerTlsContext::peer_identity(req.ssl); };
    hooks.request_started = [this](const httplib::Request& req) { governor_.request_started(req.ssl); };
    hooks.request_finished = [this](const httplib::Request& req) {
        WorkerPool* workers = pool_.load();
        const bool yield = workers && workers->should_yield();
        governor_.request_finished(req.ssl);
        return yield;
    };
    return hooks;
}

}  // namespace mcpmtls::server
