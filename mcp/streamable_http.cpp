#include "mcp/streamable_http.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/internal/jsonrpc.hpp"
#include "mcp/json_schema.hpp"

#include <algorithm>
#include <mutex>

namespace mcpmtls::mcp {
namespace {

using nlohmann::json;

// Deeper documents are refused before parsing: recursion in a parser is a stack to exhaust.
constexpr int kMaxJsonDepth = 64;

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

using internal::dump;
using internal::json_response;
using internal::result_message;
using internal::rpc_error;

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

// An answer without a body: 202 for a notification or a response, 200 for a DELETE.
HttpResponse empty_response(int status) {
    HttpResponse response;
    response.status = status;
    return response;
}

// One JSON-RPC answer, as the client asked for it: a JSON body, or SSE message events (the
// messages the request produced first, then the answer).
HttpResponse framed(std::string message, bool sse, std::vector<std::string> before = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse response;
    response.status = 200;
    if (sse) {
        response.content_type = "text/event-stream";
        for (const auto& earlier : before) response.body += sse_message_event(earlier);
        response.body += sse_message_event(message);
        headers.emplace_back("Cache-Control", "no-cache");
    } else {
        response.content_type = "application/json";
        response.body = std::move(message);
    }
    response.headers = std::move(headers);
    return response;
}

// What the Accept header allows: JSON, an event stream, or only an event stream.
struct Acceptance {
    bool json = true;
    bool sse = false;
    bool sse_only() const { return sse && !json; }
};

Acceptance acceptance(const std::string& accept) {
    if (accept.empty()) return {true, false};
    return {accepts(accept, "application/json"), accepts(accept, "text/event-stream")};
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

void StreamableHttpServer::Outbox::send(const json& message) {
    if (live) live->push(dump(message));
    else buffered.push_back(dump(message));
}

auto StreamableHttpServer::method_table(const ServerOptions& options) -> std::unordered_map<std::string, MethodEntry> {
    using S = StreamableHttpServer;
    std::unordered_map<std::string, MethodEntry> methods = {{"ping", {&S::ping, kLegacy}},
                                                            {"logging/setLevel", {&S::set_log_level, kLegacy}},
                                                            {"server/discover", {&S::discover, kModern}},
                                                            {"tools/list", {&S::list_tools, kBoth}},
                                                            {"tools/call", {&S::call_tool, kBoth}}};
    // A server without resources or prompts does not offer their methods (-32601), as its
    // capabilities say.
    if (!options.resources.empty()) {
        methods.emplace("resources/list", MethodEntry{&S::list_resources, kBoth});
        methods.emplace("resources/templates/list", MethodEntry{&S::list_resource_templates, kBoth});
        methods.emplace("resources/read", MethodEntry{&S::read_resource, kBoth});
        methods.emplace("resources/subscribe", MethodEntry{&S::subscribe_resource, kLegacy});
        methods.emplace("resources/unsubscribe", MethodEntry{&S::unsubscribe_resource, kLegacy});
    }
    if (!options.prompts.empty()) {
        methods.emplace("prompts/list", MethodEntry{&S::list_prompts, kBoth});
        methods.emplace("prompts/get", MethodEntry{&S::get_prompt, kBoth});
    }
    if (!options.prompts.empty() || !options.resources.templates().empty())
        methods.emplace("completion/complete", MethodEntry{&S::complete, kBoth});
    return methods;
}

auto StreamableHttpServer::find_method(const std::string& name, Era era) const -> const Method* {
    auto it = methods_.find(name);
    return it != methods_.end() && (it->second.eras & era) ? &it->second.handler : nullptr;
}

StreamableHttpServer::StreamableHttpServer(ServerOptions options, ToolRegistry tools)
    : options_(std::move(options)),
      tools_(std::move(tools)),
      methods_(method_table(options_)),
      state_seal_(options_.state_key ? *options_.state_key : pki::SealedBox::random_key(), options_.request_state_lifetime),
      sessions_(SessionLimits{options_.max_sessions, options_.max_sessions_per_client,
                              std::chrono::duration_cast<std::chrono::milliseconds>(options_.session_idle_timeout)}),
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

StreamableHttpServer::~StreamableHttpServer() {
    {
        std::lock_guard<std::mutex> lock(listeners_mutex_);
        for (auto& listener : listeners_)
            if (auto stream = listener.stream.lock()) stream->finish();
        listeners_.clear();
    }
    sessions_.close_all();
    // call_threads_, destroyed first of the members, joins the (now cancelled) calls.
}

size_t StreamableHttpServer::session_count() const {
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
    std::optional<tls::PeerIdentity> token_holder;
    if (options_.oauth)
        if (auto refused = refuse_without_token(request, client, token_holder)) return *refused;
    const tls::PeerIdentity& who = token_holder ? *token_holder : client;
    if (request.method == "POST") return handle_post(request, who);
    if (request.method == "DELETE") return handle_delete(request, who);
    if (request.method == "GET" && acceptance(request.header("Accept")).sse) return handle_get(request, who);
    HttpResponse response = error_response(405, nullptr, kInvalidRequest,
                                           "use POST for messages, GET with Accept: text/event-stream for the "
                                           "server's event stream, DELETE to end a session");
    response.headers.emplace_back("Allow", "GET, POST, DELETE");
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

std::shared_ptr<Session> StreamableHttpServer::find_session(const std::string& id, const tls::PeerIdentity& client) {
    return sessions_.find(id, client.fingerprint_sha256);
}

std::string StreamableHttpServer::create_session(const tls::PeerIdentity& client, const std::string& protocol_version,
                                                 const json& client_capabilities) {
    // The identity that caps a client's sessions is its name, as for rate limits.
    std::string identity = client.display_name();
    if (identity.empty()) identity = client.fingerprint_sha256;
    return sessions_.open(std::make_shared<Session>(client.fingerprint_sha256, protocol_version, client_capabilities,
                                                    options_.sse_replay_events),
                          identity);
}

json StreamableHttpServer::initialize(const json& params, std::string& negotiated) const {
    const auto& versions = supported_protocol_versions();
    const std::string requested = params.contains("protocolVersion") && params["protocolVersion"].is_string()
                                      ? params["protocolVersion"].get<std::string>()
                                      : "";
    // The client's version when we speak it, else the one we prefer (the client may then disconnect).
    negotiated = std::find(versions.begin(), versions.end(), requested) != versions.end() ? requested : versions.front();
    json server_info = {{"name", options_.name}, {"version", options_.version}};
    if (!options_.title.empty()) server_info["title"] = options_.title;
    const json capabilities = this->capabilities();
    json result = {{"protocolVersion", negotiated}, {"capabilities", capabilities}, {"serverInfo", server_info}};
    if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
    return result;
}

StreamableHttpServer::Reply StreamableHttpServer::Reply::ok(json result) {
    Reply reply;
    reply.result = std::move(result);
    return reply;
}

StreamableHttpServer::Reply StreamableHttpServer::Reply::error(int code, std::string message, json data) {
    Reply reply;
    reply.error_code = code;
    reply.error_message = std::move(message);
    reply.error_data = std::move(data);
    return reply;
}

HttpResponse StreamableHttpServer::answer(const json& id, const Reply& reply, Outbox& outbox, Session& session,
                                          const std::string& accept) {
    const Acceptance wanted = acceptance(accept);
    const bool sse = wanted.sse_only() || (wanted.sse && !outbox.buffered.empty());
    // A client that takes JSON only gets the request's messages on its GET stream, if it has one.
    if (!sse)
        for (const auto& message : outbox.buffered) session.standalone_stream()->push(message);
    if (reply.error_code != 0) return json_response(200, rpc_error(id, reply.error_code, reply.error_message));
    return framed(result_message(id, reply.rendered_result.empty() ? dump(reply.result) : reply.rendered_result), sse,
                  sse ? std::move(outbox.buffered) : std::vector<std::string>{});
}

HttpResponse StreamableHttpServer::handle_post(const HttpRequest& request, const tls::PeerIdentity& client) {
    if (request.body.size() > options_.max_body_bytes) return body_too_large();
    if (to_lower(request.header("Content-Type")).find("application/json") == std::string::npos)
        return error_response(415, nullptr, kInvalidRequest, "Content-Type must be application/json");
    const std::string accept = request.header("Accept");
    const Acceptance wanted = acceptance(accept);
    if (!accept.empty() && !wanted.json && !wanted.sse)
        return error_response(406, nullptr, kInvalidRequest, "Accept must allow application/json or text/event-stream");
    if (too_deep(request.body)) return error_response(400, nullptr, kParseError, "JSON nested deeper than 64 levels");

    json message = json::parse(request.body, nullptr, false);
    if (message.is_discarded()) return error_response(400, nullptr, kParseError, "invalid JSON (or invalid UTF-8)");
    if (message.is_array()) {
        // Batches are part of 2025-03-26 only (2025-06-18 removed them): a session of that version may send them.
        auto session = find_session(request.header("Mcp-Session-Id"), client);
        if (session && session->protocol_version() == "2025-03-26" && !message.empty()) {
            if (options_.oauth)
                for (const auto& item : message)
                    if (item.is_object() && item.value("method", json()) == "tools/call" && item.contains("params"))
                        if (auto refused = refuse_without_scope(request, client, item.value("id", json()), "tools/call", item["params"]))
                            return *refused;
            return handle_batch(message, client, session, request.header("Mcp-Session-Id"));
        }
        return error_response(400, nullptr, kInvalidRequest, "JSON-RPC batches are not supported (removed in MCP 2025-06-18)");
    }
    if (!message.is_object() || message.value("jsonrpc", json()) != "2.0")
        return error_response(400, nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message");

    const bool has_method = message.contains("method");
    const bool has_id = message.contains("id");
    json id = has_id ? message["id"] : json();
    if (has_id && !(id.is_string() || id.is_number_integer()))
        return error_response(400, nullptr, kInvalidRequest, "id must be a string or an integer");
    if (!has_method) {
        if (has_id && (message.contains("result") || message.contains("error")))
            return handle_client_message(request, client, message);
        return error_response(400, id, kInvalidRequest, "a request needs a method");
    }
    if (!message["method"].is_string()) return error_response(400, id, kInvalidRequest, "method must be a string");
    const std::string method = message["method"].get<std::string>();
    json params = message.contains("params") ? message["params"] : json::object();
    if (!params.is_object()) return error_response(400, id, kInvalidRequest, "params must be an object");
    if (options_.oauth)
        if (auto refused = refuse_without_scope(request, client, id, method, params)) return *refused;

    const std::string protocol_header = request.header("MCP-Protocol-Version");
    if (modern::is_modern(params, protocol_header)) return handle_modern(request, client, id, has_id, method, params);
    const auto& versions = supported_protocol_versions();
    if (!protocol_header.empty() && std::find(versions.begin(), versions.end(), protocol_header) == versions.end())
        return error_response(400, id, kInvalidRequest, "unsupported MCP-Protocol-Version '" + protocol_header + "'");

    if (method == "initialize") {
        if (!has_id) return error_response(400, nullptr, kInvalidRequest, "initialize must be a request (with an id)");
        std::string negotiated;
        json result = initialize(params, negotiated);
        std::string session_id = create_session(client, negotiated, params.value("capabilities", json::object()));
        if (session_id.empty()) return error_response(503, id, kInternalError, "too many open sessions; try again later");
        log_event(spdlog::level::debug, "session_opened",
                  {{"client", client.display_name()}, {"session", session_id.substr(0, 8)}, {"protocol", negotiated}});
        return framed(dump(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}), wanted.sse_only(), {},
                      {{"Mcp-Session-Id", session_id}});
    }

    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty())
        return error_response(400, id, kInvalidRequest, "missing Mcp-Session-Id header (send initialize first)");
    auto session = find_session(session_id, client);
    if (!session) return error_response(404, id, kInvalidRequest, "unknown or expired session; initialize again");

    if (!has_id) {  // notifications: initialized, cancelled, ...
        if (method == "notifications/cancelled" && params.contains("requestId"))
            session->cancel_call(params["requestId"]);
        return empty_response(202);
    }

    const Method* handler = find_method(method, kLegacy);
    if (!handler) return json_response(200, rpc_error(id, kMethodNotFound, "unknown method '" + method + "'"));
    if (wanted.sse && streams_call(method, params, accept))
        return stream_call(*handler, id, params, client, session, session_id);
    Outbox outbox;
    const Reply reply = run_in_place(*handler, method, id, params, client, session, session_id, outbox);
    return answer(id, reply, outbox, *session, accept);
}

// A request answered when it is done, on the worker's thread (tools/call is registered, so that
// notifications/cancelled reaches it).
auto StreamableHttpServer::run_in_place(Method handler, const std::string& method, const json& id, const json& params,
                                        const tls::PeerIdentity& client, const std::shared_ptr<Session>& session,
                                        const std::string& session_id, Outbox& outbox) -> Reply {
    std::shared_ptr<Session::RunningCall> running;
    if (method == "tools/call") {
        running = session->begin_call(id);
        if (!running) return Reply::error(kInvalidRequest, "a request with this id is already running");
    }
    Reply reply = (this->*handler)(Call{params, client, session, session_id, id, outbox, running});
    if (running) {
        session->end_call(id);
        // The client gave up on the answer; it ignores whatever comes, so say what happened.
        if (running->cancelled) return Reply::error(kRequestCancelled, "the request was cancelled");
    }
    return reply;
}

// A 2025-03-26 batch: its requests answered in place, one JSON array of answers (202 when it
// held only notifications and responses). Messages the requests send go to the GET stream.
HttpResponse StreamableHttpServer::handle_batch(const json& batch, const tls::PeerIdentity& client,
                                                const std::shared_ptr<Session>& session, const std::string& session_id) {
    json answers = json::array();
    for (const auto& message : batch) {
        if (!message.is_object() || message.value("jsonrpc", json()) != "2.0") {
            answers.push_back(rpc_error(nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message"));
            continue;
        }
        const json id = message.contains("id") ? message["id"] : json();
        if (!message.contains("method")) {
            if (message.contains("id")) session->deliver_answer(message);
            continue;
        }
        const json params = message.contains("params") ? message["params"] : json::object();
        if (!message["method"].is_string() || !params.is_object() || (message.contains("id") && !(id.is_string() || id.is_number_integer()))) {
            answers.push_back(rpc_error(id, kInvalidRequest, "method must be a string, params an object, id a string or an integer"));
            continue;
        }
        const std::string method = message["method"].get<std::string>();
        if (!message.contains("id")) {
            if (method == "notifications/cancelled" && params.contains("requestId")) session->cancel_call(params["requestId"]);
            continue;
        }
        const Method* handler = find_method(method, kLegacy);
        if (method == "initialize" || !handler) {
            answers.push_back(rpc_error(id, method == "initialize" ? kInvalidRequest : kMethodNotFound,
                                        method == "initialize" ? "initialize cannot be part of a batch" : "unknown method '" + method + "'"));
            continue;
        }
        Outbox outbox;
        const Reply reply = run_in_place(*handler, method, id, params, client, session, session_id, outbox);
        for (const auto& sent : outbox.buffered) session->standalone_stream()->push(sent);
        answers.push_back(reply.error_code != 0 ? rpc_error(id, reply.error_code, reply.error_message)
                                                : json::parse(result_message(id, reply.rendered_result.empty() ? dump(reply.result) : reply.rendered_result)));
    }
    if (answers.empty()) return empty_response(202);
    return json_response(200, answers);
}

// A JSON-RPC response from the client: the answer to one of our requests (sampling, elicitation).
HttpResponse StreamableHttpServer::handle_client_message(const HttpRequest& request, const tls::PeerIdentity& client,
                                                         const json& message) {
    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty()) return error_response(400, nullptr, kInvalidRequest, "missing Mcp-Session-Id header");
    auto session = find_session(session_id, client);
    if (!session) return error_response(404, nullptr, kInvalidRequest, "unknown or expired session; initialize again");
    // An answer nobody waits for any more (timed out, cancelled) is accepted and dropped.
    if (!session->deliver_answer(message))
        log_event(spdlog::level::debug, "unexpected_answer", {{"session", session_id.substr(0, 8)}, {"id", message["id"].dump()}});
    return empty_response(202);
}

std::shared_ptr<StreamReader> StreamableHttpServer::reader_for(std::shared_ptr<EventStream> stream, uint64_t cursor,
                                                               const Session& session) const {
    return reader_for(std::move(stream), cursor, session.primes_streams());
}

std::shared_ptr<StreamReader> StreamableHttpServer::reader_for(std::shared_ptr<EventStream> stream, uint64_t cursor, bool prime) const {
    SseSettings settings;
    settings.heartbeat = options_.sse_heartbeat;
    settings.retry = options_.sse_retry;
    settings.replay_events = options_.sse_replay_events;
    return std::make_shared<StreamReader>(std::move(stream), cursor, settings, prime);
}

HttpResponse StreamableHttpServer::event_stream_response(std::shared_ptr<StreamReader> reader) {
    HttpResponse response;
    response.status = 200;
    response.content_type = "text/event-stream";
    response.headers = {{"Cache-Control", "no-cache"}};
    response.stream = [reader = std::move(reader)](BodySink& sink) { return reader->pump(sink); };
    return response;
}

// The standalone stream (server-initiated messages), or the rest of an earlier stream after the
// event the client names in Last-Event-ID.
HttpResponse StreamableHttpServer::handle_get(const HttpRequest& request, const tls::PeerIdentity& client) {
    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty())
        return error_response(400, nullptr, kInvalidRequest, "missing Mcp-Session-Id header (send initialize first)");
    auto session = find_session(session_id, client);
    if (!session) return error_response(404, nullptr, kInvalidRequest, "unknown or expired session; initialize again");
    std::shared_ptr<EventStream> stream;
    uint64_t cursor = 0;
    const std::string last_event = request.header("Last-Event-ID");
    if (!last_event.empty()) {
        if (auto event = EventId::parse(last_event)) {
            stream = session->find_stream(event->stream);
            cursor = event->sequence;
        }
        // An id we never issued, or of a stream long forgotten: nothing can be replayed, so the
        // client gets the standalone stream from now on, as if it had not asked to resume.
        if (!stream || cursor > stream->last_sequence())
            log_event(spdlog::level::debug, "unknown_last_event_id", {{"session", session_id.substr(0, 8)}, {"id", last_event.substr(0, 64)}});
    }
    if (!stream || cursor > stream->last_sequence()) {
        stream = session->standalone_stream();
        cursor = session->first_standalone_open() ? 0 : stream->last_sequence();
    }
    return event_stream_response(reader_for(std::move(stream), cursor, *session));
}

HttpResponse StreamableHttpServer::handle_delete(const HttpRequest& request, const tls::PeerIdentity& client) {
    const std::string session_id = request.header("Mcp-Session-Id");
    if (session_id.empty()) return error_response(400, nullptr, kInvalidRequest, "missing Mcp-Session-Id header");
    if (!find_session(session_id, client) || !sessions_.end(session_id, client.fingerprint_sha256))
        return error_response(404, nullptr, kInvalidRequest, "unknown or expired session");
    return empty_response(200);
}

void StreamableHttpServer::resource_updated(const std::string& uri) {
    const auto subscribers = sessions_.select([&](const Session& session) { return session.subscribed(uri); });
    const std::string message = dump(internal::notification("notifications/resources/updated", {{"uri", uri}}));
    for (const auto& session : subscribers) session->standalone_stream()->push(message);
    // 2026-07-28 listeners, each told under its own subscription id; gone ones are forgotten.
    std::lock_guard<std::mutex> lock(listeners_mutex_);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        auto stream = it->stream.lock();
        if (!stream || stream->finished()) {
            it = listeners_.erase(it);
            continue;
        }
        if (it->uris.count(uri))
            stream->push(dump(internal::notification("notifications/resources/updated",
                                                     {{"uri", uri}, {"_meta", {{modern::kMetaSubscriptionId, it->id}}}})));
        ++it;
    }
}

}  // namespace mcpmtls::mcp
