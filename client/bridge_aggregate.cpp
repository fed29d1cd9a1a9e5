// `client bridge --all`: the bridge is an MCP server of its own, whose tools, resources, resource
// templates and prompts are those of every configured server, so that one host entry loses
// nothing against one entry per server. A tool or prompt name, a resource URI or a template
// keeps its spelling when no other server has the same one; otherwise each is offered as
// SERVER.NAME (SERVER.URI, a URI still: the scheme gains the prefix). tools/call, prompts/get,
// resources/read, resources/(un)subscribe and completion/complete go to the server that owns
// the name, URI or template, and what that server sends while the call runs (progress, log
// messages, requests for the user) reaches the host, server requests under ids of the bridge's
// own (two servers may use the same ids). A server that does not answer at start is tried again
// in the background; when its catalogue appears, the host is told with the list_changed
// notifications.
// A host that speaks 2026-07-28 (no initialize: server/discover, or a _meta envelope on every
// request) is served too: each server opened for it as `client bridge SERVER` opens its one,
// discover and the lists answered here for the whole, the other requests relayed to their
// owner (a 2026 server's input-required result reaches the host as it is, and the host's retry,
// naming the same tool, the same server). Its subscriptions/listen requests get the catalogue's
// list changes and the updates of the resources they name (each subscribed to at its owner),
// tagged with the listen request's id; 2025's methods (resources/subscribe, logging/setLevel)
// are refused.
#include "client/internal/bridge_routes.hpp"

#include "common/log.hpp"
#include "common/version.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>

namespace mcpmtls::client::bridge {
namespace {

// One configured server behind the bridge.
struct Member {
    std::string name;
    std::unique_ptr<UpstreamSession> session;
    bool ready = false;          // initialized and its tools listed
    bool reported_down = false;  // its unreachability has been logged (once until it answers)
    json capabilities = json::object();  // from its initialize result
    std::map<std::string, json> lists;  // catalogue key ("tools", ...) -> the entries as the server lists them
};

// Where an exposed tool, prompt, resource or template lives.
struct ToolOwner {
    size_t member = 0;
    std::string tool;  // the server's own name (or URI) for it
};

// What a server offers, each listed by one method and named by one field.
struct Catalogue {
    const char* key;         // the list in the result, and our name for the catalogue
    const char* method;      // the list method
    const char* field;       // what names an entry
    const char* capability;  // the server capability that announces it
};
const Catalogue kCatalogues[] = {
    {"tools", "tools/list", "name", "tools"},
    {"resources", "resources/list", "uri", "resources"},
    {"resourceTemplates", "resources/templates/list", "uriTemplate", "resources"},
    {"prompts", "prompts/list", "name", "prompts"},
};
// The notification that tells the host a catalogue changed.
std::string list_changed_notification(const std::string& key) {
    if (key == "tools") return "notifications/tools/list_changed";
    if (key == "prompts") return "notifications/prompts/list_changed";
    return "notifications/resources/list_changed";
}

class AggregatingRouter : public Router {
public:
    explicit AggregatingRouter(const Context& context)
        : options_(context.options), host_(context.host), workers_(context.workers) {
        for (const auto& server : options_.servers) {
            auto member = std::make_unique<Member>();
            member->name = server.name;
            member->session = std::make_unique<UpstreamSession>(server.name, server.url, context.tls, options_.timeouts);
            // A 2026-only server's input-required results become the bridge's questions to a 2025 host.
            member->session->set_host_asker([this](const std::string& method, const json& params) { return questions_.ask(method, params); });
            members_.push_back(std::move(member));
        }
    }

    ~AggregatingRouter() override { stop_retrying(); }

    void request(const json& message) override {
        const std::string method = message["method"].get<std::string>();
        const json& id = message["id"];
        // The host's era, known by its first request (as `client bridge SERVER` knows it).
        const std::optional<bool> modern = served_modern(host_era_, message, host_);
        if (!modern) return;  // refused
        if (*modern) return modern_request(message);
        if (method == "initialize") return initialize(message);
        if (method == "ping") return host_.answer(id, json::object());
        for (const auto& catalogue : kCatalogues)
            if (method == catalogue.method) {
                std::lock_guard<std::mutex> lock(mutex_);
                return host_.answer(id, {{catalogue.key, exposed_[catalogue.key]}});
            }
        if (method == "tools/call" || method == "prompts/get" || method == "resources/read" || method == "resources/subscribe" ||
            method == "resources/unsubscribe" || method == "completion/complete")
            return workers_.submit([this, message] { call_owner(message); });
        if (method == "logging/setLevel") return workers_.submit([this, message] { set_level(message); });
        host_.error(id, kMethodNotFound, "method not found: " + method);
    }

