// `client bridge --all`: the bridge is an MCP server of its own, whose tools are those of every
// configured server. A tool keeps its name when no other server has one like it; otherwise each
// is offered as SERVER.TOOL. tools/call goes to the server that owns the tool, and what that
// server sends while the call runs (progress, log messages, requests for the user) reaches the
// host, server requests under ids of the bridge's own (two servers may use the same ids). A
// server that does not answer at start is tried again in the background; when its tools appear,
// the host is told with notifications/tools/list_changed.
#include "client/internal/bridge_routes.hpp"

#include "common/log.hpp"
#include "common/version.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>
#include <atomic>
#include <map>

namespace mcpmtls::client::bridge {
namespace {

// One configured server behind the bridge.
struct Member {
    std::string name;
    std::unique_ptr<UpstreamSession> session;
    bool ready = false;          // initialized and its tools listed
    bool reported_down = false;  // its unreachability has been logged (once until it answers)
    json tools = json::array();  // as the server lists them
};

// Where an exposed tool lives.
struct ToolOwner {
    size_t member = 0;
    std::string tool;  // the server's own name for it
};

class AggregatingRouter : public Router {
public:
    explicit AggregatingRouter(const Context& context)
        : options_(context.options), host_(context.host), workers_(context.workers) {
        for (const auto& server : options_.servers) {
            auto member = std::make_unique<Member>();
            member->name = server.name;
            member->session = std::make_unique<UpstreamSession>(server.name, server.url, context.tls, options_.timeouts);
            members_.push_back(std::move(member));
        }
    }

    ~AggregatingRouter() override { stop_retrying(); }

    void request(const json& message) override {
        const std::string method = message["method"].get<std::string>();
        const json& id = message["id"];
        if (method == "initialize") return initialize(message);
        if (method == "ping") return host_.answer(id, json::object());
        if (method == "tools/list") {
            std::lock_guard<std::mutex> lock(mutex_);
            return host_.answer(id, {{"tools", exposed_tools_}});
        }
        if (method == "tools/call") return workers_.submit([this, message] { call_tool(message); });
        if (method == "logging/setLevel") return workers_.submit([this, message] { set_level(message); });
        host_.error(id, kMethodNotFound, "method not found: " + method + " (bridge --all offers the servers' tools only)");
    }

    void notification(const json& message) override {
        const std::string method = message["method"].get<std::string>();
        if (method == "notifications/initialized") {
            host_ready_ = true;
            return;
        }
        if (method == "notifications/cancelled") {
            // To the server running the call it names.
            const json params = message.value("params", json::object());
            std::optional<size_t> owner;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                auto it = calls_in_flight_.find(params.value("requestId", json()).dump());
                if (it != calls_in_flight_.end()) owner = it->second;
            }
            if (owner) post(*members_[*owner], message);
            return;
        }
        // Anything else (roots/list_changed, ...) concerns every server.
        for (auto& member : members_)
            if (is_ready(*member)) post(*member, message);
    }

    // The host's answer to a server's request: back to that server, under the server's id.
    void response(const json& message) override {
        json answer = message;
        size_t member = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = server_requests_.find(message["id"].dump());
            if (it == server_requests_.end()) {
                log_event(spdlog::level::warn, "unexpected_answer", {{"id", message["id"]}});
                return;
            }
            member = it->second.first;
            answer["id"] = it->second.second;
            server_requests_.erase(it);
        }
        post(*members_[member], answer);
    }

    void stop(bool abort) override {
        stop_retrying();
        if (abort)
            for (auto& member : members_) member->session->abort();
        workers_.finish();
        for (auto& member : members_) member->session->close();
    }

private:
    void initialize(const json& message) {
        const json params = message.value("params", json::object());
        {
            std::lock_guard<std::mutex> lock(mutex_);
            host_params_ = params;
        }
        // Every server is tried once, at the same time, before the host hears back: the first
        // tools/list is then as complete as it can be.
        std::vector<std::thread> attempts;
        for (size_t i = 0; i < members_.size(); ++i) attempts.emplace_back([this, i] { connect(i); });
        for (auto& attempt : attempts) attempt.join();
        const auto& supported = mcp::protocol::kLegacyVersions;
        const std::string asked = params.value("protocolVersion", "");
        const std::string version =
            std::find(supported.begin(), supported.end(), asked) != supported.end() ? asked : std::string("2025-06-18");
        std::string names;
        for (const auto& member : members_) names += (names.empty() ? "" : ", ") + member->name;
        host_.answer(message["id"], {{"protocolVersion", version},
                                     {"capabilities", {{"tools", {{"listChanged", true}}}, {"logging", json::object()}}},
                                     {"serverInfo", {{"name", "mcp-mtls-bridge"}, {"title", "mcp-mtls bridge: " + names}, {"version", kVersion}}},
                                     {"instructions", "The tools of the MCP servers " + names +
                                                          ", reached over mutual TLS. A tool whose name two servers share is "
                                                          "offered as SERVER.TOOL."}});
        start_retrying();
    }

