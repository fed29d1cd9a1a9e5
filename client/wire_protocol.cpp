#include "client/wire_protocol.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <openssl/evp.h>
#include <sys/stat.h>

namespace mcpmtls::client {

using json = nlohmann::json;
namespace protocol = mcp::protocol;

// ---------------------------------------------------------------------------------------------
// Versions

std::vector<std::string> protocol_version_choices() {
    std::vector<std::string> choices = {"auto", protocol::kModernVersion};
    // 2025-03-26 is left out on purpose: its batches and missing elicitation are not worth forcing.
    choices.emplace_back(protocol::kLegacyVersions[0]);
    choices.emplace_back(protocol::kLegacyVersions[1]);
    return choices;
}

VersionChoice VersionChoice::parse(const std::string& text) {
    const auto choices = protocol_version_choices();
    if (std::find(choices.begin(), choices.end(), text) == choices.end())
        throw InputError("--protocol-version takes " + join(choices, "|") + ", not '" + text + "'");
    return VersionChoice{text};
}

bool VersionChoice::forces_modern() const { return version == protocol::kModernVersion; }

// ---------------------------------------------------------------------------------------------
// Requests

json request_meta(const std::string& version, const json& capabilities) {
    return {{protocol::kMetaProtocolVersion, version},
            {protocol::kMetaClientCapabilities, capabilities},
            {protocol::kMetaClientInfo, {{"name", "mcp-mtls-client"}, {"version", kVersion}}}};
}

json with_meta(json params, const std::string& version, const json& capabilities) {
    if (!params.is_object()) params = json::object();
    json& meta = params["_meta"];
    if (!meta.is_object()) meta = json::object();
    const json envelope = request_meta(version, capabilities);
    for (const auto& [key, value] : envelope.items()) meta[key] = value;
    return params;
}

namespace {

// The body field Mcp-Name mirrors, per method (SEP-2243's table).
const char* name_field(const std::string& method) {
    static const std::map<std::string, const char*> fields = {
        {"tools/call", "name"}, {"prompts/get", "name"}, {"resources/read", "uri"},
        {"tasks/get", "taskId"}, {"tasks/update", "taskId"}, {"tasks/cancel", "taskId"}};
    auto it = fields.find(method);
    return it == fields.end() ? nullptr : it->second;
}

}  // namespace

HeaderList modern_headers(const std::string& version, const json& message, const json& input_schema) {
    HeaderList headers = session_headers(version, "");
    const std::string method = message.value("method", "");
    if (method.empty()) return headers;  // an answer: no method to name
    headers.emplace_back(protocol::kHeaderMethod, method);
    const json params = message.value("params", json::object());
    if (const char* field = name_field(method); field && params.is_object() && params.contains(field) && params[field].is_string())
        headers.emplace_back(protocol::kHeaderName, encode_header_value(params[field].get<std::string>()));
    if (method == "tools/call" && input_schema.is_object())
        for (auto& header : param_headers(input_schema, params.value("arguments", json::object()))) headers.push_back(std::move(header));

    return headers;
}

// ---------------------------------------------------------------------------------------------
// Era negotiation

DiscoverVerdict judge_discover(const HttpResponse& response, const json& answer, bool fallback_allowed) {
    DiscoverVerdict verdict;
    auto legacy = [&](std::string reason) {
        verdict.kind = fallback_allowed ? DiscoverVerdict::legacy : DiscoverVerdict::failed;
        verdict.reason = std::move(reason);
        return verdict;
    };
    if (response.status == 401 || response.status == 403 || response.status >= 500) {
        verdict.kind = DiscoverVerdict::failed;
        verdict.reason = "server/discover was answered with HTTP " + std::to_string(response.status);
        return verdict;
    }
    if (answer.is_object() && answer.contains("result") && answer["result"].is_object()) {
        const json& result = answer["result"];
        const json supported = result.value("supportedVersions", json());
        if (!supported.is_array()) return legacy("the server's server/discover result lists no supportedVersions");
        if (std::find(supported.begin(), supported.end(), protocol::kModernVersion) != supported.end()) {
            verdict.kind = DiscoverVerdict::modern;
            verdict.version = protocol::kModernVersion;
            verdict.discover = result;
            return verdict;
        }
        return legacy("the server offers only " + supported.dump());
    }
    if (answer.is_object() && answer.contains("error") && answer["error"].is_object()) {
        const json& error = answer["error"];
        const std::string message = error.value("message", std::string("error"));
        if (error.value("code", 0) == protocol::kUnsupportedProtocolVersion) {
            const json supported = error.value("data", json::object()).value("supported", json());
            if (supported.is_array() && std::find(supported.begin(), supported.end(), protocol::kModernVersion) != supported.end()) {
                verdict.kind = DiscoverVerdict::retry;
                verdict.version = protocol::kModernVersion;
                verdict.reason = message;
                return verdict;
            }
            return legacy("the server supports " + (supported.is_array() ? supported.dump() : std::string("other versions")) + " (" + message + ")");
        }
        return legacy("server/discover: " + message);
    }
    return legacy("server/discover was answered with HTTP " + std::to_string(response.status) + " and no JSON-RPC answer");
}

namespace {

// The answer to request `id` in a JSON or event-stream body; null when there is none. An error
// the server could not tie to the request (id null) still counts: it says what the server speaks.
json answer_in(const HttpResponse& response, const json& id) {
    auto fits = [&](const json& message) {
        return message.is_object() && (message.contains("result") || message.contains("error")) &&
               (message.value("id", json()) == id || (message.contains("error") && message.value("id", json()).is_null()));
    };
    if (is_event_stream(response)) {
        for (std::string line : split(response.body, '\n')) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!starts_with(line, "data:")) continue;
            const json message = json::parse(trim(line.substr(5)), nullptr, false);
            if (fits(message)) return message;
        }
        return nullptr;
    }
    const json message = json::parse(response.body, nullptr, false);
    return fits(message) ? message : json();
}

}  // namespace