    void notification(const json& message) override {
        const std::string method = message["method"].get<std::string>();
        const bool modern = host_era_ == HostEra::modern;
        if (modern && method != "notifications/cancelled") {
            // initialized, roots/list_changed...: 2025's, concerning sessions this host does not have.
            log_event(spdlog::level::warn, "host_notification_dropped",
                      {{"method", method}, {"reason", std::string("not a notification of MCP ") + mcp::protocol::kModernVersion}});
            return;
        }
        if (method == "notifications/initialized") {
            host_ready_ = true;
            return;
        }
        if (method == "notifications/cancelled") {
            // To the server running the call it names; a listen request ends here.
            const json params = message.value("params", json::object());
            std::optional<size_t> owner;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                const json cancelled = params.value("requestId", json());
                const auto listener = std::find_if(listeners_.begin(), listeners_.end(), [&](const Listener& l) { return l.id == cancelled; });
                if (listener != listeners_.end()) return void(listeners_.erase(listener));
                auto it = calls_in_flight_.find(params.value("requestId", json()).dump());
                if (it != calls_in_flight_.end()) owner = it->second;
            }
            if (owner) post(*members_[*owner], message, modern);
            return;
        }
        // Anything else (roots/list_changed, ...) concerns every server.
        for (auto& member : members_)
            if (is_ready(*member)) post(*member, message);
    }

    // The host's answer to a server's request: back to that server, under the server's id.
    void response(const json& message) override {
        if (questions_.take(message)) return;
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
        // No answer and no retry comes any more for a call waiting on the host.
        questions_.forget();
        for (auto& member : members_) member->session->forget_host();
        workers_.finish();
        for (auto& member : members_) member->session->close();
    }

private:
    // What the bridge says of itself: in its initialize result to a 2025 host, in its discover
    // result to a 2026 one.
    json description() const {
        std::string names;
        for (const auto& member : members_) names += (names.empty() ? "" : ", ") + member->name;
        return {{"capabilities", {{"tools", {{"listChanged", true}}},
                                  {"resources", {{"subscribe", true}, {"listChanged", true}}},
                                  {"prompts", {{"listChanged", true}}},
                                  {"completions", json::object()},
                                  {"logging", json::object()}}},
                {"serverInfo", {{"name", "mcp-mtls-bridge"}, {"title", "mcp-mtls bridge: " + names}, {"version", kVersion}}},
                {"instructions", "The tools, resources and prompts of the MCP servers " + names +
                                     ", reached over mutual TLS. A name or URI that two servers share is "
                                     "offered as SERVER.NAME (SERVER.URI)."}};
    }

