// tools/call: argument validation, authorization and the audit line; the channel through which
// a running tool reports progress, logs, asks the client and sees cancellation; and the calls
// answered on a live event stream, each run on a thread of its own.
#include "mcp/streamable_http.hpp"

#include "common/log.hpp"
#include "mcp/internal/jsonrpc.hpp"
#include "mcp/json_schema.hpp"

namespace mcpmtls::mcp {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// _meta.progressToken of a request (a string or an integer), or null.
json progress_token(const json& params) {
    if (!params.contains("_meta") || !params["_meta"].is_object()) return nullptr;
    const json& meta = params["_meta"];
    if (!meta.contains("progressToken")) return nullptr;
    const json& token = meta["progressToken"];
    return token.is_string() || token.is_number_integer() ? token : json();
}

// The client capability a server-to-client request needs.
std::string capability_for(const std::string& method) {
    if (method == "elicitation/create") return "elicitation";
    if (method == "sampling/createMessage") return "sampling";
    if (method == "roots/list") return "roots";
    return "";
}


// notifications/progress for `token`, or null when nothing is to be sent: no token (the client
// did not ask) or progress that did not grow (the specification wants it increasing).
json progress_notification(const json& token, std::optional<double>& last, double progress, std::optional<double> total,
                           const std::string& message) {
    if (token.is_null() || (last && progress <= *last)) return nullptr;
    last = progress;
    json params = {{"progressToken", token}, {"progress", progress}};
    if (total) params["total"] = *total;
    if (!message.empty()) params["message"] = message;
    return internal::notification("notifications/progress", std::move(params));
}

json log_notification(LogLevel level, const json& data, const std::string& logger) {
    json params = {{"level", log_level_name(level)}, {"data", data}};
    if (!logger.empty()) params["logger"] = logger;
    return internal::notification("notifications/message", std::move(params));
}

}  // namespace

CallThreads::~CallThreads() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : entries_) entry.thread.join();
}

void CallThreads::start(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mutex_);
    join_finished_locked();
    auto done = std::make_shared<std::atomic<bool>>(false);
    entries_.push_back({std::thread([work = std::move(work), done] {
                            work();
                            done->store(true);
                        }),
                        done});
}

size_t CallThreads::running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t count = 0;
    for (const auto& entry : entries_) count += !entry.done->load();
    return count;
}

void CallThreads::join_finished_locked() {
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
}

class StreamableHttpServer::ToolCallChannel final : public CallChannel {
public:
    ToolCallChannel(StreamableHttpServer& server, const Call& call)
        : server_(server), session_(call.session), outbox_(call.outbox), running_(call.running), token_(progress_token(call.params)) {}

    bool cancelled() const override { return running_ && running_->cancelled.load(); }

    bool wait(std::chrono::milliseconds duration) override {
        if (!running_) {
            std::this_thread::sleep_for(duration);
            return true;
        }
        return session_->wait_unless_cancelled(*running_, duration);
    }

    void progress(double progress, std::optional<double> total, const std::string& message) override {
        json sent = progress_notification(token_, last_progress_, progress, total, message);
        if (!sent.is_null()) outbox_.send(sent);
    }

    void log(LogLevel level, const json& data, const std::string& logger) override {
        if (static_cast<int>(level) < session_->log_level.load()) return;
        outbox_.send(log_notification(level, data, logger));
    }

    json ask_client(const std::string& method, const json& params, std::chrono::milliseconds timeout) override {
        const std::string capability = capability_for(method);
        if (!capability.empty() && !session_->client_supports(capability))
            throw ClientRequestError(method + ": the client did not declare the '" + capability + "' capability");
        if (!outbox_.live)
            throw ClientRequestError(method + ": no event stream to ask the client on (the client must accept "
                                              "text/event-stream and the tool must be declared as streaming)");
        return session_->ask_client(*outbox_.live, method, params, timeout, running_.get());
    }

    void close_stream() override {
        if (outbox_.live) outbox_.live->end_responses();
    }

    void resource_updated(const std::string& uri) override { server_.resource_updated(uri); }

    bool client_supports(const std::string& capability) const override { return session_->client_supports(capability); }

private:
    StreamableHttpServer& server_;
    std::shared_ptr<Session> session_;
    Outbox& outbox_;
    std::shared_ptr<Session::RunningCall> running_;
    const json token_;
    std::optional<double> last_progress_;
};

