#pragma once
// The spellings of the MCP wire that both ends must agree on, and nothing else: protocol
// versions, the per-request _meta keys and the HTTP header names of revision 2026-07-28, the
// JSON-RPC error codes a client reacts to. Constants only, so that the client (which must not
// depend on the server's Streamable HTTP machinery) and the server can both include it without
// pulling in either side's code.
#include <array>
#include <cstddef>

namespace mcpmtls::mcp::protocol {

// The stateless revision: no initialize, no sessions; every request carries _meta.
constexpr const char* kModernVersion = "2026-07-28";
// The initialize-and-session revisions, newest first.
constexpr std::array<const char*, 3> kLegacyVersions = {"2025-11-25", "2025-06-18", "2025-03-26"};

// params._meta keys every 2026-07-28 request carries.
constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";  // optional
// The result _meta key naming the server (2026-07-28 has no initialize result to carry it).
constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
// The _meta key tagging each message of a subscriptions/listen stream with the listen request's id.
constexpr const char* kMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";

// HTTP headers.
constexpr const char* kHeaderProtocolVersion = "MCP-Protocol-Version";
constexpr const char* kHeaderSessionId = "Mcp-Session-Id";
constexpr const char* kHeaderMethod = "Mcp-Method";
constexpr const char* kHeaderName = "Mcp-Name";
constexpr const char* kHeaderParamPrefix = "Mcp-Param-";
// The JSON Schema keyword that names a tool argument's Mcp-Param-* header.
constexpr const char* kSchemaHeaderKeyword = "x-mcp-header";

// Result kinds of 2026-07-28 (results without resultType are complete).
constexpr const char* kResultComplete = "complete";
constexpr const char* kResultInputRequired = "input_required";

// Methods whose 2026-07-28 results must carry the caching hints cacheScope and ttlMs.
constexpr std::array<const char*, 6> kCacheableMethods = {"server/discover", "tools/list",               "prompts/list",
                                                          "resources/list",  "resources/templates/list", "resources/read"};

// JSON-RPC error codes.
constexpr int kUnsupportedProtocolVersion = -32022;
constexpr int kHeaderMismatch = -32020;
constexpr int kUserRejected = -1;  // the spec's answer to a sampling request the user (or client) declines

// The largest message a server takes by default (and the bridge passes on).
constexpr std::size_t kDefaultMaxBodyBytes = 1024 * 1024;

}  // namespace mcpmtls::mcp::protocol
