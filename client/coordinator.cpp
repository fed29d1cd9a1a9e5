#include "client/coordinator.hpp"

#include "common/log.hpp"

#include <iostream>

namespace mcpmtls::client {

std::vector<ServerEndpoint> default_servers() {
    return {{"weather", Url::parse("https://localhost:8443/mcp")},
            {"datetime", Url::parse("https://localhost:8444/mcp")},
            {"echo", Url::parse("https://localhost:8445/mcp")}};
}

Coordinator::Coordinator(CoordinatorOptions options) : options_(std::move(options)) {
    bool any_https = false;
    for (const auto& server : options_.servers) {
        if (server.url.scheme == "http" && !options_.allow_http)
            throw InputError("server '" + server.name + "' uses plain http:// (" + server.url.to_string() +
                             "); only https is allowed unless --allow-http is given (local testing only)");
        any_https = any_https || server.url.scheme == "https";
    }
    if (any_https) tls_ = std::make_shared<const tls::ClientTlsContext>(options_.tls);
}

Coordinator::~Coordinator() { close_all(); }

bool Coordinator::has_server(const std::string& name) const {
    for (const auto& s : options_.servers)
        if (s.name == name) return true;
    return false;
}

void log_server_verdict(const std::string& server, const HttpConnection& connection) {
    const auto& v = connection.verdict();
    if (!v.checked || v.chain.empty()) return;
    const auto& leaf = v.chain.front();
    nlohmann::json fields = {{"server", server},
                             {"peer", connection.url().host_header()},
                             {"subject", leaf.subject()},
                             {"serial", leaf.serial_hex()},
                             {"fingerprint_sha256", leaf.fingerprint_sha256()}};
    if (v.accepted && !v.skipped_checks.empty()) {
        std::string why;
        for (const auto& m : v.failure_messages) why += (why.empty() ? "" : "; ") + m;
        fields["verdict"] = "accepted_relaxed";
        fields["skipped_checks"] = v.skipped_checks;
        fields["reason"] = "RELAXED MODE: server certificate accepted despite: " + why;
        log_event(spdlog::level::warn, "tls_handshake", fields);
    } else {
        fields["verdict"] = v.accepted ? (v.pinned ? "accepted_pinned" : "accepted") : "rejected";
        fields["reason"] = v.reason;
        log_event(v.accepted ? spdlog::level::debug : spdlog::level::err, "tls_handshake", fields);
    }
}

McpSession& Coordinator::session(const std::string& name) {
    McpSession* session = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = sessions_.find(name);
        if (it == sessions_.end()) {
            const ServerEndpoint* endpoint = nullptr;
            for (const auto& s : options_.servers)
                if (s.name == name) endpoint = &s;
            if (!endpoint) throw InputError("unknown server '" + name + "'");
            auto created = std::make_unique<McpSession>(name, endpoint->url, tls_, options_.timeouts);
            ServerMessageHandlers handlers;
            // Declining everything is the same as not taking elicitation at all: then the
            // server is told so (no capability) instead of asking in vain.
            if (options_.elicit != ElicitMode::decline)
                handlers.elicit = [mode = options_.elicit](const nlohmann::json& params) {
                    return answer_elicitation(mode, params, std::cin, std::cerr);
                };
            handlers.notify = [name](const nlohmann::json& notification) {
                log_event(spdlog::level::debug, "server_notification", {{"server", name}, {"message", notification}});
            };
            handlers.roots = options_.roots;
            created->set_handlers(std::move(handlers));
            created->set_protocol(options_.protocol);
            it = sessions_.emplace(name, std::move(created)).first;
        }
        session = it->second.get();
    }
    if (session->server_info().is_null()) {
        try {
            session->initialize();
        } catch (const ConnectionError& e) {
            log_server_verdict(name, session->connection());
            throw ConnectionError(e.kind(), name + ": " + e.what());  // say which server
        } catch (...) {
            log_server_verdict(name, session->connection());
            throw;
        }
        log_server_verdict(name, session->connection());
    }
    return *session;
}

void Coordinator::close_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, session] : sessions_) session->close();
    sessions_.clear();
}

}  // namespace mcpmtls::client
