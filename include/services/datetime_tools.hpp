#pragma once
#include "mcp/prompts.hpp"
#include "mcp/resources.hpp"
#include "mcp/tool.hpp"
#include "server/server_settings.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mcpmtls::services {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// get_current_time {timezone} and convert_time {time, from_timezone, to_timezone}, with the
// IANA time-zone database. Wherever a zone is asked for, a city name works too. `clock` is injectable for tests.
void add_datetime_tools(mcp::ToolRegistry& registry, Clock clock = [] { return std::chrono::system_clock::now(); });

// The resource template datetime://now/{timezone} and the prompt convert_time, whose zone
// arguments complete (completion/complete) from the IANA names and the known cities.
void add_datetime_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts,
                          Clock clock = [] { return std::chrono::system_clock::now(); });

// bin/datetime-server: its name, default port, MCP instructions and tools.
server::ServerDescription datetime_server();

}  // namespace mcpmtls::services
