#pragma once
// The second listener of a server with --metrics-bind: plain HTTP for Prometheus and the
// kubelet's probes, which speak no mutual TLS. It answers GET /metrics, /healthz and /readyz and
// nothing else (404), and never MCP: the tools stay behind mutual TLS.
#include "server/metrics.hpp"

#include <functional>
#include <httplib.h>
#include <memory>
#include <string>
#include <thread>

namespace mcpmtls::server {

class HealthEndpoint {
public:
    struct Handlers {
        std::function<std::string()> metrics;
        std::function<Readiness()> readiness;
    };
    // Binds now (port 0 picks a free one); throws Error (exit 1) when it cannot.
    HealthEndpoint(const std::string& address, int port, Handlers handlers);
    // Stops listening and waits for the listener's thread.
    ~HealthEndpoint();
    HealthEndpoint(const HealthEndpoint&) = delete;
    HealthEndpoint& operator=(const HealthEndpoint&) = delete;

    int port() const { return port_; }
    std::string url() const;  // http://ADDR:PORT/metrics, for the start-up log
    void start();

private:
    httplib::Server server_;
    std::string address_;
    int port_ = -1;
    std::thread thread_;
};

}  // namespace mcpmtls::server
