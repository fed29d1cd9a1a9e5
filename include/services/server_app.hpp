#pragma once
// What the three server binaries share: flags and --config, mutual TLS, the MCP runtime,
// reload on SIGHUP and on file changes, graceful shutdown on SIGINT/SIGTERM.
#include "mcp/tool.hpp"

#include <functional>
#include <string>
#include <vector>

namespace mcpmtls::services {

struct ServerDescription {
    std::string binary;        // "weather-server"
    std::string short_name;    // "weather": default certificate names certs/weather.crt
    std::string title;         // "Weather"
    std::string version = "0.1.0";
    int default_port = 0;
    std::string instructions;  // MCP initialize instructions
    std::function<void(mcp::ToolRegistry&)> register_tools;
};

// Parses flags and --config JSON text exactly as a server does at start-up, reading no file;
// throws Error (exit 2) for whatever the server would refuse. For tests and fuzzing.
void validate_server_settings(const ServerDescription& description, const std::vector<std::string>& argv,
                              const std::string& config_json);

// The whole main() of a server; returns the exit code.
int run_server_main(const ServerDescription& description, int argc, char** argv);

}  // namespace mcpmtls::services
