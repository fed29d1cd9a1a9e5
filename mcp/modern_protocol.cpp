#include "mcp/modern_protocol.hpp"

#include <algorithm>

namespace mcpmtls::mcp::modern {
namespace {

using nlohmann::json;
constexpr int kInvalidParamsCode = -32602;  // JSON-RPC Invalid params

Rejection reject(int code, std::string message, json data = nullptr, int status = 400) {
    return Rejection{status, code, std::move(message), std::move(data)};
}

std::optional<std::string> base64_decode(const std::string& text) {
    static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    size_t padding = 0;
    for (char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding) return std::nullopt;  // data after padding
        const auto index = alphabet.find(c);
        if (index == std::string::npos) return std::nullopt;
        buffer = (buffer << 6) | static_cast<uint32_t>(index);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    if (padding > 2 || (text.size() % 4) != 0) return std::nullopt;
    return out;
}

// The string an argument stands for in a header; nullopt for values no header can carry.
std::optional<std::string> header_form(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean() || value.is_number_integer() || value.is_number_unsigned()) return value.dump();
    if (value.is_number_float()) return value.dump();
    return std::nullopt;
}

}  // namespace

bool Envelope::supports(const std::string& capability) const {
    return client_capabilities.is_object() && client_capabilities.contains(capability) && !client_capabilities[capability].is_null();
}

const std::vector<std::string>& stateless_versions() {
    static const std::vector<std::string> versions = {kProtocolVersion};
    return versions;
}

const std::vector<std::string>& all_versions() {
    static const std::vector<std::string> versions = {kProtocolVersion, "2025-11-25", "2025-06-18", "2025-03-26"};
    return versions;
}

bool is_modern(const json& params, const std::string& protocol_header) {
    const auto& stateless = stateless_versions();
    if (std::find(stateless.begin(), stateless.end(), protocol_header) != stateless.end()) return true;
    return params.is_object() && params.contains("_meta") && params["_meta"].is_object() &&
           params["_meta"].contains(kMetaProtocolVersion);
}