DiscoverVerdict probe_discover(const ProbePost& post, const json& capabilities, bool fallback_allowed) {
    std::string version = protocol::kModernVersion;
    DiscoverVerdict verdict;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const json probe = {{"jsonrpc", "2.0"}, {"id", 0}, {"method", "server/discover"}, {"params", with_meta(json::object(), version, capabilities)}};
        const HttpResponse response = post(modern_headers(version, probe), probe.dump());
        verdict = judge_discover(response, answer_in(response, 0), fallback_allowed);
        if (verdict.kind != DiscoverVerdict::retry) return verdict;
        version = verdict.version;  // the server asked for one we speak: once more, with it
    }
    verdict.kind = DiscoverVerdict::failed;
    verdict.reason = "the server refused protocol version " + version + " twice (" + verdict.reason + ")";
    return verdict;
}

// ---------------------------------------------------------------------------------------------
// x-mcp-header

namespace {

bool is_token(const std::string& s) {
    if (s.empty()) return false;
    static const std::string extra = "!#$%&'*+-.^_`|~";
    for (unsigned char c : s)
        if (!std::isalnum(c) || c > 0x7e)
            if (extra.find(static_cast<char>(c)) == std::string::npos) return false;
    return true;
}

struct Declaration {
    std::vector<std::string> path;
    std::string header;
};

// Walks the schema; an annotation is valid only on a property reached through "properties"
// alone. Returns the first fault.
std::optional<std::string> scan(const json& node, std::vector<std::string>& path, bool reachable,
                                std::vector<Declaration>& found, std::map<std::string, std::string>& seen) {
    if (!node.is_object()) return std::nullopt;
    const std::string where = path.empty() ? "<root>" : join(path, ".");
    if (node.contains(protocol::kSchemaHeaderKeyword)) {
        const json& raw = node[protocol::kSchemaHeaderKeyword];
        if (!reachable || path.empty())
            return where + ": x-mcp-header is allowed only on properties reached through 'properties' alone";
        if (!raw.is_string() || raw.get<std::string>().empty()) return where + ": x-mcp-header must be a non-empty string";
        const std::string name = raw.get<std::string>();
        if (!is_token(name)) return where + ": x-mcp-header '" + name + "' is not an RFC 9110 token";
        const std::string type = node.value("type", json()).is_string() ? node["type"].get<std::string>() : "";
        if (type != "string" && type != "integer" && type != "boolean")
            return where + ": x-mcp-header is allowed only on string, integer or boolean properties, not " +
                   (type.empty() ? std::string("<none>") : type);
        const std::string lower = to_lower(name);
        if (seen.count(lower)) return "x-mcp-header '" + name + "' is also declared as '" + seen[lower] + "'";
        seen[lower] = name;
        found.push_back({path, name});
    }
    if (node.contains("properties") && node["properties"].is_object())
        for (auto& [key, child] : node["properties"].items()) {
            path.push_back(key);
            auto fault = scan(child, path, reachable, found, seen);
            path.pop_back();
            if (fault) return fault;
        }
    for (const char* keyword : {"items", "additionalProperties", "not", "if", "then", "else"})
        if (node.contains(keyword)) {
            path.push_back(keyword);
            auto fault = scan(node[keyword], path, false, found, seen);
            path.pop_back();
            if (fault) return fault;
        }
    for (const char* keyword : {"oneOf", "anyOf", "allOf", "prefixItems"})
        if (node.contains(keyword) && node[keyword].is_array())
            for (const auto& child : node[keyword]) {
                path.push_back(keyword);
                auto fault = scan(child, path, false, found, seen);
                path.pop_back();
                if (fault) return fault;
            }
    for (const char* keyword : {"$defs", "definitions"})
        if (node.contains(keyword) && node[keyword].is_object())
            for (auto& [key, child] : node[keyword].items()) {
                path.push_back(std::string(keyword) + "." + key);
                auto fault = scan(child, path, false, found, seen);
                path.pop_back();
                if (fault) return fault;
            }
    return std::nullopt;
}

std::vector<Declaration> declarations_of(const json& input_schema) {
    std::vector<Declaration> found;
    std::vector<std::string> path;
    std::map<std::string, std::string> seen;
    if (scan(input_schema, path, true, found, seen)) return {};
    return found;
}

std::string base64(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

}  // namespace

std::optional<std::string> header_annotation_fault(const json& input_schema) {
    std::vector<Declaration> found;
    std::vector<std::string> path;
    std::map<std::string, std::string> seen;
    return scan(input_schema, path, true, found, seen);
}

std::string encode_header_value(const std::string& value) {
    bool plain = !value.empty() && value == trim(value) && !(starts_with(value, "=?base64?") && ends_with(value, "?="));
    for (unsigned char c : value) plain = plain && c >= 0x20 && c <= 0x7e;
    return plain ? value : "=?base64?" + base64(value) + "?=";
}

HeaderList param_headers(const json& input_schema, const json& arguments) {
    HeaderList headers;
    for (const auto& declaration : declarations_of(input_schema)) {
        const json* value = &arguments;
        for (const auto& key : declaration.path) {
            if (!value->is_object() || !value->contains(key)) {
                value = nullptr;
                break;
            }
            value = &(*value)[key];
        }
        if (!value || value->is_null()) continue;  // the spec: omit the header
        std::string text;
        if (value->is_string()) text = value->get<std::string>();
        else if (value->is_boolean()) text = value->get<bool>() ? "true" : "false";
        else if (value->is_number_integer()) text = value->dump();
        else continue;  // not the declared primitive: left out rather than sent malformed
        headers.emplace_back(protocol::kHeaderParamPrefix + declaration.header, encode_header_value(text));
    }
    return headers;
}

// ---------------------------------------------------------------------------------------------
// Input-required results

bool is_input_required(const json& result) {
    return result.is_object() && result.value("resultType", json()) == protocol::kResultInputRequired;
}

json listen_acknowledgement(const json& listen_id, const json& honored) {
    return {{"jsonrpc", "2.0"},
            {"method", "notifications/subscriptions/acknowledged"},
            {"params", {{"notifications", honored}, {"_meta", {{protocol::kMetaSubscriptionId, listen_id}}}}}};
}

json tagged_for_listener(json notification, const json& listen_id) {
    if (!notification.contains("params") || !notification["params"].is_object()) notification["params"] = json::object();
    json& params = notification["params"];
    if (!params.contains("_meta") || !params["_meta"].is_object()) params["_meta"] = json::object();
    params["_meta"][protocol::kMetaSubscriptionId] = listen_id;
    return notification;
}

bool listener_wants(const json& filter, const json& notification) {
    const json method = notification.value("method", json());
    if (method == "notifications/resources/updated") {
        const json uris = filter.value("resourceSubscriptions", json::array());
        const json uri = notification.contains("params") && notification["params"].is_object() ? notification["params"].value("uri", json()) : json();
        return uris.is_array() && std::find(uris.begin(), uris.end(), uri) != uris.end();
    }
    for (const auto& change : kListChanges)
        if (method == change.notification) return filter.value(change.flag, false) == true;
    return false;
}

bool server_offers(const json& capabilities, const char* capability, const char* feature) {
    return capabilities.is_object() && capabilities.contains(capability) && capabilities[capability].is_object() &&
           capabilities[capability].value(feature, false) == true;
}

json retry_params(json original, const json& responses, const json& request_state) {
    if (!original.is_object()) original = json::object();
    original.erase("inputResponses");
    original.erase("requestState");
    if (responses.is_object() && !responses.empty()) original["inputResponses"] = responses;
    if (!request_state.is_null()) original["requestState"] = request_state;
    return original;
}

// ---------------------------------------------------------------------------------------------
// Roots

json roots_of(const std::vector<std::string>& directories) {
    json roots = json::array();
    for (const auto& directory : directories) {
        char* resolved = ::realpath(directory.c_str(), nullptr);
        if (!resolved) throw InputError("--root " + directory + ": no such directory");
        const std::string path(resolved);
        std::free(resolved);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw InputError("--root " + directory + ": not a directory");
        std::string uri = "file://";
        static const char* hex = "0123456789ABCDEF";
        for (unsigned char c : path) {
            if (std::isalnum(c) || std::string("/-._~").find(static_cast<char>(c)) != std::string::npos) {
                uri += static_cast<char>(c);
            } else {
                uri += '%';
                uri += hex[c >> 4];
                uri += hex[c & 15];
            }
        }
        const auto slash = path.find_last_of('/');
        const std::string name = slash == std::string::npos || slash + 1 == path.size() ? path : path.substr(slash + 1);
        roots.push_back({{"uri", uri}, {"name", name}});
    }
    return roots;
}

}  // namespace mcpmtls::client
