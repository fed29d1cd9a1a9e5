#include "server/health_endpoint.hpp"

#include "common/error.hpp"
#include "server/httplib_adapter.hpp"

namespace mcpmtls::server {

HealthEndpoint::HealthEndpoint(const std::string& address, int port, Handlers handlers) : address_(address) {
    // Scrapes and probes are a few a second at most: two workers, short timeouts.
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_.set_keep_alive_timeout(5);
    server_.set_read_timeout(5);
    server_.set_write_timeout(5);
    server_.set_payload_max_length(4096);  // nothing here takes a body
    server_.Get("/metrics", [render = handlers.metrics](const httplib::Request&, httplib::Response& res) {
        res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    server_.Get("/readyz", [ready = handlers.readiness](const httplib::Request&, httplib::Response& res) {
        const Readiness readiness = ready();
        std::string body = readiness.ready() ? "ready\n" : "not ready:\n";
        for (const auto& problem : readiness.problems) body += "- " + problem + "\n";
        res.status = readiness.ready() ? 200 : 503;
        res.set_content(body, "text/plain");
    });
    port_ = bind_listener(server_, address, port);
    if (port_ < 0)
        throw Error(kExitFailed, "cannot listen on " + address + ":" + std::to_string(port) + " for --metrics-bind (port in use?)");
}

HealthEndpoint::~HealthEndpoint() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
}

void HealthEndpoint::start() {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
}

std::string HealthEndpoint::url() const {
    const std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
    return "http://" + host + ":" + std::to_string(port_) + "/metrics";
}

}  // namespace mcpmtls::server
