// The JSON-RPC methods of the method table besides tools/call: ping, tools/list, logging,
// resources, prompts and completion. Each takes the request's params and answers a Reply.
#include "mcp/streamable_http.hpp"

#include "mcp/internal/jsonrpc.hpp"

namespace mcpmtls::mcp {

using nlohmann::json;

namespace {

// params[name] as a string, or "" when absent or not a string.
std::string text_param(const json& params, const char* name) {
    return params.contains(name) && params[name].is_string() ? params[name].get<std::string>() : "";
}

// A list entry of a resource or template: the optional fields only when set.
json with_descriptions(json entry, const std::string& title, const std::string& description, const std::string& mime_type) {
    if (!title.empty()) entry["title"] = title;
    if (!description.empty()) entry["description"] = description;
    if (!mime_type.empty()) entry["mimeType"] = mime_type;
    return entry;
}

// Values of a completer, or none when there is no completer (or it fails).
std::vector<std::string> suggestions(const Completer& completer, const std::string& partial, const json& context) {
    if (!completer) return {};
    return completer(partial, context);
}

}  // namespace

auto StreamableHttpServer::ping(const Call&) -> Reply { return Reply::ok(json::object()); }

json StreamableHttpServer::capabilities() const {
    json capabilities = {{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
    if (!options_.resources.empty()) capabilities["resources"] = {{"subscribe", true}, {"listChanged", false}};
    if (!options_.prompts.empty()) capabilities["prompts"] = {{"listChanged", false}};
    if (find_method("completion/complete", kBoth)) capabilities["completions"] = json::object();
    return capabilities;
}

// server/discover (2026-07-28): what initialize told a 2025 client, asked for by any request.
auto StreamableHttpServer::discover(const Call&) -> Reply {
    json server_info = {{"name", options_.name}, {"version", options_.version}};
    if (!options_.title.empty()) server_info["title"] = options_.title;
    json result = {{"supportedVersions", modern::all_versions()},
                   {"capabilities", capabilities()},
                   {"_meta", {{modern::kMetaServerInfo, server_info}}}};
    if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
    return Reply::ok(std::move(result));
}

auto StreamableHttpServer::list_tools(const Call& call) -> Reply {
    if (!options_.policy.restricts()) {
        Reply reply;
        reply.rendered_result = tools_list_json_;
        return reply;
    }
    json visible = json::array();
    for (const auto& entry : tool_entries_)
        if (options_.policy.allows(call.client, entry["name"].get<std::string>())) visible.push_back(entry);
    return Reply::ok({{"tools", visible}});
}

auto StreamableHttpServer::set_log_level(const Call& call) -> Reply {
    const auto level = parse_log_level(text_param(call.params, "level"));
    if (!level) return Reply::error(kInvalidParams, "level must be one of debug, info, notice, warning, error, critical, alert, emergency");
    call.session->log_level = static_cast<int>(*level);
    return Reply::ok(json::object());
}

auto StreamableHttpServer::list_resources(const Call&) -> Reply {
    json list = json::array();
    for (const auto& r : options_.resources.resources())
        list.push_back(with_descriptions({{"uri", r.uri}, {"name", r.name}}, r.title, r.description, r.mime_type));
    return Reply::ok({{"resources", list}});
}

auto StreamableHttpServer::list_resource_templates(const Call&) -> Reply {
    json list = json::array();
    for (const auto& t : options_.resources.templates())
        list.push_back(with_descriptions({{"uriTemplate", t.uri_template}, {"name", t.name}}, t.title, t.description, t.mime_type));
    return Reply::ok({{"resourceTemplates", list}});
}

auto StreamableHttpServer::read_resource(const Call& call) -> Reply {
    const std::string uri = text_param(call.params, "uri");
    if (uri.empty()) return Reply::error(kInvalidParams, "resources/read needs params.uri (a string)");
    try {
        return Reply::ok({{"contents", options_.resources.read(uri)}});
    } catch (const ResourceNotFound& e) {
        // 2026-07-28 (SEP-2164) says -32602 with the URI in data; the 2025 era kept -32002.
        if (call.modern) return Reply::error(kInvalidParams, std::string("Resource not found: ") + e.what(), {{"uri", uri}});
        return Reply::error(kResourceNotFound, std::string("Resource not found: ") + e.what());
    } catch (const InvalidParams& e) {
        return Reply::error(kInvalidParams, e.what());
    } catch (const std::exception& e) {
        return Reply::error(kInternalError, "reading '" + uri + "' failed: " + e.what());
    }
}

auto StreamableHttpServer::subscribe_resource(const Call& call) -> Reply {
    const std::string uri = text_param(call.params, "uri");
    if (uri.empty()) return Reply::error(kInvalidParams, "resources/subscribe needs params.uri (a string)");
    // A subscription to nothing would never hear anything: say so instead.
    if (!options_.resources.exists(uri)) return Reply::error(kResourceNotFound, "Resource not found: no resource '" + uri + "'");
    if (!call.session->subscribed(uri) && call.session->subscription_count() >= Session::kMaxSubscriptions)
        return Reply::error(kInvalidRequest, "too many subscriptions in this session (at most " +
                                                 std::to_string(Session::kMaxSubscriptions) + ")");
    call.session->subscribe(uri);
    return Reply::ok(json::object());
}

auto StreamableHttpServer::unsubscribe_resource(const Call& call) -> Reply {
    const std::string uri = text_param(call.params, "uri");
    if (uri.empty()) return Reply::error(kInvalidParams, "resources/unsubscribe needs params.uri (a string)");
    call.session->unsubscribe(uri);  // unsubscribing twice is harmless
    return Reply::ok(json::object());
}

auto StreamableHttpServer::list_prompts(const Call&) -> Reply {
    json list = json::array();
    for (const auto& prompt : options_.prompts.prompts()) {
        json entry = {{"name", prompt.name}};
        if (!prompt.title.empty()) entry["title"] = prompt.title;
        if (!prompt.description.empty()) entry["description"] = prompt.description;
        json arguments = json::array();
        for (const auto& argument : prompt.arguments)
            arguments.push_back({{"name", argument.name}, {"description", argument.description}, {"required", argument.required}});
        if (!arguments.empty()) entry["arguments"] = arguments;
        list.push_back(std::move(entry));
    }
    return Reply::ok({{"prompts", list}});
}

auto StreamableHttpServer::get_prompt(const Call& call) -> Reply {
    const std::string name = text_param(call.params, "name");
    const Prompt* prompt = options_.prompts.find(name);
    if (!prompt) return Reply::error(kInvalidParams, "unknown prompt '" + name + "'");
    const json given = call.params.contains("arguments") && call.params["arguments"].is_object() ? call.params["arguments"] : json::object();
    std::map<std::string, std::string> arguments;
    for (auto it = given.begin(); it != given.end(); ++it) {
        if (!it.value().is_string()) return Reply::error(kInvalidParams, "prompt argument '" + it.key() + "' must be a string");
        arguments[it.key()] = it.value().get<std::string>();
    }
    for (const auto& argument : prompt->arguments)
        if (argument.required && !arguments.count(argument.name))
            return Reply::error(kInvalidParams, "missing required argument '" + argument.name + "'");
    try {
        if (prompt->render_asking) {
            auto channel = channel_for(call);
            return Reply::ok(prompt->render_asking(arguments, ToolCallContext{call.client, channel.get()}));
        }
        return Reply::ok(prompt->render(arguments));
    } catch (const InputRequired& e) {
        return input_required(e.requests);
    } catch (const MissingClientCapability& e) {
        return Reply::error(modern::kMissingClientCapability, "prompt '" + name + "' needs the client capability '" + e.capability + "'",
                            {{"requiredCapabilities", {{e.capability, json::object()}}}});
    } catch (const InvalidParams& e) {
        return Reply::error(kInvalidParams, e.what());
    } catch (const std::exception& e) {
        return Reply::error(kInternalError, "prompt '" + name + "' failed: " + e.what());
    }
}

// completion/complete: ref/prompt (an argument of a prompt) or ref/resource (a variable of a
// resource template).
auto StreamableHttpServer::complete(const Call& call) -> Reply {
    const json& params = call.params;
    const json ref = params.value("ref", json::object());
    const json argument = params.value("argument", json::object());
    if (!ref.is_object() || !argument.is_object()) return Reply::error(kInvalidParams, "completion/complete needs params.ref and params.argument");
    const std::string argument_name = text_param(argument, "name");
    const std::string partial = text_param(argument, "value");
    json context = json::object();
    if (params.contains("context") && params["context"].is_object() && params["context"].contains("arguments") &&
        params["context"]["arguments"].is_object())
        context = params["context"]["arguments"];
    const std::string type = text_param(ref, "type");
    try {
        if (type == "ref/prompt") {
            const Prompt* prompt = options_.prompts.find(text_param(ref, "name"));
            if (!prompt) return Reply::error(kInvalidParams, "unknown prompt '" + text_param(ref, "name") + "'");
            for (const auto& a : prompt->arguments)
                if (a.name == argument_name) return Reply::ok(completion_result(suggestions(a.complete, partial, context)));
            return Reply::error(kInvalidParams, "prompt '" + prompt->name + "' has no argument '" + argument_name + "'");
        }
        if (type == "ref/resource") {
            const ResourceTemplate* t = options_.resources.find_template(text_param(ref, "uri"));
            if (!t) return Reply::error(kInvalidParams, "unknown resource template '" + text_param(ref, "uri") + "'");
            auto completer = t->complete.find(argument_name);
            return Reply::ok(completion_result(completer == t->complete.end() ? std::vector<std::string>{}
                                                                              : suggestions(completer->second, partial, context)));
        }
    } catch (const std::exception& e) {
        return Reply::error(kInternalError, "completion failed: " + std::string(e.what()));
    }
    return Reply::error(kInvalidParams, "ref.type must be ref/prompt or ref/resource");
}

}  // namespace mcpmtls::mcp
