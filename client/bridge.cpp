// The bridge's main loop: signals, the host's lines read and checked, each message handed to the
// router of the mode; and the pieces both routers share (the host end, the worker threads).
#include "client/bridge.hpp"

#include "client/internal/bridge_routes.hpp"
#include "common/log.hpp"
#include "mcp/protocol.hpp"

#include <csignal>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace mcpmtls::client {
namespace bridge {

void HostChannel::failed(const json& id, const UpstreamError& failure) {
    const bool certificate = failure.code() == kExitVerification;
    log_event(certificate ? spdlog::level::err : spdlog::level::warn, "request_failed", failure.log_fields());
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", failure.rpc_error()}});
}

namespace {

// The protocol version in a request's 2026-07-28 _meta envelope; empty when it carries none.
std::string envelope_version(const json& message) {
    if (!message.contains("params")) return "";
    const json& params = message["params"];
    if (!params.is_object() || !params.contains("_meta") || !params["_meta"].is_object()) return "";
    const json& meta = params["_meta"];
    auto it = meta.find(mcp::protocol::kMetaProtocolVersion);
    if (it == meta.end()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::optional<bool> served_modern(HostEra known, const json& message, HostChannel& host) {
    if (known == HostEra::legacy) return false;
    const std::string version = envelope_version(message);
    if (!version.empty() && version != mcp::protocol::kModernVersion) {
        host.error(message["id"], mcp::protocol::kUnsupportedProtocolVersion,
                   "Unsupported protocol version: " + version + " (a host without initialize is served in " +
                       mcp::protocol::kModernVersion + "; a 2025 host starts with initialize)",
                   {{"supported", json::array({mcp::protocol::kModernVersion})}, {"requested", version}});
        return std::nullopt;
    }
    return known == HostEra::modern || !version.empty() || message["method"] == "server/discover";
}

json HostQuestions::ask(const std::string& method, const json& params) {
    std::unique_lock<std::mutex> lock(mutex_);
    const json id = "mcp-mtls-bridge-ask-" + std::to_string(++asked_);
    const std::string key = id.dump();
    if (!gone_) {
        pending_[key] = nullptr;
        lock.unlock();
        host_.send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
        lock.lock();
        wake_.wait_for(lock, wait_, [&] { return gone_ || !pending_[key].is_null(); });
    }
    json answer = pending_[key];
    pending_.erase(key);
    if (!answer.is_null()) return answer;
    const std::string why = gone_ ? "the host is gone" : "the host did not answer " + method + " in time";
    return {{"error", {{"code", kUpstreamErrorCode}, {"message", why}}}};
}

bool HostQuestions::take(const json& answer) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = pending_.find(answer.value("id", json()).dump());
        if (it == pending_.end() || !it->second.is_null()) return false;
        it->second = answer;
    }
    wake_.notify_all();
    return true;
}

void HostQuestions::forget() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        gone_ = true;
    }
    wake_.notify_all();
}

void Workers::submit(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
    if (jobs_.size() > idle_ && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
    wake_.notify_one();
}

void Workers::work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        ++idle_;
        wake_.wait(lock, [&] { return !jobs_.empty() || finishing_; });
        --idle_;
        if (jobs_.empty()) return;  // finishing, and nothing left
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();  // jobs report their own failures to the host
        lock.lock();
    }
}

void Workers::finish() {
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        finishing_ = true;
        threads.swap(threads_);
    }
    wake_.notify_all();
    for (auto& thread : threads) thread.join();
}

}  // namespace bridge

