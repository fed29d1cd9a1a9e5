#pragma once
// The session core's rules of the wire, for both eras of MCP over Streamable HTTP, kept apart
// from any connection so that every session engine (the coordinator's McpSession, the bridge's
// UpstreamSession) follows the same ones: which era a server speaks (server/discover, with the
// 2025 initialize handshake as the fallback), what a 2026-07-28 request carries (_meta and the
// Mcp-Method, Mcp-Name and Mcp-Param-* headers that must match its body), which tool definitions
// a client must refuse (bad x-mcp-header annotations), and how an input-required result is
// retried (inputResponses and the server's requestState, echoed byte for byte, on a new id).
#include "client/http_connection.hpp"
#include "client/stream_position.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::client {

enum class Era { legacy, modern };  // 2025 (initialize and sessions) | 2026-07-28 (stateless)

// What --protocol-version asks for: "auto" (the newest that server/discover offers, else the 2025
// handshake) or one version, forced.
struct VersionChoice {
    std::string version = "auto";
    static VersionChoice parse(const std::string& text);  // throws InputError
    bool automatic() const { return version == "auto"; }
    bool forces_modern() const;
    bool forces_legacy() const { return !automatic() && !forces_modern(); }
};
// The spellings --protocol-version takes.
std::vector<std::string> protocol_version_choices();

// The params._meta envelope of a 2026-07-28 request.
nlohmann::json request_meta(const std::string& version, const nlohmann::json& capabilities);
// `params` with the envelope added (other _meta keys, such as progressToken, are kept).
nlohmann::json with_meta(nlohmann::json params, const std::string& version, const nlohmann::json& capabilities);

// The headers of a 2026-07-28 POST: MCP-Protocol-Version, Mcp-Method, Mcp-Name for the methods
// that name something, and Mcp-Param-* for a tools/call whose tool's schema asks for them.
HeaderList modern_headers(const std::string& version, const nlohmann::json& message, const nlohmann::json& input_schema = nullptr);

// What a server/discover probe says about the server.
struct DiscoverVerdict {
    enum Kind { modern, retry, legacy, failed } kind = legacy;
    std::string version;       // modern: agreed; retry: the version to ask for again
    nlohmann::json discover;   // modern: the discover result
    std::string reason;        // legacy, failed: why
};
// `answer` is the JSON-RPC answer found in the response (null when there was none).
DiscoverVerdict judge_discover(const HttpResponse& response, const nlohmann::json& answer, bool fallback_allowed);
// Sends one POST (headers, body) to the server and returns its response; throws when the server
// cannot be reached (each session engine its own way).
using ProbePost = std::function<HttpResponse(const HeaderList& headers, const std::string& body)>;
// The server/discover probe of every session engine: asks for 2026-07-28 with the client's
// `capabilities`, asks once more when the server names a version of its own, and judges the answer.
DiscoverVerdict probe_discover(const ProbePost& post, const nlohmann::json& capabilities, bool fallback_allowed);

// Why a tool definition must be refused in the 2026 era (an x-mcp-header that is empty, not an
// RFC 9110 token, on a non-primitive or number property, not reachable through "properties"
// alone, or not unique ignoring case); nullopt when it is fine.
std::optional<std::string> header_annotation_fault(const nlohmann::json& input_schema);
// Mcp-Param-NAME headers for the arguments of a call: null or absent values are left out, values
// that are not safe plain header text are sent as =?base64?...?= of their UTF-8.
HeaderList param_headers(const nlohmann::json& input_schema, const nlohmann::json& arguments);
std::string encode_header_value(const std::string& value);

// Results: 2026-07-28 results without resultType are complete.
bool is_input_required(const nlohmann::json& result);
// True if a server's capabilities hold CAPABILITY.FEATURE = true (resources.subscribe, tools.listChanged).
bool server_offers(const nlohmann::json& capabilities, const char* capability, const char* feature);
// A 2026-07-28 subscriptions/listen stream: the acknowledgement that opens it, naming what it
// carries, and a notification on it, tagged with the listen request's id.
nlohmann::json listen_acknowledgement(const nlohmann::json& listen_id, const nlohmann::json& honored);
nlohmann::json tagged_for_listener(nlohmann::json notification, const nlohmann::json& listen_id);
// Whether a listen filter asks for this notification: a list change it names, or an update of a
// resource it lists.
bool listener_wants(const nlohmann::json& filter, const nlohmann::json& notification);
// The list changes a 2026-07-28 subscriptions/listen filter names: its flag, the notification it
// stands for, and the capability whose listChanged says the server sends it.
struct ListChange {
    const char* flag;
    const char* notification;
    const char* capability;
};
constexpr ListChange kListChanges[] = {
    {"toolsListChanged", "notifications/tools/list_changed", "tools"},
    {"promptsListChanged", "notifications/prompts/list_changed", "prompts"},
    {"resourcesListChanged", "notifications/resources/list_changed", "resources"},
};
// The retry's params: the original ones, the answers given, the state echoed unchanged (left out
// when the server sent none).
nlohmann::json retry_params(nlohmann::json original, const nlohmann::json& responses, const nlohmann::json& request_state);
// How many input-required rounds a request gets before the client gives up.
constexpr int kMaxInputRounds = 10;

// file:// URIs for --root directories (made absolute; must exist). Throws InputError.
nlohmann::json roots_of(const std::vector<std::string>& directories);

}  // namespace mcpmtls::client
