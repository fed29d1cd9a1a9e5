// What a host that speaks 2026-07-28 takes to reach a server that speaks only 2025 (see
// client/upstream_session.hpp): its messages without their envelope, the server's results with
// what a 2026 result says of itself, and the server's requests in the middle of a call turned
// into input-required rounds. A 2025 server asks on the call's own stream and waits there for the
// answer, so the call cannot end and start again as a 2026 server's does: it stays open, the
// thread reading its stream parked, while the host answers the round; the host's retry (with the
// bridge's requestState) wakes it with the answer, and from then on the call's messages and its
// result go to the retry. subscriptions/listen becomes the server's standalone stream (and
// resources/subscribe), its notifications tagged with the listen request's id.
#include "client/oauth.hpp"
#include "client/upstream_session.hpp"
#include "common/log.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>

namespace mcpmtls::client {

using json = nlohmann::json;

namespace {

namespace protocol = mcp::protocol;

// How long a parked call waits for the host's retry: as long as the bridge waits for a 2025
// host's answer to a question of a 2026 server.
constexpr auto kHostRetryWait = std::chrono::minutes(10);
// Each parked call holds a bridge worker (the thread reading its stream): a bound well below the
// worker count keeps threads free for the retries that release them.
constexpr size_t kMaxHeldCalls = 16;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

// What a 2026-07-28 input-required result can ask the host.
bool askable(const std::string& method) {
    return method == "elicitation/create" || method == "sampling/createMessage" || method == "roots/list";
}

// A 2026-07-28 host's message for a 2025 session: the per-request envelope (which the session
// itself stands for now) taken out of _meta, the other keys (progressToken...) kept.
json envelope_removed(json message) {
    if (!message.contains("params") || !message["params"].is_object()) return message;
    json& params = message["params"];
    if (!params.contains("_meta") || !params["_meta"].is_object()) return message;
    json& meta = params["_meta"];
    for (const char* key : {protocol::kMetaProtocolVersion, protocol::kMetaClientCapabilities, protocol::kMetaClientInfo, protocol::kMetaLogLevel})
        meta.erase(key);
    if (meta.empty()) params.erase("_meta");
    return message;
}

// What a 2026-07-28 result says of itself; errors pass as they are.
void as_modern_result(json& answer, const std::string& method) {
    if (!answer.contains("result") || !answer["result"].is_object()) return;
    json& result = answer["result"];
    if (!result.contains("resultType")) result["resultType"] = protocol::kResultComplete;
    // Required on lists and reads; not to be cached, since nothing says how long the server's
    // answer holds.
    const auto& cacheable = protocol::kCacheableMethods;
    if (std::find(cacheable.begin(), cacheable.end(), method) != cacheable.end()) {
        if (!result.contains("cacheScope")) result["cacheScope"] = "private";
        if (!result.contains("ttlMs")) result["ttlMs"] = 0;
    }
}

json rpc_result(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }
json rpc_error(const json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

// One call of the host parked on a server's question, shared by the thread that reads the
// server's stream (the owner) and the host's retries.
struct UpstreamSession::HeldCall {
    std::string method;  // what the host's retries must ask again
    json name;           // params.name of tools/call and prompts/get: the same in each retry
    json first_id;       // the id the server knows the call by
    std::mutex mutex;
    std::condition_variable wake;
    // The host's request the call's next answer goes to, and where its messages go meanwhile:
    // the first request, then each retry in turn; empty while parked.
    json host_id;
    MessageSink to_host;
    // Which host request that is (0: the first, then each retry's number), and the last one whose
    // answer has gone out: a retry's worker (whose frame the sink refers to) waits for it. A
    // number, not a flag: the host may retry before the owner has marked the round it answered.
    uint64_t host_turn = 0;
    uint64_t answered_turn = 0;
    // The round put to the host: one input key for the server's one question.
    int rounds = 0;
    std::string key;
    json question;          // the server's request
    bool answered = false;  // a retry brought the answer (set under held_mutex_ as well)
    json answer;            // what the host answered
    bool abandoned = false; // the host is gone

    json input_required(const std::string& state) const {
        return {{"resultType", protocol::kResultInputRequired},
                {"inputRequests", {{key, {{"method", question["method"]}, {"params", question.value("params", json::object())}}}}},
                {"requestState", state}};
    }
};

bool UpstreamSession::relay_to_legacy(const json& request, const MessageSink& on_message) {
    const json params = request.value("params", json::object());
    if (request.value("method", std::string()) == "subscriptions/listen") return listen_for_host(request, on_message);
    if (params.is_object() && params.contains("requestState")) return resume(request, on_message);
    auto call = std::make_shared<HeldCall>();
    call->method = request.value("method", std::string());
    call->name = params.is_object() ? params.value("name", json()) : json();
    call->first_id = request["id"];
    call->host_id = request["id"];
    call->to_host = on_message;
    const auto current_sink = [&call] {
        std::lock_guard<std::mutex> lock(call->mutex);
        return call->to_host;
    };
    json answer;
    try {
        answer = core_.request(envelope_removed(request), [&](const json& message) {
            if (message.contains("method") && message.contains("id")) return put_to_host(call, message);
            if (auto sink = current_sink()) sink(message);
        });
    } catch (const std::exception& e) {
        // Before the first round the caller answers the request it made; after, the request the
        // call answers is a retry, which only this thread can still answer.
        if (call->rounds == 0) throw;
        const auto failure = dynamic_cast<const UpstreamError*>(&e);
        const json error = failure ? failure->rpc_error() : json{{"code", kInternalError}, {"message", e.what()}};
        if (failure) log_event(spdlog::level::warn, "request_failed", failure->log_fields());
        answer = {{"jsonrpc", "2.0"}, {"error", error}};
    }
    json id;
    MessageSink sink;
    uint64_t turn = 0;
    {
        std::lock_guard<std::mutex> lock(call->mutex);
        id = std::exchange(call->host_id, nullptr);
        sink = std::exchange(call->to_host, nullptr);
        turn = call->host_turn;
    }
    if (!sink) {
        if (call->rounds > 0)
            log_event(spdlog::level::info, "call_result_dropped",
                      {{"server", name_}, {"method", call->method}, {"reason", "the host did not come back for it"}});
    } else if (answer.is_null() && call->rounds == 0) {
        return false;  // the caller says so, with the request's id
    } else {
        if (answer.is_null()) answer = rpc_error(nullptr, kInternalError, name_ + ": the server ended its event streams without answering");
        answer["id"] = id;
        as_modern_result(answer, call->method);
        sink(answer);
    }
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        retried_ids_.erase(id.dump());
    }
    {
        std::lock_guard<std::mutex> lock(call->mutex);
        call->answered_turn = std::max(call->answered_turn, turn);
    }
    call->wake.notify_all();
    return true;
}

void UpstreamSession::put_to_host(const std::shared_ptr<HeldCall>& call, const json& question) {
    const std::string method = question["method"].is_string() ? question["method"].get<std::string>() : std::string();
    if (method == "ping") return refuse_server_request(question, "");
    if (!askable(method)) return refuse_server_request(question, "the bridge puts only elicitation, sampling and roots requests to a 2026-07-28 host");
    const std::string state = oauth::random_token(24);
    std::string refused;  // answered outside the lock: it is a request to the server
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        if (host_gone_) refused = "the host is gone";
        else if (held_.size() >= kMaxHeldCalls) refused = std::to_string(kMaxHeldCalls) + " calls wait for the host's input already";
        else held_[state] = call;
    }
    if (!refused.empty()) return refuse_server_request(question, refused);
    json id, round;
    MessageSink sink;
    uint64_t turn = 0;
    {
        std::lock_guard<std::mutex> lock(call->mutex);
        call->key = "input-" + std::to_string(++call->rounds);
        call->question = question;
        call->answered = false;
        call->answer = nullptr;
        round = call->input_required(state);
        id = std::exchange(call->host_id, nullptr);
        sink = std::exchange(call->to_host, nullptr);
        turn = call->host_turn;
    }
    if (!sink) {  // the host stopped answering this call a round ago
        {
            std::lock_guard<std::mutex> lock(held_mutex_);
            held_.erase(state);
        }
        return refuse_server_request(question, "the host did not come back for this call's previous question");
    }
    log_event(spdlog::level::debug, "input_requested", {{"server", name_}, {"method", method}, {"round", call->rounds}});
    sink(rpc_result(id, round));
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        retried_ids_.erase(id.dump());
    }
    {
        std::lock_guard<std::mutex> lock(call->mutex);
        call->answered_turn = std::max(call->answered_turn, turn);
    }
    call->wake.notify_all();

