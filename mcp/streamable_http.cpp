#include "mcp/streamable_http.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/json_schema.hpp"

#include <algorithm>
#include <mutex>
#include <openssl/rand.h>

namespace mcpmtls::mcp {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Deeper documents are refused before parsing: recursion in a parser is a stack to exhaust.
constexpr int kMaxJsonDepth = 64;

const std::vector<std::string> kLogLevels = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

bool too_deep(const std::string& body) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : body) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

std::string random_session_id() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a session id");
    return to_hex(bytes, sizeof bytes);
}

HttpResponse json_response(int status, const json& body) {
    HttpResponse response;
    response.status = status;
    response.content_type = "application/json";
    response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return response;
}

json rpc_error(const json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

HttpResponse error_response(int status, const json& id, int code, const std::string& message) {
    return json_response(status, rpc_error(id, code, message));
}

bool accepts(const std::string& accept, const std::string& type) {
    const std::string a = to_lower(accept);
    return a.find(type) != std::string::npos || a.find("*/*") != std::string::npos;
}

// The host part of a Host header ("localhost:8443", "[::1]:8443") or of an Origin URL.
std::string host_of(std::string text) {
    auto scheme = text.find("://");
    if (scheme != std::string::npos) text = text.substr(scheme + 3);
    auto slash = text.find('/');
    if (slash != std::string::npos) text = text.substr(0, slash);
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        return to_lower(close == std::string::npos ? text : text.substr(0, close + 1));
    }
    auto colon = text.find(':');
    return to_lower(colon == std::string::npos ? text : text.substr(0, colon));
}

}  // namespace

const std::vector<std::string>& supported_protocol_versions() {
    static const std::vector<std::string> versions = {"2025-06-18", "2025-03-26", "2025-11-25"};
    return versions;
}

std::string HttpRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return value;
    return "";
}

StreamableHttpServer::StreamableHttpServer(ServerOptions options, ToolRegistry tools)
    : options_(std::move(options)),
      tools_(std::move(tools)),
      methods_{{"ping", &StreamableHttpServer::ping},
               {"tools/list", &StreamableHttpServer::list_tools},
               {"tools/call", &StreamableHttpServer::call_tool},
               {"logging/setLevel", &StreamableHttpServer::set_log_level}},
      rate_limiter_(options_.rate_limit, options_.rate_burst > 0 ? options_.rate_burst : 2 * options_.rate_limit) {
    json list = json::array();
    for (const auto& tool : tools_.tools()) {
        json entry = {{"name", tool.name}, {"description", tool.description}, {"inputSchema", tool.input_schema}};
        if (!tool.title.empty()) entry["title"] = tool.title;
        if (!tool.output_schema.is_null()) entry["outputSchema"] = tool.output_schema;
        list.push_back(std::move(entry));
    }
    tools_list_json_ = json{{"tools", list}}.dump();
    tool_entries_ = std::move(list);
}

size_t StreamableHttpServer::session_count() const {
    std::shared_lock<std::shared_mutex> lock(sessions_mutex_);
    return sessions_.size();
}

bool StreamableHttpServer::host_allowed(const HttpRequest& request) const {
    auto allowed = [&](const std::string& host) {
        if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return true;
        for (const auto& extra : options_.allowed_hosts)
            if (host == to_lower(extra) || host == "[" + to_lower(extra) + "]") return true;
        return false;
    };
    const std::string host = request.header("Host");
    if (!host.empty() && !allowed(host_of(host))) return false;
    const std::string origin = request.header("Origin");
    if (!origin.empty() && origin != "null" && !allowed(host_of(origin))) return false;
    return true;
}

HttpResponse StreamableHttpServer::handle(const HttpRequest& request, const tls::PeerIdentity& client) {
    if (!host_allowed(request))
        return error_response(403, nullptr, kInvalidRequest, "Host or Origin is not an allowed name for this server");
    if (auto refused = refuse_rate_limited(client)) return *refused;
    if (request.method == "POST") return handle_post(request, client);
    if (request.method == "DELETE") return handle_delete(request, client);
    HttpResponse response = error_response(405, nullptr, kInvalidRequest,
                                           "this server offers no server-to-client event stream; use POST");
    response.headers.emplace_back("Allow", "POST, DELETE");
    return response;
}

