// The runtime's OAuth gate (mcp/oauth.hpp): bearer tokens checked before any method runs, the
// tool's scopes before a tools/call, the answers that tell a client where to get a token
// (RFC 6750 challenges pointing at RFC 9728 metadata), and that metadata document.
#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/internal/jsonrpc.hpp"
#include "mcp/streamable_http.hpp"

#include <algorithm>

namespace mcpmtls::mcp {
namespace {

using nlohmann::json;

constexpr const char* kWellKnown = "/.well-known/oauth-protected-resource";

void note(const ServerOptions& options, const std::string& result, const tls::PeerIdentity& client) {
    if (options.on_token) options.on_token(result, client);
}

}  // namespace

std::string StreamableHttpServer::resource_url(const HttpRequest& request) const {
    // host_allowed() has vetted the Host header before a token is looked at.
    std::string host = request.header("Host");
    if (host.empty()) host = "localhost";
    return "https://" + to_lower(host) + options_.oauth->settings().resource_path;
}

HttpResponse StreamableHttpServer::oauth_challenge(const HttpRequest& request, int status, const std::string& error,
                                                   const std::string& description, const std::vector<std::string>& scopes) const {
    std::string host = request.header("Host");
    if (host.empty()) host = "localhost";
    std::string challenge = "Bearer resource_metadata=\"https://" + to_lower(host) + kWellKnown + options_.oauth->settings().resource_path + "\"";
    if (!scopes.empty()) challenge += ", scope=\"" + join(scopes, " ") + "\"";
    if (!error.empty()) challenge += ", error=\"" + error + "\"";
    if (!description.empty()) challenge += ", error_description=\"" + description + "\"";
    const std::string message = status == 403 ? "insufficient scope: this call needs " + join(scopes, " ")
                                              : "authorization required: " + (description.empty() ? "send a bearer token" : description);
    HttpResponse response = internal::json_response(status, internal::rpc_error(nullptr, kInvalidRequest, message));
    response.headers.emplace_back("WWW-Authenticate", challenge);
    return response;
}

std::optional<HttpResponse> StreamableHttpServer::refuse_without_token(const HttpRequest& request, const tls::PeerIdentity& client,
                                                                       std::optional<tls::PeerIdentity>& holder) {
    // Scopes every tool needs: what a client should ask for before it knows which it calls.
    static const std::string any_tool = "*";
    const std::vector<std::string> baseline = options_.policy.required_scopes(client, any_tool);
    const std::string authorization = request.header("Authorization");
    if (authorization.empty()) {
        note(options_, "missing", client);
        return oauth_challenge(request, 401, "", "", baseline);
    }
    if (authorization.size() < 7 || to_lower(authorization.substr(0, 7)) != "bearer ") {
        note(options_, "invalid_token", client);
        return oauth_challenge(request, 401, "invalid_request", "the Authorization header must be: Bearer TOKEN", baseline);
    }
    const TokenCheck check = options_.oauth->check(trim(authorization.substr(7)), resource_url(request),
                                                   thumbprint_of_fingerprint(client.fingerprint_sha256));
    if (!check.ok) {
        log_event(spdlog::level::warn, "token_refused",
                  {{"client", client.display_name()}, {"client_fingerprint", client.fingerprint_sha256}, {"status", check.status},
                   {"reason", check.reason}});
        if (check.status == 503) {
            note(options_, "unavailable", client);
            HttpResponse response = internal::json_response(
                503, internal::rpc_error(nullptr, kInternalError, "the token cannot be checked now: " + check.reason));
            response.headers.emplace_back("Retry-After", "30");
            return response;
        }
        note(options_, "invalid_token", client);
        return oauth_challenge(request, 401, "invalid_token", check.reason, baseline);
    }
    holder = client;
    holder->token_subject = check.subject;
    holder->token_client_id = check.client_id;
    holder->token_scopes = check.scopes;
    note(options_, "accepted", *holder);
    return std::nullopt;
}

std::optional<HttpResponse> StreamableHttpServer::refuse_without_scope(const HttpRequest& request, const tls::PeerIdentity& client,
                                                                       const json& id, const std::string& method, const json& params) {
    if (method != "tools/call" || !params.is_object() || !params.contains("name") || !params["name"].is_string()) return std::nullopt;
    const std::string tool = params["name"].get<std::string>();
    const std::vector<std::string> needed = options_.policy.required_scopes(client, tool);
    std::vector<std::string> missing;
    for (const auto& scope : needed)
        if (std::find(client.token_scopes.begin(), client.token_scopes.end(), scope) == client.token_scopes.end()) missing.push_back(scope);
    if (missing.empty()) return std::nullopt;
    log_event(spdlog::level::warn, "tool_call",
              {{"client", client.display_name()},
               {"client_fingerprint", client.fingerprint_sha256},
               {"token_subject", client.token_subject},
               {"token_client_id", client.token_client_id},
               {"tool", tool},
               {"outcome", "insufficient_scope"},
               {"missing_scopes", missing}});
    if (options_.on_tool_call) options_.on_tool_call(tool, "insufficient_scope");
    note(options_, "insufficient_scope", client);
    HttpResponse response = oauth_challenge(request, 403, "insufficient_scope", "the token lacks scope " + join(missing, " "), needed);
    response.body = internal::dump(internal::rpc_error(id, kInvalidRequest, "insufficient scope: tool '" + tool + "' needs " + join(needed, " ")));
    return response;
}

std::optional<HttpResponse> StreamableHttpServer::protected_resource_metadata(const HttpRequest& request) const {
    if (!options_.oauth) return std::nullopt;
    if (!host_allowed(request)) return internal::json_response(403, internal::rpc_error(nullptr, kInvalidRequest, "Host is not an allowed name"));
    const json document = options_.oauth->metadata_document(resource_url(request), options_.policy.scopes(),
                                                            options_.title.empty() ? options_.name : options_.title);
    HttpResponse response = internal::json_response(200, document);
    response.headers.emplace_back("Cache-Control", "max-age=300");
    return response;
}

}  // namespace mcpmtls::mcp