    // Parked: the server waits for this answer on the same stream anyway.
    {
        std::unique_lock<std::mutex> lock(call->mutex);
        call->wake.wait_for(lock, kHostRetryWait, [&call] { return call->answered || call->abandoned; });
    }
    bool answered = false, abandoned = false;
    json reply;
    {
        // The retry marks the call answered under held_mutex_ while it takes the state: once
        // the state is gone from here, no retry can come for this round.
        std::lock_guard<std::mutex> held_lock(held_mutex_);
        held_.erase(state);
        std::lock_guard<std::mutex> lock(call->mutex);
        answered = call->answered;
        abandoned = call->abandoned;
        reply = call->answer;
    }
    json to_server = {{"jsonrpc", "2.0"}, {"id", question["id"]}};
    if (answered) {
        to_server["result"] = reply;
    } else {
        const std::string reason = abandoned ? "the host is gone" : "the host did not answer within 10 minutes";
        to_server["error"] = {{"code", kInternalError}, {"message", reason}};
        log_event(spdlog::level::warn, "input_not_answered", {{"server", name_}, {"method", method}, {"reason", reason}});
    }
    try {
        core_.post(to_server, Lane::answer);
    } catch (const UpstreamError& e) {
        log_event(spdlog::level::warn, "message_not_delivered", {{"server", name_}, {"method", "(response)"}, {"reason", e.what()}});
    }
}