std::optional<std::string> decode_header_value(const std::string& value) {
    static const std::string prefix = "=?base64?", suffix = "?=";
    if (value.compare(0, prefix.size(), prefix) != 0) return value;
    if (value.size() < prefix.size() + suffix.size() || value.compare(value.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    return base64_decode(value.substr(prefix.size(), value.size() - prefix.size() - suffix.size()));
}

Checked check_request(const std::string& method, const json& params, bool is_request,
                      const std::function<std::string(const std::string&)>& header) {
    // Keys as std::string, each looked up once: a const char* key costs a strlen at every
    // comparison of the object's map, and these keys share a 24-character prefix.
    static const std::string meta_key = "_meta", version_key = kMetaProtocolVersion, capabilities_key = kMetaClientCapabilities,
                             log_level_key = kMetaLogLevel, progress_key = "progressToken";
    Checked checked;
    const auto meta = params.find(meta_key);  // end() for anything but an object
    const std::string header_version = header("MCP-Protocol-Version");
    // The envelope: present, an object, with its two required keys of the right types.
    if (meta == params.end() || !meta->is_object()) {
        checked.rejection = reject(kInvalidParamsCode, "Invalid params: params._meta is required (the request envelope of MCP " +
                                                           std::string(kProtocolVersion) + ")");
        return checked;
    }
    const auto version_entry = meta->find(version_key), capabilities = meta->find(capabilities_key);
    if (version_entry == meta->end() || capabilities == meta->end()) {
        std::string names = version_entry == meta->end() ? version_key : "";
        if (capabilities == meta->end()) names += (names.empty() ? "" : ", ") + capabilities_key;
        checked.rejection = reject(kInvalidParamsCode, "Invalid params: missing _meta keys: " + names);
        return checked;
    }
    if (!version_entry->is_string()) {
        checked.rejection = reject(kInvalidParamsCode, "Invalid params: _meta." + version_key + " must be a string");
        return checked;
    }
    if (!capabilities->is_object()) {
        checked.rejection = reject(kInvalidParamsCode, "Invalid params: _meta." + capabilities_key + " must be an object");
        return checked;
    }
    const std::string& version = version_entry->get_ref<const std::string&>();
    if (header_version.empty()) {
        checked.rejection = reject(kHeaderMismatch, "Missing MCP-Protocol-Version header");
        return checked;
    }
    if (header_version != version) {
        checked.rejection = reject(kHeaderMismatch, "MCP-Protocol-Version header '" + header_version +
                                                        "' does not match _meta protocolVersion '" + version + "'");
        return checked;
    }
    const auto& stateless = stateless_versions();
    if (std::find(stateless.begin(), stateless.end(), version) == stateless.end()) {
        checked.rejection = reject(kUnsupportedProtocolVersion, "Unsupported protocol version '" + version + "'",
                                   {{"supported", all_versions()}, {"requested", version}});
        return checked;
    }
    Envelope envelope;
    envelope.protocol_version = version;
    envelope.client_capabilities = *capabilities;
    if (const auto level_entry = meta->find(log_level_key); level_entry != meta->end()) {
        const auto level = level_entry->is_string() ? parse_log_level(level_entry->get_ref<const std::string&>()) : std::nullopt;
        if (!level) {
            checked.rejection = reject(kInvalidParamsCode, "Invalid params: _meta." + log_level_key + " is not a log level");
            return checked;
        }
        envelope.log_level = level;
    }
    if (const auto token = meta->find(progress_key); token != meta->end() && (token->is_string() || token->is_number_integer()))
        envelope.progress_token = *token;

    if (is_request) {
        const std::string method_header = header("Mcp-Method");
        if (method_header.empty()) {
            checked.rejection = reject(kHeaderMismatch, "Missing Mcp-Method header");
            return checked;
        }
        if (method_header != method) {
            checked.rejection = reject(kHeaderMismatch, "Mcp-Method header '" + method_header + "' does not match the method '" + method + "'");
            return checked;
        }
        static const std::string name_key = "name", uri_key = "uri";
        const std::string* name_field = method == "tools/call" || method == "prompts/get" ? &name_key
                                        : method == "resources/read"                     ? &uri_key
                                                                                         : nullptr;
        const auto named = name_field ? params.find(*name_field) : params.end();
        if (named != params.end() && named->is_string()) {
            const std::string raw = header("Mcp-Name");
            if (raw.empty()) {
                checked.rejection = reject(kHeaderMismatch, "Missing Mcp-Name header");
                return checked;
            }
            const auto name = decode_header_value(raw);
            if (!name || *name != named->get_ref<const std::string&>()) {
                checked.rejection = reject(kHeaderMismatch, "Mcp-Name header does not match params." + *name_field);
                return checked;
            }
        }
    }
    checked.envelope = std::move(envelope);
    return checked;
}

std::optional<Rejection> check_param_headers(const json& input_schema, const json& arguments,
                                             const std::function<std::string(const std::string&)>& header) {
    if (!input_schema.is_object() || !input_schema.contains("properties") || !input_schema["properties"].is_object()) return std::nullopt;
    for (auto it = input_schema["properties"].begin(); it != input_schema["properties"].end(); ++it) {
        const json& property = it.value();
        if (!property.is_object() || !property.contains("x-mcp-header") || !property["x-mcp-header"].is_string()) continue;
        const std::string name = "Mcp-Param-" + property["x-mcp-header"].get<std::string>();
        const std::string raw = header(name);
        const json value = arguments.is_object() && arguments.contains(it.key()) ? arguments[it.key()] : json();
        const auto expected = value.is_null() ? std::nullopt : header_form(value);
        if (!expected) {
            if (!raw.empty()) return reject(kHeaderMismatch, name + " header given, but the argument '" + it.key() + "' is absent");
            continue;
        }
        if (raw.empty()) return reject(kHeaderMismatch, "Missing " + name + " header (argument '" + it.key() + "')");
        const auto decoded = decode_header_value(raw);
        if (!decoded) return reject(kHeaderMismatch, name + " header is not a valid =?base64?...?= value");
        if (*decoded != *expected) return reject(kHeaderMismatch, name + " header does not match the argument '" + it.key() + "'");
    }
    return std::nullopt;
}

}  // namespace mcpmtls::mcp::modern
