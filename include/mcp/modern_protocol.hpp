#pragma once
// MCP 2026-07-28, the stateless revision, as a request envelope: every request names its protocol
// version and the client's capabilities in params._meta, mirrors its method (and the tool, prompt
// or resource it names) in HTTP headers (SEP-2243), and is refused before any handler runs when
// these disagree. This header holds the revision's vocabulary and the checks that need nothing but
// the request itself; the dispatcher (mcp/streamable_http.cpp) serves what passes. Kept free of the
// HTTP layer so that the fuzz target can drive it directly.
#include "mcp/call_context.hpp"
#include "mcp/protocol.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::mcp::modern {

// The spellings both ends share live in mcp/protocol.hpp; the server-only ones here.
inline constexpr const char* kProtocolVersion = protocol::kModernVersion;
using protocol::kMetaClientCapabilities;
using protocol::kMetaClientInfo;
using protocol::kMetaProtocolVersion;
using protocol::kMetaLogLevel;
using protocol::kMetaServerInfo;
using protocol::kMetaSubscriptionId;

// JSON-RPC error codes the revision adds.
enum ErrorCode : int {
    kHeaderMismatch = protocol::kHeaderMismatch,  // an HTTP header disagrees with the body, or is missing
    kMissingClientCapability = -32021,            // the request needs a capability the client did not declare
    kUnsupportedProtocolVersion = protocol::kUnsupportedProtocolVersion,  // data: {supported: [...], requested: "..."}
};

// A request refused by the envelope checks: HTTP status, JSON-RPC code, message, error data.
struct Rejection {
    int status = 400;
    int code = 0;
    std::string message;
    nlohmann::json data;  // null: none
};

// What a valid envelope says about the request.
struct Envelope {
    std::string protocol_version;
    nlohmann::json client_capabilities = nlohmann::json::object();
    std::optional<LogLevel> log_level;  // none: the client wants no log messages
    nlohmann::json progress_token;      // null: no progress wanted
    bool supports(const std::string& capability) const;
};

// Whether a request belongs to this revision: its body carries the envelope's version key, or
// its MCP-Protocol-Version header names a stateless revision. Everything else is 2025 traffic.
bool is_modern(const nlohmann::json& params, const std::string& protocol_header);

// Versions served statelessly (just kProtocolVersion today) and all versions the server speaks
// (stateless first), as server/discover and UnsupportedProtocolVersion errors list them.
const std::vector<std::string>& stateless_versions();
const std::vector<std::string>& all_versions();

// Checks a modern request's envelope and standard headers: MCP-Protocol-Version present and equal
// to _meta's version, the version supported, _meta complete and well-formed, Mcp-Method equal to
// the method and Mcp-Name to params.name (tools/call, prompts/get) or params.uri (resources/read).
// `header` looks an HTTP header up case-insensitively ("" when absent). Notifications (`is_request`
// false) need no Mcp-Method/Mcp-Name.
struct Checked {
    std::optional<Envelope> envelope;
    std::optional<Rejection> rejection;
};
Checked check_request(const std::string& method, const nlohmann::json& params, bool is_request,
                      const std::function<std::string(const std::string&)>& header);

// The Mcp-Param-* headers a tools/call must carry: one per input-schema property marked
// "x-mcp-header": NAME, holding the argument's value (strings as they are, numbers and booleans as
// JSON writes them; values that are not plain visible ASCII as =?base64?...?=). A rejection when a
// header is missing, malformed or disagrees with the argument.
std::optional<Rejection> check_param_headers(const nlohmann::json& input_schema, const nlohmann::json& arguments,
                                             const std::function<std::string(const std::string&)>& header);

// The value of an SEP-2243 header as the client meant it: =?base64?...?= decoded; nullopt when the
// sentinel is malformed.
std::optional<std::string> decode_header_value(const std::string& value);

}  // namespace mcpmtls::mcp::modern
