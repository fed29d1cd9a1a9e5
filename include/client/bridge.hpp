#pragma once
// `client bridge`: any MCP host (Claude Desktop, Cursor, VS Code, the MCP Inspector) starts it
// as a local stdio MCP server, and it forwards over mutual TLS to our servers, which none of
// those hosts can reach themselves (none presents a client certificate per server). One server
// is forwarded transparently (the host's initialize, the server's answers, requests both ways;
// a host that speaks 2026-07-28 has its server/discover answered by the bridge instead);
// --all makes the bridge an MCP server of its own whose tools are those of every configured
// server, each call routed to the server that owns the tool (for a host of either era: a
// 2026-07-28 host's discover and lists are the bridge's, its calls relayed to their owner).
#include "client/coordinator.hpp"

#include <chrono>
#include <cstddef>
#include <vector>

namespace mcpmtls::client {

struct BridgeOptions {
    std::vector<ServerEndpoint> servers;  // exactly one unless `aggregate`
    bool aggregate = false;               // --all
    tls::ClientTlsSettings tls;
    Timeouts timeouts;
    // The longest stdin line accepted: the servers' own --max-body default, since anything
    // longer could not be forwarded to them anyway.
    size_t max_message_bytes = 0;  // 0: that default
    // --all: how often a server that did not answer is tried again.
    std::chrono::milliseconds retry_interval{2000};
};

// Reads the host's messages on `in_fd` and writes the answers on `out_fd` until the input ends or
// SIGTERM/SIGINT arrives (blocked in the calling thread and every thread it starts, and taken
// through a signalfd); then ends the remote sessions (DELETE) and returns 0. Logs go to stderr.
// Throws InputError for unusable options (no server, unreadable certificates).
int run_bridge(const BridgeOptions& options, int in_fd = 0, int out_fd = 1);

}  // namespace mcpmtls::client
