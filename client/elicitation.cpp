#include "client/elicitation.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

#include <istream>
#include <ostream>

namespace mcpmtls::client {

using nlohmann::json;

namespace {

bool required(const json& schema, const std::string& name) {
    const json list = schema.value("required", json::array());
    return list.is_array() && std::find(list.begin(), list.end(), name) != list.end();
}

// A typed value from what the person typed, or null when it does not fit the property.
json typed_answer(const std::string& text, const json& property) {
    const std::string type = property.value("type", "string");
    if (type == "boolean") {
        const std::string v = to_lower(trim(text));
        if (v == "y" || v == "yes" || v == "true" || v == "1") return true;
        if (v == "n" || v == "no" || v == "false" || v == "0") return false;
        return nullptr;
    }
    if (type == "integer" || type == "number") {
        json parsed = json::parse(trim(text), nullptr, false);
        if (parsed.is_discarded() || !parsed.is_number() || (type == "integer" && !parsed.is_number_integer())) return nullptr;
        return parsed;
    }
    if (type == "array") {  // multi-select: comma-separated values
        json values = json::array();
        for (const auto& part : split(text, ',')) values.push_back(trim(part));
        return values;
    }
    if (property.contains("enum") && property["enum"].is_array()) {
        for (const auto& option : property["enum"])
            if (option == trim(text)) return option;
        return nullptr;
    }
    if (property.contains("oneOf") && property["oneOf"].is_array()) {
        for (const auto& option : property["oneOf"])
            if (option.value("const", json()) == trim(text)) return option["const"];
        return nullptr;
    }
    return text;
}

json accept_defaults(const json& schema) {
    json content = json::object();
    const json properties = schema.value("properties", json::object());
    for (auto it = properties.begin(); it != properties.end(); ++it) {
        if (it.value().is_object() && it.value().contains("default")) content[it.key()] = it.value()["default"];
        else if (required(schema, it.key())) return {{"action", "decline"}};  // nothing to give
    }
    return {{"action", "accept"}, {"content", content}};
}

json ask_person(const json& params, std::istream& in, std::ostream& out) {
    const json schema = params.value("requestedSchema", json::object());
    const json properties = schema.value("properties", json::object());
    out << "The server asks: " << params.value("message", std::string("(no message)")) << "\n";
    json content = json::object();
    for (auto it = properties.begin(); it != properties.end(); ++it) {
        const json& property = it.value();
        const bool has_default = property.is_object() && property.contains("default");
        for (;;) {
            out << "  " << it.key();
            if (property.contains("description")) out << " (" << property.value("description", "") << ")";
            if (property.contains("enum")) out << " one of " << property["enum"].dump();
            if (has_default) out << " [" << property["default"].dump() << "]";
            out << ": " << std::flush;
            std::string line;
            if (!std::getline(in, line)) return {{"action", "cancel"}};
            if (trim(line).empty()) {
                if (has_default) content[it.key()] = property["default"];
                if (has_default || !required(schema, it.key())) break;
                out << "  (required)\n";
                continue;
            }
            json value = typed_answer(line, property);
            if (!value.is_null()) {
                content[it.key()] = value;
                break;
            }
            out << "  (expected " << property.value("type", "text") << ")\n";
        }
    }
    out << "Send this answer? [Y/n] " << std::flush;
    std::string confirm;
    if (!std::getline(in, confirm)) return {{"action", "cancel"}};
    if (to_lower(trim(confirm)).rfind('n', 0) == 0) return {{"action", "decline"}};
    return {{"action", "accept"}, {"content", content}};
}

}  // namespace

ElicitMode parse_elicit_mode(const std::string& text) {
    if (text == "defaults") return ElicitMode::defaults;
    if (text == "decline") return ElicitMode::decline;
    if (text == "ask") return ElicitMode::ask;
    throw InputError("--elicit takes defaults, decline or ask, not '" + text + "'");
}

json answer_elicitation(ElicitMode mode, const json& params, std::istream& in, std::ostream& out) {
    switch (mode) {
        case ElicitMode::defaults: return accept_defaults(params.value("requestedSchema", json::object()));
        case ElicitMode::ask: return ask_person(params, in, out);
        case ElicitMode::decline: break;
    }
    return {{"action", "decline"}};
}

}  // namespace mcpmtls::client