// A stateless (2026-07-28) call's channel: messages go to the request's own stream (or ahead of
// its answer); a question is answered from what the client sent with this round, or it ends the
// round (InputRequired) so that the client asks its user and calls again.
class StreamableHttpServer::StatelessChannel final : public CallChannel {
public:
    StatelessChannel(StreamableHttpServer& server, const Call& call) : server_(server), outbox_(call.outbox), round_(*call.modern) {}

    bool cancelled() const override { return false; }
    bool wait(std::chrono::milliseconds duration) override {
        std::this_thread::sleep_for(duration);
        return true;
    }

    void progress(double progress, std::optional<double> total, const std::string& message) override {
        json sent = progress_notification(round_.envelope.progress_token, last_progress_, progress, total, message);
        if (!sent.is_null()) outbox_.send(sent);
    }

    // Only when the request asked for log messages (_meta logLevel), at or above its level.
    void log(LogLevel level, const json& data, const std::string& logger) override {
        if (!round_.envelope.log_level || level < *round_.envelope.log_level) return;
        outbox_.send(log_notification(level, data, logger));
    }

    json ask_client(const std::string& method, const json& params, std::chrono::milliseconds timeout) override {
        return ask_all({{"", method, params}}, timeout).at(0);
    }

    std::vector<json> ask_all(const std::vector<InputRequest>& requests, std::chrono::milliseconds) override {
        std::vector<json> answers;
        json missing = json::object();
        for (const auto& request : requests) {
            const std::string key = request.key.empty() ? "input-" + std::to_string(round_.next_key++) : request.key;
            const std::string capability = capability_for(request.method);
            if (!capability.empty() && !round_.envelope.supports(capability)) throw MissingClientCapability(capability);
            if (!round_.answers.contains(key)) {
                missing[key] = {{"method", request.method}, {"params", request.params}};
                answers.push_back(nullptr);
                continue;
            }
            const json& answer = round_.answers[key];
            if (auto problem = malformed(request.method, answer))
                throw InvalidParams("inputResponses['" + key + "'] is not an answer to " + request.method + ": " + *problem);
            round_.used[key] = answer;
            answers.push_back(answer);
        }
        if (!missing.empty()) throw InputRequired(std::move(missing));
        return answers;
    }

    bool client_supports(const std::string& capability) const override { return round_.envelope.supports(capability); }
    void close_stream() override {
        if (outbox_.live) outbox_.live->end_responses();
    }
    void resource_updated(const std::string& uri) override { server_.resource_updated(uri); }

private:
    // What is wrong with a client's answer to `method`, if anything.
    static std::optional<std::string> malformed(const std::string& method, const json& answer) {
        if (!answer.is_object()) return std::string("an object is needed");
        if (method == "elicitation/create") {
            const std::string action = answer.value("action", json()).is_string() ? answer["action"].get<std::string>() : "";
            if (action != "accept" && action != "decline" && action != "cancel") return std::string("action must be accept, decline or cancel");
            if (answer.contains("content") && !answer["content"].is_object()) return std::string("content must be an object");
        } else if (method == "sampling/createMessage") {
            if (!answer.contains("content") || !answer.contains("role")) return std::string("role and content are needed");
        } else if (method == "roots/list") {
            if (!answer.contains("roots") || !answer["roots"].is_array()) return std::string("roots must be an array");
        }
        return std::nullopt;
    }

    StreamableHttpServer& server_;
    Outbox& outbox_;
    ModernRound& round_;
    std::optional<double> last_progress_;
};

std::unique_ptr<CallChannel> StreamableHttpServer::channel_for(const Call& call) {
    if (call.modern) return std::make_unique<StatelessChannel>(*this, call);
    return std::make_unique<ToolCallChannel>(*this, call);
}

auto StreamableHttpServer::input_required(const json& requests) const -> Reply {
    return Reply::ok({{"resultType", "input_required"}, {"inputRequests", requests}});
}

