// `client bridge SERVER`: the host's messages go to one server as they are, and whatever the
// server sends comes back as it is. The bridge never answers for the server, except with an
// error when the server cannot be reached, and when it translates for a 2026-07-28 server: then
// the server's input-required results become the bridge's own requests to the host, whose
// answers are taken here instead of being forwarded.
#include "client/internal/bridge_routes.hpp"

#include "common/log.hpp"

#include <chrono>
#include <future>
#include <map>

namespace mcpmtls::client::bridge {
namespace {

class ForwardingRouter : public Router {
public:
    explicit ForwardingRouter(const Context& context)
        : host_(context.host),
          workers_(context.workers),
          upstream_(context.options.servers.front().name, context.options.servers.front().url, context.tls,
                    context.options.timeouts),
          answer_wait_(std::chrono::minutes(10)) {
        upstream_.set_host_asker([this](const std::string& method, const json& params) { return ask_host(method, params); });
    }

    void request(const json& message) override {
        const json id = message["id"];
        if (message["method"] == "initialize") {
            // On the reader's thread: nothing else can be forwarded before the session exists.
            try {
                upstream_.initialize(message, to_host());
            } catch (const UpstreamError& e) {
                host_.failed(id, e);
            }
            return;
        }
        workers_.submit([this, message, id] {
            try {
                if (!upstream_.request(message, to_host()))
                    host_.error(id, kUpstreamErrorCode, upstream_.name() + ": the server ended its event streams without answering");
            } catch (const UpstreamError& e) {
                host_.failed(id, e);
            }
        });
    }

    // Notifications and answers are quick (202) and keep their order with later requests.
    void notification(const json& message) override {
        post(message);
        if (message["method"] == "notifications/initialized") upstream_.start_listening(to_host());
    }

    void response(const json& message) override {
        {
            std::lock_guard<std::mutex> lock(asked_mutex_);
            auto it = asked_.find(message.value("id", json()).dump());
            if (it != asked_.end()) {  // the answer to one of the bridge's own requests
                it->second.set_value(message);
                asked_.erase(it);
                return;
            }
        }
        post(message);
    }

    void stop(bool abort) override {
        if (abort) upstream_.abort();
        workers_.finish();
        upstream_.close();
    }

private:
    // A request of the bridge's own to the host (for a 2026 server's input-required result);
    // waits for the host's answer, which response() takes.
    json ask_host(const std::string& method, const json& params) {
        const json id = "mcp-mtls-bridge-ask-" + std::to_string(++asked_count_);
        std::future<json> answer;
        {
            std::lock_guard<std::mutex> lock(asked_mutex_);
            answer = asked_[id.dump()].get_future();
        }
        host_.send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
        if (answer.wait_for(answer_wait_) != std::future_status::ready) {
            std::lock_guard<std::mutex> lock(asked_mutex_);
            asked_.erase(id.dump());
            return {{"error", {{"code", kUpstreamErrorCode}, {"message", "the host did not answer " + method + " in time"}}}};
        }
        return answer.get();
    }

    MessageSink to_host() {
        return [this](const json& message) { host_.send(message); };
    }

    void post(const json& message) {
        try {
            upstream_.post(message);
        } catch (const UpstreamError& e) {
            log_event(spdlog::level::warn, "message_not_delivered",
                      {{"server", e.server()}, {"method", message.value("method", "(response)")}, {"reason", e.what()}});
        }
    }

    HostChannel& host_;
    Workers& workers_;
    UpstreamSession upstream_;
    const std::chrono::milliseconds answer_wait_;
    std::mutex asked_mutex_;
    std::map<std::string, std::promise<json>> asked_;  // by the id's JSON text
    std::atomic<uint64_t> asked_count_{0};
};

}  // namespace

std::unique_ptr<Router> forwarding_router(const Context& context) { return std::make_unique<ForwardingRouter>(context); }

}  // namespace mcpmtls::client::bridge
