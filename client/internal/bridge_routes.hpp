#pragma once
// The bridge's inside, shared by its two routes: the host end (answers and errors written as
// one line each), the worker threads requests run on, and the Router each mode implements
// (forwarding to one server, or aggregating every server's tools). run_bridge() (bridge.cpp)
// reads and checks the host's lines and hands each message to the router.
#include "client/bridge.hpp"
#include "client/reloading_tls.hpp"
#include "client/stdio_channel.hpp"
#include "client/upstream_session.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace mcpmtls::client::bridge {

using json = nlohmann::json;

// JSON-RPC error codes the bridge answers with itself.
enum : int { kParseError = -32700, kInvalidRequest = -32600, kMethodNotFound = -32601, kInvalidParams = -32602 };

// The host's end: every message on one line of stdout.
class HostChannel {
public:
    explicit HostChannel(int fd) : writer_(fd) {}
    void send(const json& message) { writer_.write(message); }
    void answer(const json& id, const json& result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}); }
    void error(const json& id, int code, const std::string& message, const json& data = nullptr) {
        json error = {{"code", code}, {"message", message}};
        if (!data.is_null()) error["data"] = data;
        send({{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}});
    }
    // A request that could not reach its server: the error for the host and one line on stderr.
    void failed(const json& id, const UpstreamError& failure);
    bool gone() const { return writer_.broken(); }

private:
    MessageWriter writer_;
};

// The bridge's own requests to the host: a 2026-07-28 server's input-required result put to a
// 2025 host as elicitation, sampling and roots requests. Each goes under an id of the bridge's
// own, and the asking thread waits for the host's answer, which the router hands over.
class HostQuestions {
public:
    explicit HostQuestions(HostChannel& host, std::chrono::milliseconds wait = std::chrono::minutes(10)) : host_(host), wait_(wait) {}
    // The host's answer (its JSON-RPC message: result or error); an error when it does not come in
    // time or the host is gone.
    json ask(const std::string& method, const json& params);
    // True if `answer` answers one of the bridge's questions (it is taken, not forwarded).
    bool take(const json& answer);
    // The host is gone: every question waiting, and every one asked from now, ends with an error.
    void forget();

private:
    HostChannel& host_;
    const std::chrono::milliseconds wait_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, json> pending_;  // by the id's JSON text: null until answered
    uint64_t asked_ = 0;
    bool gone_ = false;
};

// The host's era, known by its first request: initialize (2025), or server/discover or a request
// carrying 2026-07-28's _meta envelope.
enum class HostEra { unknown, legacy, modern };
// Whether the host's request is served in 2026-07-28 (true) or the 2025 way (false), by what it
// carries and the era known so far. An envelope naming another version is answered here with
// that revision's error, naming the version the bridge serves such a host in (nullopt).
std::optional<bool> served_modern(HostEra known, const json& message, HostChannel& host);

// Requests run on threads of their own so that the reader goes on reading: the host answers a
// server's elicitation while the tool call that asked for it is still waiting. Threads are made
// as requests overlap, up to a limit (beyond it, requests queue), and kept for the next ones.
class Workers {
public:
    explicit Workers(size_t max_threads = 32) : max_threads_(max_threads) {}
    ~Workers() { finish(); }
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;
    void submit(std::function<void()> job);
    void finish();  // runs what is queued, then joins every thread

private:
    void work();
    const size_t max_threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    size_t idle_ = 0;
    bool finishing_ = false;
    std::vector<std::thread> threads_;
};

// What each mode does with the host's messages (already checked to be JSON-RPC).
class Router {
public:
    virtual ~Router() = default;
    virtual void request(const json& message) = 0;
    virtual void notification(const json& message) = 0;
    virtual void response(const json& message) = 0;
    // Before the bridge exits: `abort` (a signal) ends the exchanges in progress, otherwise they
    // finish first; then the remote sessions end.
    virtual void stop(bool abort) = 0;
};

struct Context {
    const BridgeOptions& options;
    std::shared_ptr<ReloadingTlsContext> tls;  // null when every server is plain http
    HostChannel& host;
    Workers& workers;
};

std::unique_ptr<Router> forwarding_router(const Context& context);
std::unique_ptr<Router> aggregating_router(const Context& context);

}  // namespace mcpmtls::client::bridge
