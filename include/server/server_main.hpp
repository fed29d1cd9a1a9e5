#pragma once
// What every server binary shares: its settings, mutual TLS, the MCP runtime on cpp-httplib's
// SSL server, reload on SIGHUP and on file changes, graceful shutdown on SIGINT/SIGTERM. A
// server's own main() describes itself and calls run_server_main.
#include "server/server_settings.hpp"

#include <string>
#include <vector>

namespace mcpmtls::server {

// Parses flags and --config JSON text exactly as a server does at start-up, reading no file;
// throws Error (exit 2) for whatever the server would refuse. For tests and fuzzing.
void validate_server_settings(const ServerDescription& description, const std::vector<std::string>& argv,
                              const std::string& config_json);

// The whole main() of a server; returns the exit code.
int run_server_main(const ServerDescription& description, int argc, char** argv);

}  // namespace mcpmtls::server
