#pragma once
// `client bench`: an mTLS load generator for MCP servers.
#include "client/coordinator.hpp"

#include <nlohmann/json.hpp>
#include <chrono>
#include <string>

namespace mcpmtls::client {

struct BenchOptions {
    ServerEndpoint server;
    std::string tool = "echo";
    nlohmann::json arguments = {{"message", "hello"}};
    size_t connections = 16;
    double duration_seconds = 10;  // used when requests == 0
    size_t requests = 0;           // total, across connections
    bool new_connection_per_request = false;
    bool tls_resumption = true;    // with a new connection per request: offer session tickets
    double rate = 0;               // requests/s across all connections (open loop); 0 = closed loop
    std::chrono::milliseconds think{0};  // pause after each answer (sparse clients), keeping the connection
    bool progress = true;          // a progress line on stderr every second
    // MCP 2026-07-28 requests (per-request _meta and headers, no session) instead of a 2025 session.
    bool stateless = false;
};

struct BenchReport {
    size_t ok = 0;
    size_t failed = 0;
    std::map<std::string, size_t> errors;  // by kind
    size_t handshakes = 0;
    size_t resumed_handshakes = 0;
    size_t clients_served = 0;  // connections (workers) with at least one answered request
    double seconds = 0;
    double requests_per_second = 0;
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
    nlohmann::json to_json() const;
    std::string to_text() const;
};

// Why one answer of a run counts as failed ("http_503", "rpc_-32600", "tool_error"), or "" when
// it is a good answer. A JSON-RPC error sent with HTTP 200 is a failure too: a server that
// refuses cheaply must not look fast.
std::string bench_failure_kind(int status, const std::string& content_type, const std::string& body);

// Throws ConnectionError when the first connection (initialize) fails.
BenchReport run_bench(const BenchOptions& options, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts);

}  // namespace mcpmtls::client