    // Opens the session with `members_[i]` and lists its tools; true if the catalogue changed.
    bool connect(size_t i) {
        Member& member = *members_[i];
        json params;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            params = host_params_;
        }
        try {
            const json request = {{"jsonrpc", "2.0"}, {"id", "mcp-mtls-bridge-initialize"}, {"method", "initialize"}, {"params", params}};
            result_of(member, request, "initialize refused");
            member.session->post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
            json tools = list_tools(member);
            member.session->start_listening([this, i](const json& m) { relay(i, m); });
            std::lock_guard<std::mutex> lock(mutex_);
            member.tools = std::move(tools);
            member.ready = true;
            member.reported_down = false;
            log_event(spdlog::level::info, "server_ready", {{"server", member.name}, {"tools", member.tools.size()}});
            return rebuild_catalogue();
        } catch (const UpstreamError& e) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!member.reported_down) {
                json fields = e.log_fields();
                fields["effect"] = "its tools are missing until it answers";
                log_event(e.code() == kExitVerification ? spdlog::level::err : spdlog::level::warn, "server_unreachable", fields);
            }
            member.reported_down = true;
            return false;
        }
    }

    // The result of one of the bridge's own requests to a member; UpstreamError("FAILURE: why") otherwise.
    static json result_of(Member& member, const json& request, const std::string& failure) {
        json answer;
        const MessageSink keep = [&](const json& m) {
            if (is_answer_to(m, request["id"])) answer = m;
        };
        if (request["method"] == "initialize") member.session->initialize(request, keep);
        else member.session->request(request, keep);
        if (!answer.contains("result"))
            throw UpstreamError(member.name, FailureKind::protocol,
                                failure + ": " + answer.value("error", json::object()).value("message", "no answer"));
        return answer["result"];
    }

    // Every page of the server's tools/list.
    json list_tools(Member& member) {
        json tools = json::array();
        json params = json::object();
        for (int page = 0; page < 100; ++page) {
            const json request = {{"jsonrpc", "2.0"},
                                  {"id", "mcp-mtls-bridge-tools-" + std::to_string(++internal_ids_)},
                                  {"method", "tools/list"},
                                  {"params", params}};
            const json result = result_of(member, request, "tools/list failed");
            for (const auto& tool : result.value("tools", json::array()))
                if (tool.is_object() && tool.value("name", json()).is_string()) tools.push_back(tool);
            const json cursor = result.value("nextCursor", json());
            if (cursor.is_null()) break;
            params["cursor"] = cursor;
        }
        return tools;
    }

    // Names unique across the ready servers stay as they are; shared ones become SERVER.TOOL.
    // Called with mutex_ held; true if the host's view changed.
    bool rebuild_catalogue() {
        std::map<std::string, int> count;
        for (const auto& member : members_)
            if (member->ready)
                for (const auto& tool : member->tools) ++count[tool["name"].get<std::string>()];
        json exposed = json::array();
        std::map<std::string, ToolOwner> owners;
        for (size_t i = 0; i < members_.size(); ++i) {
            if (!members_[i]->ready) continue;
            for (const auto& tool : members_[i]->tools) {
                const std::string name = tool["name"].get<std::string>();
                const std::string shown = count[name] > 1 ? members_[i]->name + "." + name : name;
                json entry = tool;
                entry["name"] = shown;
                exposed.push_back(std::move(entry));
                owners[shown] = ToolOwner{i, name};
            }
        }
        const bool changed = exposed != exposed_tools_;
        exposed_tools_ = std::move(exposed);
        owners_ = std::move(owners);
        return changed;
    }

    void tools_changed() {
        if (host_ready_) host_.send({{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}});
    }

    void call_tool(const json& message) {
        const json& id = message["id"];
        const json params = message.value("params", json::object());
        const std::string name = params.value("name", json()).is_string() ? params["name"].get<std::string>() : "";
        ToolOwner owner;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = owners_.find(name);
            if (it == owners_.end()) return host_.error(id, kInvalidParams, "unknown tool '" + name + "'");
            owner = it->second;
            calls_in_flight_[id.dump()] = owner.member;
        }
        json forwarded = message;
        forwarded["params"]["name"] = owner.tool;
        Member& member = *members_[owner.member];
        try {
            if (!member.session->request(forwarded, [&](const json& m) { relay(owner.member, m); }))
                host_.error(id, kUpstreamErrorCode, member.name + ": the server ended its event streams without answering");
        } catch (const UpstreamError& e) {
            host_.failed(id, e);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        calls_in_flight_.erase(id.dump());
    }

    // The host's logging level, for every server that logs.
    void set_level(const json& message) {
        for (auto& member : members_) {
            if (!is_ready(*member)) continue;
            json request = message;
            request["id"] = "mcp-mtls-bridge-level-" + std::to_string(++internal_ids_);
            try {
                member->session->request(request, nullptr);
            } catch (const UpstreamError& e) {
                log_event(spdlog::level::warn, "message_not_delivered", e.log_fields());
            }
        }
        host_.answer(message["id"], json::object());
    }

    // A message from a server, inside a call's answer stream or on its standalone stream.
    void relay(size_t i, const json& message) {
        Member& member = *members_[i];
        const bool has_method = message.contains("method") && message["method"].is_string();
        if (!has_method) {
            // An answer: to a host's call (its id is the host's), never to the bridge's own requests.
            if (message.value("id", json()).is_string() && message["id"].get<std::string>().rfind("mcp-mtls-bridge-", 0) == 0) return;
            return host_.send(message);
        }
        const std::string method = message["method"].get<std::string>();
        if (message.contains("id")) {
            // A request for the host (elicitation, sampling, ping, roots): under an id of ours.
            json forwarded = message;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                const std::string id = "mcp-mtls-bridge-" + member.name + "-" + std::to_string(++internal_ids_);
                server_requests_[json(id).dump()] = {i, message["id"]};
                forwarded["id"] = id;
            }
            return host_.send(forwarded);
        }
        if (method == "notifications/tools/list_changed") {
            workers_.submit([this, i] { refresh(i); });
            return;
        }
        if (method == "notifications/message") {
            json forwarded = message;
            if (forwarded["params"].is_object() && !forwarded["params"].contains("logger")) forwarded["params"]["logger"] = member.name;
            return host_.send(forwarded);
        }
        if (method == "notifications/progress") return host_.send(message);  // the host's own token
        log_event(spdlog::level::debug, "server_notification_dropped", {{"server", member.name}, {"method", method}});
    }

    void refresh(size_t i) {
        Member& member = *members_[i];
        try {
            json tools = list_tools(member);
            bool changed;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                member.tools = std::move(tools);
                changed = rebuild_catalogue();
            }
            if (changed) tools_changed();
        } catch (const UpstreamError& e) {
            log_event(spdlog::level::warn, "tools_refresh_failed", e.log_fields());
        }
    }

    bool is_ready(const Member& member) {
        std::lock_guard<std::mutex> lock(mutex_);
        return member.ready;
    }

    void post(Member& member, const json& message) {
        try {
            member.session->post(message);
        } catch (const UpstreamError& e) {
            log_event(spdlog::level::warn, "message_not_delivered", e.log_fields());
        }
    }

    // Servers that did not answer are tried again until they do.
    void start_retrying() {
        std::lock_guard<std::mutex> lock(retry_mutex_);
        if (retrier_.joinable() || retry_stopped_) return;
        retrier_ = std::thread([this] {
            std::unique_lock<std::mutex> lock(retry_mutex_);
            while (!retry_wake_.wait_for(lock, options_.retry_interval, [&] { return retry_stopped_; })) {
                lock.unlock();
                bool changed = false;
                for (size_t i = 0; i < members_.size(); ++i)
                    if (!is_ready(*members_[i])) changed = connect(i) || changed;
                if (changed) tools_changed();
                lock.lock();
            }
        });
    }

    void stop_retrying() {
        {
            std::lock_guard<std::mutex> lock(retry_mutex_);
            retry_stopped_ = true;
        }
        retry_wake_.notify_all();
        if (retrier_.joinable()) retrier_.join();
    }

    const BridgeOptions& options_;
    HostChannel& host_;
    Workers& workers_;
    std::vector<std::unique_ptr<Member>> members_;  // fixed at start; their fields under mutex_
    std::mutex mutex_;
    json host_params_;
    json exposed_tools_ = json::array();
    std::map<std::string, ToolOwner> owners_;           // exposed name -> server and its name
    std::map<std::string, size_t> calls_in_flight_;    // host's request id (dumped) -> member
    std::map<std::string, std::pair<size_t, json>> server_requests_;  // our id (dumped) -> member, server's id
    std::atomic<uint64_t> internal_ids_{0};
    std::atomic<bool> host_ready_{false};
    std::mutex retry_mutex_;
    std::condition_variable retry_wake_;
    bool retry_stopped_ = false;
    std::thread retrier_;
};

}  // namespace

std::unique_ptr<Router> aggregating_router(const Context& context) { return std::make_unique<AggregatingRouter>(context); }

}  // namespace mcpmtls::client::bridge
