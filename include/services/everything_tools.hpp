#pragma once
// bin/everything-server: a reference server and test fixture that exercises the whole MCP
// runtime with the fixture names the official conformance suite expects (the TypeScript SDK
// calls its own version the "everything" server): tools of every content type, logging,
// progress, sampling, elicitation and SSE polling; static, binary, templated and watched
// resources; prompts with arguments, embedded resources and images; completion.
#include "mcp/prompts.hpp"
#include "mcp/resources.hpp"
#include "mcp/tool.hpp"
#include "server/server_settings.hpp"

#include <atomic>
#include <memory>

namespace mcpmtls::services {

// The version of test://watched-resource, which the tool test_update_watched_resource changes.
using WatchedVersion = std::shared_ptr<std::atomic<int>>;

void add_everything_tools(mcp::ToolRegistry& registry, WatchedVersion watched_version);
void add_everything_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts, WatchedVersion watched_version);
server::ServerDescription everything_server();

}  // namespace mcpmtls::services