bool UpstreamSession::resume(const json& request, const MessageSink& on_message) {
    const json& id = request["id"];
    const json& params = request["params"];
    const auto refuse = [&](const std::string& message) {
        if (on_message) on_message(rpc_error(id, kInvalidParams, message));
        return true;
    };
    if (!params["requestState"].is_string()) return refuse("params.requestState must be the string the bridge sent");
    if (params.contains("inputResponses") && !params["inputResponses"].is_object())
        return refuse("params.inputResponses must be an object (input key -> the host's answer)");
    const std::string state = params["requestState"].get<std::string>();
    const json responses = params.value("inputResponses", json::object());
    std::shared_ptr<HeldCall> call;
    json asked_again;
    uint64_t turn = 0;
    {
        std::lock_guard<std::mutex> held_lock(held_mutex_);
        auto it = held_.find(state);
        if (it == held_.end())
            return refuse("requestState is not one the bridge gave for " + name_ + ", or its round is over (answered, or expired)");
        call = it->second;
        std::lock_guard<std::mutex> lock(call->mutex);
        if (request.value("method", std::string()) != call->method || params.value("name", json()) != call->name)
            return refuse("requestState belongs to a " + call->method + (call->name.is_string() ? " of " + call->name.get<std::string>() : "") +
                          " call");
        for (auto answer = responses.begin(); answer != responses.end(); ++answer)
            if (answer.key() != call->key) return refuse("inputResponses['" + answer.key() + "'] answers a question the bridge never asked");
        if (!responses.contains(call->key)) {
            asked_again = call->input_required(state);  // as a server does: the question stands
        } else {
            held_.erase(it);
            call->answered = true;
            call->answer = responses[call->key];
            call->host_id = id;
            call->to_host = on_message;
            turn = ++call->host_turn;
            retried_ids_[id.dump()] = call->first_id;
        }
    }
    if (!asked_again.is_null()) {
        if (on_message) on_message(rpc_result(id, asked_again));
        return true;
    }
    call->wake.notify_all();
    // The owner answers this request (another round, or the result); the worker is held until
    // then, as for any request.
    std::unique_lock<std::mutex> lock(call->mutex);
    call->wake.wait(lock, [&call, turn] { return call->answered_turn >= turn; });
    return true;
}

json UpstreamSession::upstream_id_of(const json& host_id) {
    std::lock_guard<std::mutex> lock(held_mutex_);
    auto it = retried_ids_.find(host_id.dump());
    return it == retried_ids_.end() ? host_id : it->second;
}

void UpstreamSession::forget_host() {
    std::vector<std::shared_ptr<HeldCall>> parked;
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        host_gone_ = true;
        for (auto& entry : held_) {
            std::lock_guard<std::mutex> call_lock(entry.second->mutex);
            entry.second->abandoned = true;
            parked.push_back(entry.second);
        }
        held_.clear();
    }
    for (const auto& call : parked) call->wake.notify_all();
}

void UpstreamSession::relay_notification(const json& message) {
    json out = envelope_removed(message);
    if (out.value("method", std::string()) == "notifications/cancelled" && out.contains("params") && out["params"].is_object() &&
        out["params"].contains("requestId")) {
        json& cancelled = out["params"]["requestId"];
        if (core_.state().era == Era::legacy && end_listener(cancelled)) return;
        cancelled = upstream_id_of(cancelled);
    }
    core_.post(out);
}

