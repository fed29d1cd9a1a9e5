#pragma once
#include "mcp/tool.hpp"

namespace mcpmtls::services {
// echo {message}: returns the message unchanged.
void add_echo_tools(mcp::ToolRegistry& registry);
}  // namespace mcpmtls::services
