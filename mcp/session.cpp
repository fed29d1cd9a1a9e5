#include "mcp/session.hpp"

#include "mcp/call_context.hpp"

namespace mcpmtls::mcp {

using nlohmann::json;

namespace {
// Answered streams kept for a client that reconnects late; active ones are always kept.
constexpr size_t kFinishedStreamsKept = 16;
}  // namespace

Session::Session(std::string client_fingerprint, std::string protocol_version, json client_capabilities, size_t replay_events)
    : client_fingerprint_(std::move(client_fingerprint)),
      protocol_version_(std::move(protocol_version)),
      client_capabilities_(client_capabilities.is_object() ? std::move(client_capabilities) : json::object()),
      replay_events_(replay_events),
      standalone_(std::make_shared<EventStream>(kStandaloneStream, replay_events)) {}

bool Session::client_supports(const std::string& capability) const {
    return client_capabilities_.contains(capability) && client_capabilities_[capability].is_object();
}

std::shared_ptr<EventStream> Session::open_stream() {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t number = next_stream_++;
    auto stream = std::make_shared<EventStream>(std::to_string(number), replay_events_);
    if (closed_) stream->finish();
    streams_.emplace(number, stream);
    size_t finished = 0;
    for (auto it = streams_.rbegin(); it != streams_.rend(); ++it) finished += it->second->finished();
    for (auto it = streams_.begin(); it != streams_.end() && finished > kFinishedStreamsKept;) {
        if (it->second->finished()) {
            it = streams_.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
    return stream;
}

std::shared_ptr<EventStream> Session::find_stream(const std::string& id) const {
    if (id == kStandaloneStream) return standalone_;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [number, stream] : streams_)
        if (stream->id() == id) return stream;
    return nullptr;
}

std::shared_ptr<Session::RunningCall> Session::begin_call(const json& request_id) {
    auto call = std::make_shared<RunningCall>();
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) call->cancelled = true;
    if (!running_.emplace(request_id.dump(), call).second) return nullptr;
    return call;
}

void Session::end_call(const json& request_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(request_id.dump());
}

bool Session::cancel_call(const json& request_id) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = running_.find(request_id.dump());
        if (it == running_.end()) return false;
        it->second->cancelled = true;
    }
    changed_.notify_all();
    return true;
}

bool Session::wait_unless_cancelled(const RunningCall& call, std::chrono::milliseconds duration) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !changed_.wait_for(lock, duration, [&] { return call.cancelled.load() || closed_; });
}

json Session::ask_client(EventStream& via, const std::string& method, const json& params, std::chrono::milliseconds timeout,
                         const RunningCall* call) {
    int64_t id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_) throw ClientRequestError(method + ": the session is closed");
        id = next_request_id_++;
        answers_.emplace(id, json());
    }
    if (!via.push(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump(-1, ' ', false, json::error_handler_t::replace))) {
        std::lock_guard<std::mutex> lock(mutex_);
        answers_.erase(id);
        throw ClientRequestError(method + ": the request's event stream has ended");
    }
    std::unique_lock<std::mutex> lock(mutex_);
    const bool answered = changed_.wait_for(lock, timeout, [&] {
        return !answers_[id].is_null() || closed_ || (call && call->cancelled.load());
    }) && !answers_[id].is_null();
    json answer = std::move(answers_[id]);
    answers_.erase(id);
    if (!answered) {
        const std::string reason = closed_ ? "the session was closed"
                                   : (call && call->cancelled.load())
                                       ? "the call was cancelled"
                                       : "no answer within " + std::to_string(timeout.count() / 1000) + " s";
        const bool tell_client = !closed_;
        lock.unlock();
        if (tell_client)
            via.push(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", id}, {"reason", reason}}}}.dump());
        throw ClientRequestError(method + ": " + reason);
    }
    if (answer.contains("error")) {
        const json& error = answer["error"];
        const std::string message = error.is_object() && error.contains("message") && error["message"].is_string()
                                        ? error["message"].get<std::string>()
                                        : "an error";
        throw ClientRequestError(method + ": the client answered with an error: " + message);
    }
    if (!answer.contains("result") || !answer["result"].is_object())
        throw ClientRequestError(method + ": the client's answer has no result object");
    return answer["result"];
}

bool Session::deliver_answer(const json& message) {
    if (!message.contains("id") || !message["id"].is_number_integer()) return false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = answers_.find(message["id"].get<int64_t>());
        if (it == answers_.end() || !it->second.is_null()) return false;
        it->second = message;
    }
    changed_.notify_all();
    return true;
}

bool Session::subscribe(const std::string& uri) {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscriptions_.insert(uri).second;
}

size_t Session::subscription_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscriptions_.size();
}

bool Session::unsubscribe(const std::string& uri) {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscriptions_.erase(uri) > 0;
}

bool Session::subscribed(const std::string& uri) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscriptions_.count(uri) > 0;
}

void Session::close() {
    std::map<uint64_t, std::shared_ptr<EventStream>> streams;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_) return;
        closed_ = true;
        for (auto& [id, call] : running_) call->cancelled = true;
        streams = streams_;
    }
    changed_.notify_all();
    standalone_->finish();
    for (auto& [number, stream] : streams) stream->finish();
}

bool Session::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
}

}  // namespace mcpmtls::mcp
