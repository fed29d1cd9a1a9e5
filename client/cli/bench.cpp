// client bench: the mTLS load generator's command line (client/bench.cpp does the work).
#include "client/bench.hpp"
#include "common/files.hpp"
#include "client/cli/commands.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::client::cli {
namespace {

using nlohmann::json;

int bench(const Args& args) {
    const CoordinatorOptions options = coordinator_options(args);
    raise_open_file_limit();  // a thousand connections need a thousand descriptors
    if (options.servers.size() != 1)
        throw InputError("bench needs exactly one server: --server NAME or --server URL");
    BenchOptions bench;
    bench.server = options.servers.front();
    bench.tool = args.text("tool");
    std::vector<std::string> pairs = args.list("args");
    for (const auto& p : args.positionals()) pairs.push_back(p);
    if (!pairs.empty()) {
        bench.arguments = json::object();
        for (const auto& pair : pairs) {
            auto eq = pair.find('=');
            if (eq == std::string::npos || eq == 0) throw InputError("--args takes key=value, not '" + pair + "'");
            bench.arguments[pair.substr(0, eq)] = typed_value(pair.substr(0, eq), pair.substr(eq + 1), json());
        }
    } else if (bench.tool != "echo") {
        bench.arguments = json::object();
    }
    bench.connections = static_cast<size_t>(args.integer("connections"));
    bench.duration_seconds = static_cast<double>(args.integer("duration"));
    if (args.given("requests")) bench.requests = static_cast<size_t>(args.integer("requests"));
    if (args.given("rate")) bench.rate = static_cast<double>(args.integer("rate"));
    bench.think = std::chrono::milliseconds(args.integer("think"));
    if (bench.think.count() > 0 && bench.rate > 0) throw InputError("--think and --rate exclude each other");
    bench.new_connection_per_request = args.flag("new-connection-per-request");
    bench.stateless = args.flag("stateless");
    bench.tls_resumption = !args.flag("no-resumption");
    bench.progress = !args.flag("quiet") && !args.flag("json");
    std::shared_ptr<const tls::ClientTlsContext> tls;
    if (bench.server.url.scheme == "https") tls = std::make_shared<const tls::ClientTlsContext>(options.tls);
    else if (!options.allow_http) throw InputError("plain http:// needs --allow-http");
    BenchReport report = run_bench(bench, tls, options.timeouts);
    if (args.flag("json")) {
        json out = report.to_json();
        out["server"] = bench.server.url.to_string();
        out["tool"] = bench.tool;
        out["connections"] = bench.connections;
        out["new_connection_per_request"] = bench.new_connection_per_request;
        std::cout << out.dump(2) << "\n";
    } else {
        std::cout << "bench " << bench.server.url.to_string() << " " << bench.tool << " with " << bench.connections
                  << " connection(s)" << (bench.new_connection_per_request ? ", a new connection per request" : ", keep-alive")
                  << "\n" << report.to_text();
    }
    return report.failed ? kExitFailed : kExitOk;
}

}  // namespace

Command bench_command() {
    const BenchOptions defaults;
    return {"bench", "mTLS load generator for one server (--server NAME or URL)",
            ArgSpec("client bench", "Calls one tool as fast as it can (closed loop) or at --rate, and reports throughput, "
                                    "latency percentiles and TLS handshakes.")
                .more_positionals("KEY=VALUE")
                .add(Option::text("tool", "NAME", "tool to call").fallback(defaults.tool))
                .add(Option::list("args", "KEY=VALUE", "tool argument (default message=hello)"))
                .add(Option::integer("connections", "N", 1, 10000, "concurrent connections")
                         .fallback(static_cast<long>(defaults.connections)))
                .add(Option::integer("duration", "SECONDS", 1, 86400, "run time")
                         .fallback(static_cast<long>(defaults.duration_seconds)))
                .add(Option::integer("requests", "N", 1, 1000000000, "total requests instead of a duration"))
                .add(Option::flag("new-connection-per-request", "a TLS handshake for every request"))
                .add(Option::flag("no-resumption", "with a new connection per request, never resume TLS sessions"))
                .add(Option::integer("rate", "R", 1, 10000000, "open loop at R requests/s in total (default: closed loop)"))
                .add(Option::integer("think", "MS", 0, 3600000,
                                     "each connection pauses this long after every answer, idle on its kept-alive "
                                     "connection: sparse clients (a pause longer than the run holds idle connections)")
                         .fallback(0))
                .add(Option::flag("stateless", "MCP 2026-07-28 requests (per-request _meta, Mcp-Method/Mcp-Name "
                                               "headers, no session) instead of calls in a 2025 session"))
                .add(Option::flag("quiet", "no progress line")),
            bench};
}

}  // namespace mcpmtls::client::cli
