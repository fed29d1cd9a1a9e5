// The 2026-07-28 face of the dispatcher: a stateless request is checked (envelope, standard and
// Mcp-Param-* headers), its multi-round state opened, then served by the same method table as the
// 2025 era, and its result decorated as the revision has them: resultType, caching hints on list
// and read results, and a sealed requestState on an input-required result.
#include "mcp/streamable_http.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/internal/jsonrpc.hpp"

#include <algorithm>

namespace mcpmtls::mcp {

using nlohmann::json;

namespace {

// How long a client may reuse a list or read result. Tools, prompts and templates are fixed for
// the process's life; resources may change under the client (test://watched-resource): not cached.
// Private: a ToolPolicy filters tools/list per client identity.
int64_t ttl_ms(const std::string& method) {
    if (method == "tools/list" || method == "prompts/list" || method == "resources/templates/list") return 60000;
    return 0;
}

bool cacheable(const std::string& method) {
    const auto& methods = protocol::kCacheableMethods;
    return std::find(methods.begin(), methods.end(), method) != methods.end();
}

// Methods whose call may need input from the client over several rounds.
bool multi_round(const std::string& method) { return method == "tools/call" || method == "prompts/get" || method == "resources/read"; }

std::string bound_name(const std::string& method, const json& params) {
    const char* field = method == "resources/read" ? "uri" : "name";
    return params.contains(field) && params[field].is_string() ? params[field].get<std::string>() : "";
}

json rpc_error(const json& id, int code, const std::string& message, const json& data) {
    json error = internal::rpc_error(id, code, message);
    if (!data.is_null()) error["error"]["data"] = data;
    return error;
}

// The HTTP status of an error a handler answered: in-band (200), except a missing client
// capability, which the revision puts on 400.
int status_of(int code) { return code == modern::kMissingClientCapability ? 400 : 200; }

}  // namespace

std::string StreamableHttpServer::modern_message(const json& id, const std::string& method, const json& params,
                                                 const Reply& reply, const ModernRound& round, const tls::PeerIdentity& client) const {
    if (reply.error_code != 0) return internal::dump(rpc_error(id, reply.error_code, reply.error_message, reply.error_data));
    if (reply.rendered_result.empty() && reply.result.is_object() && reply.result.value("resultType", "") == "input_required") {
        json result = reply.result;
        RequestStateSeal::Contents contents;
        contents.answers = round.used;
        for (auto it = result["inputRequests"].begin(); it != result["inputRequests"].end(); ++it) contents.pending.push_back(it.key());
        result["requestState"] = state_seal_.seal({owner_key(client), method, bound_name(method, params)}, contents);
        return internal::result_message(id, internal::dump(result));
    }
    // resultType and the caching hints go in front of the result's own members, textually: a
    // result rendered once (tools/list) is not parsed again, and the hot path (tools/call) builds
    // no JSON tree for three constant members.
    std::string head = cacheable(method) ? "{\"cacheScope\":\"private\",\"resultType\":\"complete\",\"ttlMs\":" +
                                               std::to_string(ttl_ms(method))
                                         : std::string("{\"resultType\":\"complete\"");
    const std::string rendered = reply.rendered_result.empty() ? internal::dump(reply.result) : std::string();
    const std::string& body = reply.rendered_result.empty() ? rendered : reply.rendered_result;
    std::string result;
    result.reserve(head.size() + body.size() + 1);
    result += head;
    if (body.size() > 2 && body.front() == '{') result.append(",").append(body, 1, std::string::npos);
    else result += "}";
    return internal::result_message(id, result);
}

HttpResponse StreamableHttpServer::modern_answer(const json& id, const std::string& method, const json& params, const Reply& reply,
                                                 const ModernRound& round, const tls::PeerIdentity& client,
                                                 std::vector<std::string> before, bool sse) const {
    HttpResponse response;
    response.status = reply.error_code != 0 ? status_of(reply.error_code) : 200;
    const std::string message = modern_message(id, method, params, reply, round, client);
    if (sse && !before.empty()) {
        response.content_type = "text/event-stream";
        for (const auto& earlier : before) response.body += sse_message_event(earlier);
        response.body += sse_message_event(message);
        response.headers.emplace_back("Cache-Control", "no-cache");
    } else {
        response.content_type = "application/json";
        response.body = message;
    }
    return response;
}

HttpResponse StreamableHttpServer::handle_modern(const HttpRequest& request, const tls::PeerIdentity& client, const json& id,
                                                 bool has_id, const std::string& method, const json& params) {
    // Field values without the optional whitespace around them (RFC 9110 section 5.5).
    const auto header = [&request](const std::string& name) { return trim(request.header(name)); };
    auto refuse = [&](int status, int code, const std::string& message, const json& data = nullptr) {
        return internal::json_response(status, rpc_error(id, code, message, data));
    };
    modern::Checked checked = modern::check_request(method, params, has_id, header);
    if (checked.rejection) {
        const auto& r = *checked.rejection;
        return refuse(r.status, r.code, r.message, r.data);
    }
    if (!has_id) {  // a notification: nothing to answer (no session holds calls to cancel)
        HttpResponse accepted;
        accepted.status = 202;
        return accepted;
    }
    if (method == "subscriptions/listen") return listen(id, params);
    const Method* handler = find_method(method, kModern);
    if (!handler) return refuse(404, kMethodNotFound, "Method not found: '" + method + "' (MCP " + std::string(modern::kProtocolVersion) + ")");

    auto round = std::make_shared<ModernRound>();
    round->envelope = std::move(*checked.envelope);
    if (method == "tools/call") {
        // SEP-2243: arguments mirrored in Mcp-Param-* headers must agree, before any handler runs.
        const Tool* tool = params.contains("name") && params["name"].is_string() ? tools_.find(params["name"].get<std::string>()) : nullptr;
        if (tool) {
            static const json no_arguments = json::object();
            const json& arguments = params.contains("arguments") ? params["arguments"] : no_arguments;
            if (auto rejection = modern::check_param_headers(tool->input_schema, arguments, header))
                return refuse(rejection->status, rejection->code, rejection->message);
        }
    }
    if (multi_round(method)) {
        if (params.contains("inputResponses") && !params["inputResponses"].is_object())
            return refuse(200, kInvalidParams, "params.inputResponses must be an object (input key -> the client's answer)");
        if (params.contains("requestState") && !params["requestState"].is_string())
            return refuse(200, kInvalidParams, "params.requestState must be the string the server sent");
        static const json no_responses = json::object();
        const json& responses = params.contains("inputResponses") ? params["inputResponses"] : no_responses;
        if (params.contains("requestState")) {
            RequestStateSeal::Contents contents;
            try {
                contents = state_seal_.open(params["requestState"].get<std::string>(),
                                            {owner_key(client), method, bound_name(method, params)});
            } catch (const RequestStateError& e) {
                log_event(spdlog::level::warn, "request_state_refused",
                          {{"client", client.display_name()}, {"method", method}, {"reason", e.what()}});
                return refuse(200, kInvalidParams, e.what());
            }
            // With state, the server knows what it asked: an answer to anything else is a mistake.
            for (auto it = responses.begin(); it != responses.end(); ++it)
                if (std::find(contents.pending.begin(), contents.pending.end(), it.key()) == contents.pending.end() &&
                    !contents.answers.contains(it.key()))
                    return refuse(200, kInvalidParams, "inputResponses['" + it.key() + "'] answers a question this server never asked");
            round->answers = std::move(contents.answers);
        }
        // Without state (a first round, or a client answering questions it was given without
        // state) answers to unknown keys are ignored, as the revision asks.
        for (auto it = responses.begin(); it != responses.end(); ++it) round->answers[it.key()] = it.value();
    }

    static const std::shared_ptr<Session> no_session;
    static const std::string no_session_id;
    // Streamed only when the request asked for messages while it runs (progress, log): questions
    // to the client end the round instead, so nothing else needs a live stream, and errors such as
    // a missing capability keep their HTTP status. Only then does an event stream carry anything.
    const bool wants_messages = !round->envelope.progress_token.is_null() || round->envelope.log_level.has_value();
    const auto takes_stream = [&request] { return to_lower(request.header("Accept")).find("text/event-stream") != std::string::npos; };
    if (wants_messages && takes_stream() && streams_call(method, params, request.header("Accept"))) {
        if (streamed_calls_.fetch_add(1) >= options_.max_streamed_calls) {
            --streamed_calls_;
            return refuse(200, kInternalError, "too many streamed tool calls in progress; try again later");
        }
        auto stream = std::make_shared<EventStream>("1", options_.sse_replay_events);
        auto reader = reader_for(stream, 0, false);
        call_threads_.start([this, handler = *handler, id, method, params, client, round, stream] {
            Outbox outbox;
            outbox.live = stream;
            Reply reply;
            try {
                reply = (this->*handler)(Call{params, client, no_session, no_session_id, id, outbox, nullptr, round.get()});
            } catch (const std::exception& e) {
                reply = Reply::error(kInternalError, e.what());
            }
            stream->push(modern_message(id, method, params, reply, *round, client));
            stream->finish();
            --streamed_calls_;
        });
        return event_stream_response(std::move(reader));
    }
    Outbox outbox;
    Reply reply;
    try {
        reply = (this->*(*handler))(Call{params, client, no_session, no_session_id, id, outbox, nullptr, round.get()});
    } catch (const std::exception& e) {
        reply = Reply::error(kInternalError, e.what());
    }
    // A client that takes JSON only does not get the call's messages: there is no other stream.
    const bool sse = !outbox.buffered.empty() && takes_stream();
    return modern_answer(id, method, params, reply, *round, client, std::move(outbox.buffered), sse);
}

// subscriptions/listen: a stream that stays open, acknowledged first, then the notifications the
// filter asks for (resources/updated for resourceSubscriptions; lists never change here), each
// tagged with the subscription id, which is the request's id.
HttpResponse StreamableHttpServer::listen(const json& id, const json& params) {
    const json filter = params.contains("notifications") ? params["notifications"] : json::object();
    if (!filter.is_object()) return internal::json_response(200, rpc_error(id, kInvalidParams, "params.notifications must be an object", nullptr));
    Listener listener;
    listener.id = id;
    if (filter.contains("resourceSubscriptions") && filter["resourceSubscriptions"].is_array())
        for (const auto& uri : filter["resourceSubscriptions"])
            if (uri.is_string() && listener.uris.size() < Session::kMaxSubscriptions) listener.uris.insert(uri.get<std::string>());
    auto stream = std::make_shared<EventStream>("listen", options_.sse_replay_events);
    stream->push(internal::dump(internal::notification("notifications/subscriptions/acknowledged",
                                                       {{"notifications", filter}, {"_meta", {{modern::kMetaSubscriptionId, id}}}})));
    listener.stream = stream;
    {
        std::lock_guard<std::mutex> lock(listeners_mutex_);
        // Forget listeners whose clients left, so that the list cannot grow without end.
        listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(), [](const Listener& l) { return l.stream.expired(); }),
                         listeners_.end());
        listeners_.push_back(std::move(listener));
    }
    return event_stream_response(reader_for(std::move(stream), 0, false));
}

}  // namespace mcpmtls::mcp