HttpResponse StreamableHttpServer::body_too_large() const {
    HttpResponse response =
        error_response(413, nullptr, kInvalidRequest, "request body larger than " + std::to_string(options_.max_body_bytes) + " bytes");
    response.headers.emplace_back("Connection", "close");
    return response;
}

std::optional<HttpResponse> StreamableHttpServer::refuse_before_body(const HttpRequest& head) const {
    const std::string length = head.header("Content-Length");
    if (length.empty() || length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;  // no length, or one the HTTP layer refuses itself
    if (std::stoull(length) <= options_.max_body_bytes) return std::nullopt;
    return body_too_large();
}

std::optional<HttpResponse> StreamableHttpServer::refuse_rate_limited(const tls::PeerIdentity& client) {
    if (!rate_limiter_.enabled()) return std::nullopt;
    // Keyed by name, not certificate: a client that rotates its certificate keeps its budget.
    std::string who = client.display_name();
    if (who.empty()) who = client.fingerprint_sha256;
    const auto decision = rate_limiter_.acquire(who);
    if (decision.allowed) return std::nullopt;
    // One audit line per burst of refusals, so a flooding client cannot flood the log.
    if (decision.first_refusal)
        log_event(spdlog::level::warn, "rate_limited",
                  {{"client", who}, {"limit_per_second", options_.rate_limit}, {"retry_after_ms", decision.retry_after.count()}});
    HttpResponse response = error_response(429, nullptr, kInvalidRequest, "too many requests from this client; retry later");
    const long long seconds = (decision.retry_after.count() + 999) / 1000;
    response.headers.emplace_back("Retry-After", std::to_string(std::max(1LL, seconds)));
    return response;
}

std::shared_ptr<StreamableHttpServer::Session> StreamableHttpServer::find_session(const std::string& id,
                                                                                  const tls::PeerIdentity& client) {
    std::shared_ptr<Session> session;
    {
        std::shared_lock<std::shared_mutex> lock(sessions_mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return nullptr;
        session = it->second;
    }
    const int64_t now = now_ms();
    const int64_t idle_ms = static_cast<int64_t>(options_.session_idle_timeout.count()) * 1000;
    if (now - session->last_used_ms.load(std::memory_order_relaxed) > idle_ms) return nullptr;
    // A session belongs to the certificate that opened it: another client cannot ride on it.
    if (session->client_fingerprint != client.fingerprint_sha256) return nullptr;
    session->last_used_ms.store(now, std::memory_order_relaxed);
    return session;
}

void StreamableHttpServer::expire_idle_sessions_locked(int64_t now) {
    const int64_t idle_ms = static_cast<int64_t>(options_.session_idle_timeout.count()) * 1000;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (now - it->second->last_used_ms.load(std::memory_order_relaxed) > idle_ms) it = sessions_.erase(it);
        else ++it;
    }
    last_sweep_ms_ = now;
}

std::string StreamableHttpServer::create_session(const tls::PeerIdentity& client, const std::string& protocol_version,
                                                 bool& refused) {
    auto session = std::make_shared<Session>();
    session->client_fingerprint = client.fingerprint_sha256;
    session->protocol_version = protocol_version;
    const int64_t now = now_ms();
    session->last_used_ms = now;
    std::unique_lock<std::shared_mutex> lock(sessions_mutex_);
    if (sessions_.size() >= options_.max_sessions || now - last_sweep_ms_ > 10000) expire_idle_sessions_locked(now);
    if (sessions_.size() >= options_.max_sessions) {
        refused = true;
        return "";
    }
    std::string id = random_session_id();
    sessions_.emplace(id, std::move(session));
    return id;
}

json StreamableHttpServer::initialize(const json& params, std::string& negotiated) const {
    const auto& versions = supported_protocol_versions();
    const std::string requested = params.value("protocolVersion", "");
    negotiated = std::find(versions.begin(), versions.end(), requested) != versions.end() ? requested : versions.front();
    json server_info = {{"name", options_.name}, {"version", options_.version}};
    if (!options_.title.empty()) server_info["title"] = options_.title;
    json result = {{"protocolVersion", negotiated},
                   {"capabilities", {{"tools", {{"listChanged", false}}}, {"logging", json::object()}}},
                   {"serverInfo", server_info}};
    if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
    return result;
}

StreamableHttpServer::Reply StreamableHttpServer::Reply::ok(json result) {
    Reply reply;
    reply.result = std::move(result);
    return reply;
}

StreamableHttpServer::Reply StreamableHttpServer::Reply::error(int code, std::string message) {
    Reply reply;
    reply.error_code = code;
    reply.error_message = std::move(message);
    return reply;
}

StreamableHttpServer::Reply StreamableHttpServer::ping(const Call&) { return Reply::ok(json::object()); }

StreamableHttpServer::Reply StreamableHttpServer::list_tools(const Call& call) {
    if (!options_.policy.restricts()) {
        Reply reply;
        reply.rendered_result = tools_list_json_;
        return reply;
    }
    json visible = json::array();
    for (const auto& entry : tool_entries_)
        if (options_.policy.allows(call.client, entry["name"].get<std::string>())) visible.push_back(entry);
    return Reply::ok({{"tools", visible}});
}

StreamableHttpServer::Reply StreamableHttpServer::set_log_level(const Call& call) {
    const json& params = call.params;
    const std::string level = params.contains("level") && params["level"].is_string() ? params["level"].get<std::string>() : "";
    auto it = std::find(kLogLevels.begin(), kLogLevels.end(), level);
    if (it == kLogLevels.end())
        return Reply::error(kInvalidParams, "level must be one of debug, info, notice, warning, error, critical, alert, emergency");
    call.session.log_level = static_cast<int>(it - kLogLevels.begin());
    return Reply::ok(json::object());
}

StreamableHttpServer::Reply StreamableHttpServer::call_tool(const Call& call) {
    const auto started = Clock::now();
    const json& params = call.params;
    const tls::PeerIdentity& client = call.client;
    const std::string name = params.contains("name") && params["name"].is_string() ? params["name"].get<std::string>() : "";
    auto audit = [&](const std::string& outcome) {
        log_event(outcome == "ok" ? spdlog::level::info : spdlog::level::warn, "tool_call",
                  {{"client", client.display_name()},
                   {"client_fingerprint", client.fingerprint_sha256},
                   {"tool", name},
                   {"outcome", outcome},
                   {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()},
                   {"session", call.session_id.substr(0, 8)}});
    };
    auto refuse = [&](int code, const std::string& message, const std::string& outcome) {
        audit(outcome);
        return Reply::error(code, message);
    };
    if (name.empty()) return refuse(kInvalidParams, "tools/call needs params.name (a string)", "invalid_params");
    const Tool* tool = tools_.find(name);
    // An unauthorized client learns nothing more than about a tool that does not exist.
    if (!tool) return refuse(kInvalidParams, "unknown tool '" + name + "'", "unknown_tool");
    if (!options_.policy.allows(client, name))
        return refuse(kNotAuthorized, "client '" + client.display_name() + "' is not authorized to call tool '" + name + "'",
                      "not_authorized");
    json arguments = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"] : json::object();
    if (!arguments.is_object()) return refuse(kInvalidParams, "params.arguments must be an object", "invalid_params");
    if (auto problem = validate_arguments(tool->input_schema, arguments)) return refuse(kInvalidParams, *problem, "invalid_params");

    ToolResult result;
    try {
        result = tool->handler(arguments, ToolCallContext{client});
    } catch (const InvalidParams& e) {
        return refuse(kInvalidParams, e.what(), "invalid_params");
    } catch (const std::exception& e) {
        result = ToolResult::error(std::string("the tool failed: ") + e.what());
    }
    json out = {{"content", std::move(result.content)}, {"isError", result.is_error}};
    if (!result.structured.is_null() && !result.is_error) out["structuredContent"] = std::move(result.structured);
    audit(result.is_error ? "tool_error" : "ok");
    return Reply::ok(std::move(out));
}

namespace {

// One JSON-RPC answer, as the client asked for it: a JSON body, or one SSE message event.
HttpResponse framed(std::string message, bool sse, std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse response;
    response.status = 200;
    if (sse) {
        response.content_type = "text/event-stream";
        response.body = "event: message\ndata: " + message + "\n\n";
        headers.emplace_back("Cache-Control", "no-cache");
    } else {
        response.content_type = "application/json";
        response.body = std::move(message);
    }
    response.headers = std::move(headers);
    return response;
}

std::string result_message(const json& id, const std::string& rendered_result) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id.dump() + ",\"result\":" + rendered_result + "}";
}

}  // namespace

