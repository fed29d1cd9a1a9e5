// `client bridge SERVER`: the host's messages go to one server as they are, and whatever the
// server sends comes back as it is. The bridge never answers for the server, except with an
// error when the server cannot be reached.
#include "client/internal/bridge_routes.hpp"

#include "common/log.hpp"

namespace mcpmtls::client::bridge {
namespace {

class ForwardingRouter : public Router {
public:
    explicit ForwardingRouter(const Context& context)
        : host_(context.host),
          workers_(context.workers),
          upstream_(context.options.servers.front().name, context.options.servers.front().url, context.tls,
                    context.options.timeouts) {}

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

    void response(const json& message) override { post(message); }

    void stop(bool abort) override {
        if (abort) upstream_.abort();
        workers_.finish();
        upstream_.close();
    }

private:
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
};

}  // namespace

std::unique_ptr<Router> forwarding_router(const Context& context) { return std::make_unique<ForwardingRouter>(context); }

}  // namespace mcpmtls::client::bridge
