// `client bridge SERVER`: the host's messages go to one server as they are, and whatever the
// server sends comes back as it is. The bridge never answers for the server, except with an
// error when the server cannot be reached, and when it translates for a 2026-07-28 server: then
// the server's input-required results become the bridge's own requests to the host, whose
// answers are taken here instead of being forwarded. A host that speaks 2026-07-28 itself has no
// initialize: the bridge answers its server/discover from what the server described, and relays
// its requests (see client/upstream_session.hpp and client/modern_host.cpp for what that takes
// with a 2025-only server).
#include "client/internal/bridge_routes.hpp"

#include "common/log.hpp"
#include "mcp/protocol.hpp"

#include <chrono>

namespace mcpmtls::client::bridge {
namespace {

class ForwardingRouter : public Router {
public:
    explicit ForwardingRouter(const Context& context)
        : host_(context.host),
          workers_(context.workers),
          questions_(context.host),
          upstream_(context.options.servers.front().name, context.options.servers.front().url, context.tls,
                    context.options.timeouts) {
        upstream_.set_host_asker([this](const std::string& method, const json& params) { return questions_.ask(method, params); });
    }

    void request(const json& message) override {
        const json id = message["id"];
        const std::string method = message["method"].get<std::string>();
        if (method == "initialize") {
            host_era_ = HostEra::legacy;
            // On the reader's thread: nothing else can be forwarded before the session exists.
            try {
                upstream_.initialize(message, to_host());
            } catch (const UpstreamError& e) {
                host_.failed(id, e);
            }
            return;
        }
        const std::optional<bool> modern = served_modern(host_era_, message, host_);
        if (!modern) return;  // refused
        if (*modern) return modern_request(message);
        forward(message, false);
    }

    // Notifications and answers are quick (202) and keep their order with later requests.
    void notification(const json& message) override {
        post(message);
        if (message["method"] == "notifications/initialized") upstream_.start_listening(to_host());
    }

    void response(const json& message) override {
        if (!questions_.take(message)) post(message);
    }

    void stop(bool abort) override {
        if (abort) upstream_.abort();
        // No answer and no retry comes any more for a call waiting on the host.
        questions_.forget();
        upstream_.forget_host();
        workers_.finish();
        upstream_.close();
    }

private:
    // A request of a 2026-07-28 host: the server's session is opened on the reader's thread
    // (as initialize is), server/discover answered here, anything else relayed.
    void modern_request(const json& message) {
        host_era_ = HostEra::modern;
        try {
            upstream_.open_for_modern_host(message);
        } catch (const UpstreamError& e) {
            return host_.failed(message["id"], e);
        }
        if (message["method"] == "server/discover") return host_.answer(message["id"], upstream_.modern_discover_result());
        forward(message, true);
    }

    void forward(const json& message, bool modern) {
        workers_.submit([this, message, modern] {
            const json& id = message["id"];
            try {
                if (!(modern ? upstream_.relay(message, to_host()) : upstream_.request(message, to_host())))
                    host_.error(id, kUpstreamErrorCode, upstream_.name() + ": the server ended its event streams without answering");
            } catch (const UpstreamError& e) {
                host_.failed(id, e);
            }
        });
    }

    MessageSink to_host() {
        return [this](const json& message) { host_.send(message); };
    }

    void post(const json& message) {
        try {
            if (host_era_ == HostEra::modern) upstream_.relay_notification(message);
            else upstream_.post(message);
        } catch (const UpstreamError& e) {
            log_event(spdlog::level::warn, "message_not_delivered",
                      {{"server", e.server()}, {"method", message.value("method", "(response)")}, {"reason", e.what()}});
        }
    }

    HostChannel& host_;
    Workers& workers_;
    HostQuestions questions_;  // before the session whose calls ask through it
    UpstreamSession upstream_;
    HostEra host_era_ = HostEra::unknown;  // the reader's thread only
};

}  // namespace

std::unique_ptr<Router> forwarding_router(const Context& context) { return std::make_unique<ForwardingRouter>(context); }

}  // namespace mcpmtls::client::bridge