HttpResponse StreamableHttpServer::handle_post(const HttpRequest& request, const tls::PeerIdentity& client) {
    if (request.body.size() > options_.max_body_bytes) return body_too_large();
    if (to_lower(request.header("Content-Type")).find("application/json") == std::string::npos)
        return error_response(415, nullptr, kInvalidRequest, "Content-Type must be application/json");
    const std::string accept = request.header("Accept");
    const bool sse_only = !accept.empty() && !accepts(accept, "application/json") && accepts(accept, "text/event-stream");
    if (!accept.empty() && !accepts(accept, "application/json") && !accepts(accept, "text/event-stream"))
        return error_response(406, nullptr, kInvalidRequest, "Accept must allow application/json or text/event-stream");
    if (too_deep(request.body)) return error_response(400, nullptr, kParseError, "JSON nested deeper than 64 levels");

    json message = json::parse(request.body, nullptr, false);
    if (message.is_discarded()) return error_response(400, nullptr, kParseError, "invalid JSON (or invalid UTF-8)");
    if (message.is_array())
        return error_response(400, nullptr, kInvalidRequest, "JSON-RPC batches are not supported (removed in MCP 2025-06-18)");
    if (!message.is_object() || message.value("jsonrpc", json()) != "2.0")
        return error_response(400, nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message");

    const bool has_method = message.contains("method");
    const bool has_id = message.contains("id");
    json id = has_id ? message["id"] : json();
    if (has_id && !(id.is_string() || id.is_number_integer()))
        return error_response(400, nullptr, kInvalidRequest, "id must be a string or an integer");
    if (!has_method) {
        if (has_id && (message.contains("result") || message.contains("error"))) return HttpResponse{202, "", "", {}};
        return error_response(400, id, kInvalidRequest, "a request needs a method");
    }
    if (!message["method"].is_string()) return error_response(400, id, kInvalidRequest, "method must be a string");
    const std::string method = message["method"].get<std::string>();
    json params = message.contains("params") ? message["params"] : json::object();
    if (!params.is_object()) return error_response(400, id, kInvalidRequest, "params must be an object");

    const std::string protocol_header = request.header("MCP-Protocol-Version");
    const auto& versions = supported_protocol_versions();
    if (!protocol_header.empty() && std::find(versions.begin(), versions.end(), protocol_header) == versions.end())
        return error_response(400, id, kInvalidRequest, "unsupported MCP-Protocol-Version '" + protocol_header + "'");

    if (method == "initialize") {
        if (!has_id) return error_response(400, nullptr, kInvalidRequest, "initialize must be a request (with an id)");
        std::string negotiated;
        json result = initialize(params, negotiated);
        bool refused = false;
        std::string session_id = create_session(client, negotiated, refused);
        if (refused) return error_response(503, id, kInternalError, "too many open sessions; try again later");
        log_event(spdlog::level::debug, "session_opened",
                  {{"client", client.display_name()}, {"session", session_id.substr(0, 8)}, {"protocol", negotiated}});
        return framed(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}.dump(-1, ' ', false, json::error_handler_t::replace),
                      sse_only, {{"Mcp-Session-Id", session_id}});
    }

    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty())
        return error_response(400, id, kInvalidRequest, "missing Mcp-Session-Id header (send initialize first)");
    auto session = find_session(session_id, client);
    if (!session) return error_response(404, id, kInvalidRequest, "unknown or expired session; initialize again");

    if (!has_id) return HttpResponse{202, "", "", {}};  // notifications (initialized, cancelled, ...)

    auto handler = methods_.find(method);
    if (handler == methods_.end()) return json_response(200, rpc_error(id, kMethodNotFound, "unknown method '" + method + "'"));
    const Reply reply = (this->*(handler->second))(Call{params, client, *session, session_id});
    if (reply.error_code != 0) return json_response(200, rpc_error(id, reply.error_code, reply.error_message));
    return framed(result_message(id, reply.rendered_result.empty()
                                          ? reply.result.dump(-1, ' ', false, json::error_handler_t::replace)
                                          : reply.rendered_result),
                  sse_only);
}

HttpResponse StreamableHttpServer::handle_delete(const HttpRequest& request, const tls::PeerIdentity& client) {
    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty()) return error_response(400, nullptr, kInvalidRequest, "missing Mcp-Session-Id header");
    if (!find_session(session_id, client)) return error_response(404, nullptr, kInvalidRequest, "unknown or expired session");
    std::unique_lock<std::shared_mutex> lock(sessions_mutex_);
    sessions_.erase(session_id);
    return HttpResponse{200, "", "", {}};
}

}  // namespace mcpmtls::mcp