// ---------------------------------------------------------------------------------------------
// subscriptions/listen for a 2025 server

bool UpstreamSession::listen_for_host(const json& request, const MessageSink& on_message) {
    const json& id = request["id"];
    const json params = request.value("params", json::object());
    if (!params.is_object() || !params.contains("notifications") || !params["notifications"].is_object()) {
        if (on_message) on_message(rpc_error(id, kInvalidParams, "params.notifications must be an object (the notifications to listen for)"));
        return true;
    }
    const json& wanted = params["notifications"];
    const json described = core_.description();
    const json capabilities = described.is_object() ? described.value("capabilities", json::object()) : json::object();
    // The acknowledgement names what the server can send of what was asked, as a 2026 server's does.
    json honored = json::object();
    for (const auto& change : kListChanges)
        if (wanted.value(change.flag, false) == true && server_offers(capabilities, change.capability, "listChanged")) honored[change.flag] = true;
    if (wanted.contains("resourceSubscriptions") && wanted["resourceSubscriptions"].is_array() && server_offers(capabilities, "resources", "subscribe")) {
        json subscribed = json::array();
        for (const auto& uri : wanted["resourceSubscriptions"]) {
            if (!uri.is_string() || subscribed.size() >= kMaxResourceSubscriptions) continue;
            const json answer = core_.request(
                {{"jsonrpc", "2.0"}, {"id", fresh_id()}, {"method", "resources/subscribe"}, {"params", {{"uri", uri}}}}, nullptr);
            if (answer.contains("result")) {
                subscribed.push_back(uri);
            } else {
                log_event(spdlog::level::warn, "subscription_refused",
                          {{"server", name_}, {"uri", uri}, {"reason", answer.is_null() ? std::string("no answer") : answer["error"].dump()}});
            }
        }
        honored["resourceSubscriptions"] = subscribed;
    }
    {
        std::lock_guard<std::mutex> lock(listeners_mutex_);
        listeners_.push_back({id, honored, on_message});
        // A notification sent before the stream is open would be lost: wait a moment for it.
        core_.start_listening([this](const json& message) { dispatch_standalone(message); }, std::chrono::seconds(5));
    }
    if (on_message) on_message(listen_acknowledgement(id, honored));
    // The listen request stays open: it ends when the host cancels it (no answer then).
    return true;
}

void UpstreamSession::dispatch_standalone(const json& message) {
    if (!message.contains("method") || !message["method"].is_string()) return;
    // Outside any call, nothing can carry a question to a 2026 host.
    if (message.contains("id")) return refuse_server_request(message, "no call of the host is in progress to carry it");
    std::vector<std::pair<json, MessageSink>> recipients;
    {
        std::lock_guard<std::mutex> lock(listeners_mutex_);
        for (const auto& listener : listeners_)
            if (listener.to_host && listener_wants(listener.filter, message)) recipients.emplace_back(listener.id, listener.to_host);
    }
    for (const auto& [id, sink] : recipients) sink(tagged_for_listener(message, id));
}

bool UpstreamSession::end_listener(const json& id) {
    std::lock_guard<std::mutex> lock(listeners_mutex_);
    const auto it = std::find_if(listeners_.begin(), listeners_.end(), [&id](const HostListener& listener) { return listener.id == id; });
    if (it == listeners_.end()) return false;
    // The server keeps the session's resource subscriptions (a 2025 session has no way to say
    // which listener they were for); what no listener wants any more is dropped here.
    listeners_.erase(it);
    return true;
}

void UpstreamSession::refuse_server_request(const json& message, const std::string& reason) {
    const std::string method = message["method"].is_string() ? message["method"].get<std::string>() : std::string("(no method)");
    json answer = {{"jsonrpc", "2.0"}, {"id", message["id"]}};
    if (method == "ping") {
        answer["result"] = json::object();
    } else {
        answer["error"] = {{"code", -32601},  // Method not found: not one this client takes
                           {"message", "the host speaks MCP " + std::string(protocol::kModernVersion) + " and the bridge cannot ask it " +
                                           method + ": " + reason}};
        log_event(spdlog::level::warn, "server_request_refused", {{"server", name_}, {"method", method}, {"reason", reason}});
    }
    try {
        core_.post(answer, Lane::answer);
    } catch (const UpstreamError& e) {
        log_event(spdlog::level::warn, "message_not_delivered", {{"server", name_}, {"method", "(response)"}, {"reason", e.what()}});
    }
}

}  // namespace mcpmtls::client
