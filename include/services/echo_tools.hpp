#pragma once
#include "mcp/tool.hpp"
#include "server/server_settings.hpp"

namespace mcpmtls::services {
// echo {message}: returns the message unchanged.
void add_echo_tools(mcp::ToolRegistry& registry);
// bin/echo-server: its name, default port, MCP instructions and tools.
server::ServerDescription echo_server();

}  // namespace mcpmtls::services