    // Every server is tried once, at the same time, before the host hears back: the first list
    // is then as complete as it can be. `opening` (the host's initialize, or its first 2026-07-28
    // request) is what they are opened with, now and when tried again.
    void open_all(const json& opening) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            host_opening_ = opening;
        }
        std::vector<std::thread> attempts;
        for (size_t i = 0; i < members_.size(); ++i) attempts.emplace_back([this, i] { connect(i); });
        for (auto& attempt : attempts) attempt.join();
        start_retrying();
    }

    void initialize(const json& message) {
        host_era_ = HostEra::legacy;
        open_all(message);
        const auto& supported = mcp::protocol::kLegacyVersions;
        const std::string asked = message.value("params", json::object()).value("protocolVersion", "");
        const std::string version =
            std::find(supported.begin(), supported.end(), asked) != supported.end() ? asked : std::string("2025-06-18");
        json result = description();
        result["protocolVersion"] = version;
        host_.answer(message["id"], result);
    }

    // A request of a 2026-07-28 host; its first opens the servers, on the reader's thread (as
    // initialize does).
    void modern_request(const json& message) {
        const json& id = message["id"];
        const std::string method = message["method"].get<std::string>();
        if (host_era_.exchange(HostEra::modern) != HostEra::modern) open_all(message);
        if (method == "server/discover") return host_.answer(id, UpstreamSession::discover_result(description()));
        if (method == "ping") return host_.answer(id, {{"resultType", mcp::protocol::kResultComplete}});
        for (const auto& catalogue : kCatalogues)
            if (method == catalogue.method) {
                // The caching hints the revision requires on lists: not to be cached, since the
                // servers behind may change.
                std::lock_guard<std::mutex> lock(mutex_);
                return host_.answer(id, {{catalogue.key, exposed_[catalogue.key]},
                                         {"resultType", mcp::protocol::kResultComplete},
                                         {"cacheScope", "private"},
                                         {"ttlMs", 0}});
            }
        if (method == "tools/call" || method == "prompts/get" || method == "resources/read" || method == "completion/complete")
            return workers_.submit([this, message] { call_owner(message); });
        if (method == "subscriptions/listen") return workers_.submit([this, message] { listen(message); });
        if (method == "initialize" || method == "logging/setLevel" || method == "resources/subscribe" || method == "resources/unsubscribe")
            return host_.error(id, kMethodNotFound,
                               "method not found: " + method + " is of MCP 2025, and this host speaks " + mcp::protocol::kModernVersion);
        host_.error(id, kMethodNotFound, "method not found: " + method);
    }

    // Opens the session with `members_[i]` and lists what it offers; the catalogues that changed.
    std::set<std::string> connect(size_t i) {
        Member& member = *members_[i];
        json opening;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            opening = host_opening_;
        }
        try {
            json capabilities;
            if (host_era_ == HostEra::modern) {
                member.session->open_for_modern_host(opening);
                capabilities = member.session->modern_discover_result().value("capabilities", json::object());
            } else {
                const json request = {{"jsonrpc", "2.0"},
                                      {"id", "mcp-mtls-bridge-initialize"},
                                      {"method", "initialize"},
                                      {"params", opening.value("params", json::object())}};
                const json result = result_of(member, request, "initialize refused");
                member.session->post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
                capabilities = result.value("capabilities", json::object());
            }
            auto lists = list_all(member, capabilities);
            member.session->start_listening([this, i](const json& m) { relay(i, m); });
            std::lock_guard<std::mutex> lock(mutex_);
            member.capabilities = capabilities;
            member.lists = std::move(lists);
            member.ready = true;
            member.reported_down = false;
            log_event(spdlog::level::info, "server_ready",
                      {{"server", member.name}, {"tools", member.lists["tools"].size()}, {"resources", member.lists["resources"].size()},
                       {"resource_templates", member.lists["resourceTemplates"].size()}, {"prompts", member.lists["prompts"].size()}});
            return rebuild_catalogue();
        } catch (const UpstreamError& e) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!member.reported_down) {
                json fields = e.log_fields();
                fields["effect"] = "its tools are missing until it answers";
                log_event(e.code() == kExitVerification ? spdlog::level::err : spdlog::level::warn, "server_unreachable", fields);
            }
            member.reported_down = true;
            return {};
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

    // Every page of one of the server's lists.
    json list_of(Member& member, const Catalogue& catalogue) {
        json entries = json::array();
        json params = json::object();
        for (int page = 0; page < 100; ++page) {
            const json request = {{"jsonrpc", "2.0"},
                                  {"id", std::string("mcp-mtls-bridge-list-") + std::to_string(++internal_ids_)},
                                  {"method", catalogue.method},
                                  {"params", params}};
            const json result = result_of(member, request, std::string(catalogue.method) + " failed");
            for (const auto& entry : result.value(catalogue.key, json::array()))
                if (entry.is_object() && entry.value(catalogue.field, json()).is_string()) entries.push_back(entry);
            const json cursor = result.value("nextCursor", json());
            if (cursor.is_null()) break;
            params["cursor"] = cursor;
        }
        return entries;
    }

    // Every catalogue the server announces. Tools are listed as before (a server without them
    // is still asked); a server that announces resources but refuses one of their lists (no
    // templates, say) offers that one empty rather than failing as a whole.
    std::map<std::string, json> list_all(Member& member, const json& capabilities) {
        std::map<std::string, json> lists;
        for (const auto& catalogue : kCatalogues) {
            lists[catalogue.key] = json::array();
            const bool tools = std::string(catalogue.key) == "tools";
            if (!tools && !capabilities.contains(catalogue.capability)) continue;
            try {
                lists[catalogue.key] = list_of(member, catalogue);
            } catch (const UpstreamError& e) {
                if (tools || e.kind() != FailureKind::protocol) throw;
                log_event(spdlog::level::warn, "list_failed", e.log_fields());
            }
        }
        return lists;
    }

    // Names unique across the ready servers stay as they are; shared ones become SERVER.NAME.
    // Called with mutex_ held; the catalogues whose view the host has changed.
    std::set<std::string> rebuild_catalogue() {
        std::set<std::string> changed;
        for (const auto& catalogue : kCatalogues) {
            std::map<std::string, int> count;
            for (const auto& member : members_)
                if (member->ready)
                    for (const auto& entry : member->lists[catalogue.key]) ++count[entry[catalogue.field].get<std::string>()];
            json exposed = json::array();
            std::map<std::string, ToolOwner> owners;
            for (size_t i = 0; i < members_.size(); ++i) {
                if (!members_[i]->ready) continue;
                for (const auto& entry : members_[i]->lists[catalogue.key]) {
                    const std::string name = entry[catalogue.field].get<std::string>();
                    const std::string shown = count[name] > 1 ? members_[i]->name + "." + name : name;
                    json copy = entry;
                    copy[catalogue.field] = shown;
                    exposed.push_back(std::move(copy));
                    owners[shown] = ToolOwner{i, name};
                }
            }
            if (exposed != exposed_[catalogue.key]) changed.insert(catalogue.key);
            exposed_[catalogue.key] = std::move(exposed);
            owners_[catalogue.key] = std::move(owners);
        }
        return changed;
    }

    // A 2025 host hears it once initialized, a 2026-07-28 one on each listen request that asked.
    void announce(const std::set<std::string>& changed) {
        const bool modern = host_era_ == HostEra::modern;
        if (!host_ready_ && !modern) return;
        std::set<std::string> sent;
        for (const auto& key : changed) {
            const std::string method = list_changed_notification(key);
            if (!sent.insert(method).second) continue;
            if (!modern) {
                host_.send({{"jsonrpc", "2.0"}, {"method", method}});
                continue;
            }
            const json notification = {{"jsonrpc", "2.0"}, {"method", method}};
            std::vector<json> subscriptions;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                subscriptions = listening(notification);
            }
            for (const json& subscription : subscriptions) host_.send(tagged_for_listener(notification, subscription));
        }
    }

    // The ids of the listen requests that asked for `notification`. Called with mutex_ held.
    std::vector<json> listening(const json& notification) const {
        std::vector<json> ids;
        for (const auto& listener : listeners_)
            if (listener_wants(listener.filter, notification)) ids.push_back(listener.id);
        return ids;
    }

    // subscriptions/listen of a 2026-07-28 host: the list changes are the bridge's own to
    // announce; each resource is subscribed to at its owner (a 2026 server's own listen stream
    // takes it into its filter), under the URI the host names it by.
    void listen(const json& message) {
        const json& id = message["id"];
        const json params = message.value("params", json::object());
        if (!params.is_object() || !params.contains("notifications") || !params["notifications"].is_object())
            return host_.error(id, kInvalidParams, "params.notifications must be an object (the notifications to listen for)");
        const json& wanted = params["notifications"];
        json honored = json::object();
        for (const auto& change : kListChanges)
            if (wanted.value(change.flag, false) == true) honored[change.flag] = true;
        if (wanted.contains("resourceSubscriptions") && wanted["resourceSubscriptions"].is_array()) {
            json subscribed = json::array();
            for (const auto& uri : wanted["resourceSubscriptions"]) {
                if (!uri.is_string() || subscribed.size() >= UpstreamSession::kMaxResourceSubscriptions) continue;
                std::optional<ToolOwner> owner;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    owner = owner_of_uri(uri.get<std::string>());
                }
                if (!owner) continue;
                json answer;
                const json subscribe = {{"jsonrpc", "2.0"},
                                        {"id", "mcp-mtls-bridge-subscribe-" + std::to_string(++internal_ids_)},
                                        {"method", "resources/subscribe"},
                                        {"params", {{"uri", owner->tool}}}};
                try {
                    members_[owner->member]->session->request(subscribe, [&answer](const json& m) { answer = m; });
                } catch (const UpstreamError& e) {
                    log_event(spdlog::level::warn, "subscription_refused", e.log_fields());
                }
                if (!answer.contains("result")) continue;
                std::lock_guard<std::mutex> lock(mutex_);
                subscriptions_[uri.get<std::string>()] = *owner;
                subscribed.push_back(uri);
            }
            honored["resourceSubscriptions"] = subscribed;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            listeners_.push_back({id, honored});
        }
        host_.send(listen_acknowledgement(id, honored));
    }

    // The server that owns a resource URI, and its own spelling of it: a listed resource, else
    // a URI of a template (longest literal prefix), else SERVER.URI, else the only server that
    // offers resources. Called with mutex_ held.
    std::optional<ToolOwner> owner_of_uri(const std::string& uri) {
        auto& resources = owners_["resources"];
        if (auto it = resources.find(uri); it != resources.end()) return it->second;
        if (auto it = subscriptions_.find(uri); it != subscriptions_.end()) return it->second;
        std::optional<ToolOwner> best;
        size_t best_length = 0;
        for (const auto& [shown, owner] : owners_["resourceTemplates"]) {
            const std::string prefix = shown.substr(0, shown.find('{'));
            if (prefix.empty() || uri.rfind(prefix, 0) != 0 || prefix.size() <= best_length) continue;
            best_length = prefix.size();
            best = ToolOwner{owner.member, uri.substr(shown.size() - owner.tool.size())};  // without SERVER. if added
        }
        if (best) return best;
        std::vector<size_t> offering;
        for (size_t i = 0; i < members_.size(); ++i) {
            if (!members_[i]->ready) continue;
            if (uri.rfind(members_[i]->name + ".", 0) == 0) return ToolOwner{i, uri.substr(members_[i]->name.size() + 1)};
            if (members_[i]->capabilities.contains("resources")) offering.push_back(i);
        }
        if (offering.size() == 1) return ToolOwner{offering.front(), uri};
        return std::nullopt;
    }

    // Where the host's request goes, with its params in the server's own names; an error
    // message instead when no server owns what it names. Called with mutex_ held.
    std::optional<ToolOwner> route(const std::string& method, json& params, std::string& refusal) {
        auto by_name = [&](const std::string& key, json& slot, const std::string& what) -> std::optional<ToolOwner> {
            const std::string name = slot.is_string() ? slot.get<std::string>() : "";
            auto it = owners_[key].find(name);
            if (it == owners_[key].end()) {
                refusal = "unknown " + what + " '" + name + "'";
                return std::nullopt;
            }
            slot = it->second.tool;
            return it->second;
        };
        auto by_uri = [&](json& slot) -> std::optional<ToolOwner> {
            const std::string uri = slot.is_string() ? slot.get<std::string>() : "";
            auto owner = owner_of_uri(uri);
            if (!owner) {
                refusal = "unknown resource '" + uri + "'";
                return std::nullopt;
            }
            if (method == "resources/subscribe") subscriptions_[uri] = *owner;
            if (method == "resources/unsubscribe") subscriptions_.erase(uri);
            slot = owner->tool;
            return owner;
        };
        if (method == "tools/call") return by_name("tools", params["name"], "tool");
        if (method == "prompts/get") return by_name("prompts", params["name"], "prompt");
        if (method == "completion/complete") {
            json& ref = params["ref"];
            if (!ref.is_object()) ref = json::object();
            if (ref.value("type", "") == "ref/prompt") return by_name("prompts", ref["name"], "prompt");
            const std::string uri = ref.value("uri", json()).is_string() ? ref["uri"].get<std::string>() : "";
            if (owners_["resourceTemplates"].count(uri)) return by_name("resourceTemplates", ref["uri"], "resource template");
            return by_uri(ref["uri"]);
        }
        return by_uri(params["uri"]);
    }

    // A request about one tool, prompt, resource or template: to the server that owns it.
    void call_owner(const json& message) {
        const json& id = message["id"];
        const std::string method = message["method"].get<std::string>();
        json forwarded = message;
        if (!forwarded["params"].is_object()) forwarded["params"] = json::object();
        ToolOwner owner;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            std::string refusal;
            const auto found = route(method, forwarded["params"], refusal);
            if (!found) return host_.error(id, kInvalidParams, refusal);
            owner = *found;
            calls_in_flight_[id.dump()] = owner.member;
        }
        Member& member = *members_[owner.member];
        // A resource read under SERVER.URI answers with the URI the host asked for.
        const json asked_uri = message.value("params", json::object()).value("uri", json());
        const json sent_uri = forwarded["params"].value("uri", json());
        const MessageSink to_host = [&](const json& m) {
            if (method != "resources/read" || asked_uri == sent_uri || !is_answer_to(m, id) || !m.contains("result"))
                return relay(owner.member, m);
            json answer = m;
            if (answer["result"].is_object() && answer["result"].value("contents", json()).is_array())
                for (auto& content : answer["result"]["contents"])
                    if (content.is_object() && content.value("uri", json()) == sent_uri) content["uri"] = asked_uri;
            host_.send(answer);
        };
        try {
            const bool answered =
                host_era_ == HostEra::modern ? member.session->relay(forwarded, to_host) : member.session->request(forwarded, to_host);
            if (!answered)
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
            if (host_era_ == HostEra::modern) {
                // On the server's standalone stream: a 2026-07-28 host takes no request outside
                // the input-required result of a call, and the server hears so at once.
                json answer = {{"jsonrpc", "2.0"}, {"id", message["id"]}};
                if (method == "ping") answer["result"] = json::object();
                else answer["error"] = {{"code", kMethodNotFound}, {"message", "the host speaks MCP " + std::string(mcp::protocol::kModernVersion) +
                                                                                    ", which has no " + method + " request outside a call"}};
                return post(member, answer);
            }
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
        if (method == "notifications/tools/list_changed" || method == "notifications/resources/list_changed" ||
            method == "notifications/prompts/list_changed") {
            workers_.submit([this, i] { refresh(i); });
            return;
        }
        if (method == "notifications/resources/updated") {
            // Under the URI the host subscribed with (SERVER.URI when it clashed).
            json forwarded = message;
            const std::string uri = message.value("params", json::object()).value("uri", "");
            std::lock_guard<std::mutex> lock(mutex_);
            for (const auto& [shown, owner] : subscriptions_)
                if (owner.member == i && owner.tool == uri) forwarded["params"]["uri"] = shown;
            if (host_era_ != HostEra::modern) return host_.send(forwarded);
            // To each listen request that named the resource, tagged with its id.
            for (const json& subscription : listening(forwarded)) host_.send(tagged_for_listener(forwarded, subscription));
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
            json capabilities;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                capabilities = member.capabilities;
            }
            auto lists = list_all(member, capabilities);
            std::set<std::string> changed;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                member.lists = std::move(lists);
                changed = rebuild_catalogue();
            }
            announce(changed);
        } catch (const UpstreamError& e) {
            log_event(spdlog::level::warn, "catalogue_refresh_failed", e.log_fields());
        }
    }

    bool is_ready(const Member& member) {
        std::lock_guard<std::mutex> lock(mutex_);
        return member.ready;
    }

    // `modern`: a 2026-07-28 host's notification, its envelope left out for a 2025 server.
    void post(Member& member, const json& message, bool modern = false) {
        try {
            if (modern) member.session->relay_notification(message);
            else member.session->post(message);
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
                std::set<std::string> changed;
                for (size_t i = 0; i < members_.size(); ++i)
                    if (!is_ready(*members_[i])) changed.merge(connect(i));
                announce(changed);
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
    HostQuestions questions_{host_};  // before the sessions whose calls ask through it
    std::vector<std::unique_ptr<Member>> members_;  // fixed at start; their fields under mutex_
    std::mutex mutex_;
    json host_opening_;  // the host's initialize, or its first 2026-07-28 request
    std::atomic<HostEra> host_era_{HostEra::unknown};  // set on the reader's thread
    std::map<std::string, json> exposed_;                              // catalogue key -> what the host sees
    std::map<std::string, std::map<std::string, ToolOwner>> owners_;  // catalogue key -> exposed name -> server, its name
    struct Listener {
        json id;      // the 2026-07-28 host's listen request's
        json filter;  // what it was acknowledged with
    };
    std::vector<Listener> listeners_;
    std::map<std::string, ToolOwner> subscriptions_;                  // URI the host subscribed with -> server, its URI
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
