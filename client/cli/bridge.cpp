// client bridge: the stdio MCP server an MCP host starts (client/bridge.cpp does the work).
#include "client/bridge.hpp"
#include "client/cli/commands.hpp"

namespace mcpmtls::client::cli {
namespace {

int bridge(const Args& args) {
    const CoordinatorOptions options = coordinator_options(args);
    const bool all = args.flag("all");
    const auto& positionals = args.positionals();
    if (all == !positionals.empty()) throw InputError("bridge takes one SERVER, or --all for every configured server");
    BridgeOptions bridge;
    bridge.aggregate = all;
    bridge.tls = options.tls;
    bridge.timeouts = options.timeouts;
    if (all) {
        bridge.servers = options.servers;
    } else {
        for (const auto& server : options.servers)
            if (server.name == positionals.front()) bridge.servers.push_back(server);
        if (bridge.servers.empty()) {
            std::string known;
            for (const auto& server : options.servers) known += (known.empty() ? "" : ", ") + server.name;
            throw InputError("unknown server '" + positionals.front() + "' (configured: " + known + "; give --server NAME=URL to add one)");
        }
    }
    for (const auto& server : bridge.servers)
        if (server.url.scheme == "http" && !options.allow_http)
            throw InputError("server '" + server.name + "' uses plain http:// (" + server.url.to_string() +
                             "); only https is allowed unless --allow-http is given (local testing only)");
    // Renews on its own thread; the bridge's reloading context picks the new files up for its
    // next connections. Stopped when the bridge ends.
    const auto renewal = client_renewal(args, options.tls);
    if (renewal) renewal->start();
    return run_bridge(bridge);
}

}  // namespace

Command bridge_command() {
    return {"bridge", "stdio MCP server for any MCP host, forwarding over mutual TLS",
            ArgSpec("client bridge",
                    "Speaks MCP over stdin/stdout (one JSON-RPC message per line; logs on stderr) and forwards to SERVER over "
                    "mutual TLS, or with --all offers the tools of every configured server as one MCP server. Certificates "
                    "are re-read when their files change; a session the server forgot is opened again by itself. Ends, "
                    "closing the remote sessions, when stdin ends or on SIGTERM/SIGINT.")
                .positional("SERVER", false)
                .add(Option::flag("all", "every configured server behind one MCP server (tool names shared by two servers "
                                         "become SERVER.TOOL)")),
            bridge};
}

}  // namespace mcpmtls::client::cli