auto StreamableHttpServer::call_tool(const Call& call) -> Reply {
    const auto started = Clock::now();
    const json& params = call.params;
    const tls::PeerIdentity& client = call.client;
    const std::string name = params.contains("name") && params["name"].is_string() ? params["name"].get<std::string>() : "";
    auto audit = [&](const std::string& outcome) {
        json fields = {{"client", client.display_name()},
                       {"client_fingerprint", client.fingerprint_sha256},
                       {"tool", name},
                       {"outcome", outcome},
                       {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()},
                       {"session", call.modern ? std::string("stateless") : call.session_id.substr(0, 8)}};
        // Both identities: the certificate's, and the user an OAuth token acts for.
        if (!client.token_subject.empty() || !client.token_client_id.empty()) {
            fields["token_subject"] = client.token_subject;
            fields["token_client_id"] = client.token_client_id;
        }
        log_event(outcome == "ok" ? spdlog::level::info : spdlog::level::warn, "tool_call", fields);
        if (options_.on_tool_call) options_.on_tool_call(name, outcome);
    };
    auto refuse = [&](int code, const std::string& message, const std::string& outcome, json data = nullptr) {
        audit(outcome);
        return Reply::error(code, message, std::move(data));
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

    auto channel_owner = channel_for(call);
    CallChannel& channel = *channel_owner;
    ToolResult result;
    try {
        result = tool->handler(arguments, ToolCallContext{client, &channel});
    } catch (const InvalidParams& e) {
        return refuse(kInvalidParams, e.what(), "invalid_params");
    } catch (const InputRequired& e) {
        audit("input_required");
        return input_required(e.requests);
    } catch (const MissingClientCapability& e) {
        return refuse(modern::kMissingClientCapability,
                      "tool '" + name + "' needs the client capability '" + e.capability + "', which the request did not declare",
                      "missing_capability", {{"requiredCapabilities", {{e.capability, json::object()}}}});
    } catch (const std::exception& e) {
        result = ToolResult::error(std::string("the tool failed: ") + e.what());
    }
    json out = {{"content", std::move(result.content)}, {"isError", result.is_error}};
    if (!result.structured.is_null() && !result.is_error) out["structuredContent"] = std::move(result.structured);
    audit(channel.cancelled() ? "cancelled" : result.is_error ? "tool_error" : "ok");
    return Reply::ok(std::move(out));
}

bool StreamableHttpServer::streams_call(const std::string& method, const json& params, const std::string&) const {
    if (method != "tools/call" || !params.contains("name") || !params["name"].is_string()) return false;
    const Tool* tool = tools_.find(params["name"].get<std::string>());
    return tool && (tool->streams || !progress_token(params).is_null());
}

HttpResponse StreamableHttpServer::stream_call(Method handler, const json& id, const json& params, const tls::PeerIdentity& client,
                                               const std::shared_ptr<Session>& session, const std::string& session_id) {
    if (streamed_calls_.fetch_add(1) >= options_.max_streamed_calls) {
        --streamed_calls_;
        return internal::json_response(200, internal::rpc_error(id, kInternalError, "too many streamed tool calls in progress; try again later"));
    }
    auto running = session->begin_call(id);
    if (!running) {
        --streamed_calls_;
        return internal::json_response(200, internal::rpc_error(id, kInvalidRequest, "a request with this id is already running"));
    }
    auto stream = session->open_stream();
    // Attached before the call starts, so that not even its first message can be missed.
    auto reader = reader_for(stream, 0, *session);
    call_threads_.start([this, handler, id, params, client, session, session_id, stream, running] {
        Outbox outbox;
        outbox.live = stream;
        Reply reply;
        try {
            reply = (this->*handler)(Call{params, client, session, session_id, id, outbox, running});
        } catch (const std::exception& e) {
            reply = Reply::error(kInternalError, e.what());
        }
        session->end_call(id);
        // A cancelled request gets no answer (the client has stopped waiting for one).
        if (!running->cancelled.load())
            stream->push(reply.error_code != 0 ? internal::dump(internal::rpc_error(id, reply.error_code, reply.error_message))
                                               : internal::result_message(id, reply.rendered_result.empty()
                                                                                  ? internal::dump(reply.result)
                                                                                  : reply.rendered_result));
        stream->finish();
        --streamed_calls_;
    });
    return event_stream_response(std::move(reader));
}

}  // namespace mcpmtls::mcp