namespace {

using bridge::json;

// SIGTERM and SIGINT, blocked in this thread and every thread started after it, arrive on a
// descriptor the reader polls beside stdin: no handler runs in the middle of anything.
class SignalDescriptor {
public:
    SignalDescriptor() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set_, &previous_);
        fd_ = signalfd(-1, &set_, SFD_CLOEXEC);
        if (fd_ < 0) throw Error(kExitFailed, "cannot create a signalfd for SIGTERM/SIGINT");
    }
    ~SignalDescriptor() {
        ::close(fd_);
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    SignalDescriptor(const SignalDescriptor&) = delete;
    SignalDescriptor& operator=(const SignalDescriptor&) = delete;
    int fd() const { return fd_; }
    std::string which() const {
        signalfd_siginfo info{};
        if (::read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return "a signal";
        return info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    }

private:
    sigset_t set_{};
    sigset_t previous_{};
    int fd_ = -1;
};

// Hands one checked message to the router; anything that is not JSON-RPC 2.0 gets the error
// JSON-RPC prescribes (with the message's id when it has a usable one).
void dispatch(const json& message, bridge::Router& router, bridge::HostChannel& host) {
    if (!message.is_object())
        return host.error(nullptr, bridge::kInvalidRequest,
                          message.is_array() ? "JSON-RPC batches are not accepted on stdio: send one message per line"
                                             : "not a JSON-RPC message: expected an object");
    const json id = message.contains("id") && (message["id"].is_string() || message["id"].is_number_integer()) ? message["id"] : json();
    if (message.value("jsonrpc", json()) != "2.0")
        return host.error(id, bridge::kInvalidRequest, "not a JSON-RPC 2.0 message: \"jsonrpc\" must be \"2.0\"");
    if (message.contains("method")) {
        if (!message["method"].is_string()) return host.error(id, bridge::kInvalidRequest, "\"method\" must be a string");
        if (message.contains("params") && !message["params"].is_object() && !message["params"].is_array())
            return host.error(id, bridge::kInvalidRequest, "\"params\" must be an object");
        if (!message.contains("id")) return router.notification(message);
        if (id.is_null()) return host.error(nullptr, bridge::kInvalidRequest, "a request id must be a string or an integer");
        return router.request(message);
    }
    if (!id.is_null() && (message.contains("result") != message.contains("error"))) return router.response(message);
    host.error(id, bridge::kInvalidRequest, "not a JSON-RPC request, notification or response");
}

}  // namespace

int run_bridge(const BridgeOptions& given, int in_fd, int out_fd) {
    BridgeOptions options = given;
    if (options.servers.empty()) throw InputError("bridge: no server to forward to");
    if (!options.aggregate && options.servers.size() != 1)
        throw InputError("bridge takes one SERVER, or --all for every configured server");
    if (options.max_message_bytes == 0) options.max_message_bytes = mcp::protocol::kDefaultMaxBodyBytes;
    bool any_https = false;
    for (const auto& server : options.servers) any_https = any_https || server.url.scheme == "https";

    SignalDescriptor signals;  // before any thread starts
    std::shared_ptr<ReloadingTlsContext> tls;
    if (any_https) tls = std::make_shared<ReloadingTlsContext>(options.tls);
    bridge::HostChannel host(out_fd);
    bridge::Workers workers;
    const bridge::Context context{options, tls, host, workers};
    std::unique_ptr<bridge::Router> router = options.aggregate ? bridge::aggregating_router(context) : bridge::forwarding_router(context);
    std::string names;
    for (const auto& server : options.servers) names += (names.empty() ? "" : ",") + server.name;
    log_event(spdlog::level::info, "bridge_started", {{"servers", names}, {"mode", options.aggregate ? "all" : "forward"}});

    LineReader reader(in_fd, options.max_message_bytes, signals.fd());
    for (;;) {
        LineReader::Line line = reader.next();
        if (line.kind == LineReader::Line::Kind::end_of_input) {
            log_event(spdlog::level::info, "bridge_stopping", {{"reason", "end of input"}});
            router->stop(false);
            break;
        }
        if (line.kind == LineReader::Line::Kind::woken) {
            log_event(spdlog::level::info, "bridge_stopping", {{"reason", signals.which()}});
            router->stop(true);
            break;
        }
        if (line.kind == LineReader::Line::Kind::oversized) {
            log_event(spdlog::level::warn, "message_refused", {{"reason", "larger than the limit"}, {"limit_bytes", options.max_message_bytes}});
            host.error(nullptr, bridge::kParseError,
                       "message larger than " + std::to_string(options.max_message_bytes) + " bytes: refused unread");
            continue;
        }
        std::string problem;
        const json message = parse_message(line.text, problem);
        if (message.is_discarded()) {
            log_event(spdlog::level::warn, "message_refused", {{"reason", problem}});
            host.error(nullptr, bridge::kParseError, "parse error: " + problem);
            continue;
        }
        dispatch(message, *router, host);
        if (host.gone()) {
            log_event(spdlog::level::info, "bridge_stopping", {{"reason", "the host closed stdout"}});
            router->stop(true);
            break;
        }
    }
    return kExitOk;
}

}  // namespace mcpmtls::client
