#include "mcp/json_schema.hpp"

#include "common/strings.hpp"

namespace mcpmtls::mcp {
namespace {

using nlohmann::json;

bool has_type(const json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "integer") return value.is_number_integer() || (value.is_number_float() && value.get<double>() == static_cast<double>(static_cast<long long>(value.get<double>())));
    if (type == "number") return value.is_number();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    return true;  // unknown type names do not constrain
}

std::string describe(const std::string& path) { return path.empty() ? "arguments" : "argument '" + path + "'"; }

// The schema a local reference ("#/$defs/address", "#/definitions/x") points to, or null.
const json* resolve(const json& root, const std::string& ref) {
    if (ref.rfind("#/", 0) != 0) return nullptr;
    const json* at = &root;
    for (const auto& token : split(ref.substr(2), '/')) {
        std::string key = token;  // JSON Pointer escapes: ~1 is '/', ~0 is '~'
        for (size_t i; (i = key.find("~1")) != std::string::npos;) key.replace(i, 2, "/");
        for (size_t i; (i = key.find("~0")) != std::string::npos;) key.replace(i, 2, "~");
        if (!at->is_object() || !at->contains(key)) return nullptr;
        at = &(*at)[key];
    }
    return at;
}

std::optional<std::string> check(const json& root, const json& schema, const json& value, const std::string& path, int depth);

// anyOf / oneOf / allOf: how many of the subschemas `value` satisfies, and the first failure.
std::pair<size_t, std::optional<std::string>> count_matches(const json& root, const json& list, const json& value,
                                                            const std::string& path, int depth) {
    size_t matched = 0;
    std::optional<std::string> first_problem;
    for (const auto& sub : list) {
        auto problem = check(root, sub, value, path, depth + 1);
        if (!problem) ++matched;
        else if (!first_problem) first_problem = problem;
    }
    return {matched, first_problem};
}

std::optional<std::string> check(const json& root, const json& schema, const json& value, const std::string& path, int depth) {
    if (!schema.is_object()) return std::nullopt;
    // A reference cycle ({"$ref": "#"} inside itself) must end: deep enough is no constraint.
    if (depth > 32) return std::nullopt;
    if (schema.contains("$ref") && schema["$ref"].is_string()) {
        const json* target = resolve(root, schema["$ref"].get<std::string>());
        if (target)
            if (auto problem = check(root, *target, value, path, depth + 1)) return problem;
    }
    if (schema.contains("const") && schema["const"] != value) return describe(path) + " must be " + schema["const"].dump();
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
        if (!schema.contains(keyword) || !schema[keyword].is_array() || schema[keyword].empty()) continue;
        const auto [matched, problem] = count_matches(root, schema[keyword], value, path, depth);
        const std::string name = keyword;
        if (name == "allOf" && matched != schema[keyword].size()) return problem;
        if (name == "anyOf" && matched == 0) return problem;
        if (name == "oneOf" && matched != 1)
            return matched == 0 ? problem : describe(path) + " matches more than one of the allowed forms";
    }
    if (schema.contains("type")) {
        const json& type = schema["type"];
        bool ok = false;
        if (type.is_string()) ok = has_type(value, type.get<std::string>());
        else if (type.is_array())
            for (const auto& t : type) ok = ok || (t.is_string() && has_type(value, t.get<std::string>()));
        else ok = true;
        if (!ok) return describe(path) + " must be of type " + (type.is_string() ? type.get<std::string>() : type.dump());
    }
    if (schema.contains("enum") && schema["enum"].is_array()) {
        bool found = false;
        for (const auto& option : schema["enum"]) found = found || option == value;
        if (!found) return describe(path) + " must be one of " + schema["enum"].dump();
    }
    if (value.is_number()) {
        const double v = value.get<double>();
        if (schema.contains("minimum") && schema["minimum"].is_number() && v < schema["minimum"].get<double>())
            return describe(path) + " must be at least " + schema["minimum"].dump();
        if (schema.contains("maximum") && schema["maximum"].is_number() && v > schema["maximum"].get<double>())
            return describe(path) + " must be at most " + schema["maximum"].dump();
    }
    if (value.is_string()) {
        // Length in code points, as JSON Schema counts it.
        const auto& s = value.get_ref<const std::string&>();
        size_t length = 0;
        for (unsigned char c : s) length += (c & 0xC0) != 0x80;
        if (schema.contains("minLength") && schema["minLength"].is_number_integer() &&
            static_cast<long long>(length) < schema["minLength"].get<long long>())
            return describe(path) + " must be at least " + schema["minLength"].dump() + " characters";
        if (schema.contains("maxLength") && schema["maxLength"].is_number_integer() &&
            static_cast<long long>(length) > schema["maxLength"].get<long long>())
            return describe(path) + " must be at most " + schema["maxLength"].dump() + " characters";
    }
    if (value.is_array()) {
        if (schema.contains("minItems") && schema["minItems"].is_number_integer() &&
            static_cast<long long>(value.size()) < schema["minItems"].get<long long>())
            return describe(path) + " must have at least " + schema["minItems"].dump() + " items";
        if (schema.contains("maxItems") && schema["maxItems"].is_number_integer() &&
            static_cast<long long>(value.size()) > schema["maxItems"].get<long long>())
            return describe(path) + " must have at most " + schema["maxItems"].dump() + " items";
        if (schema.contains("items") && schema["items"].is_object())
            for (size_t i = 0; i < value.size(); ++i)
                if (auto error = check(root, schema["items"], value[i], path + "[" + std::to_string(i) + "]", depth + 1)) return error;
    }
    if (value.is_object()) {
        const json properties = schema.value("properties", json::object());
        if (schema.contains("required") && schema["required"].is_array())
            for (const auto& name : schema["required"])
                if (name.is_string() && !value.contains(name.get<std::string>()))
                    return "missing required argument '" + (path.empty() ? "" : path + ".") + name.get<std::string>() + "'";
        const bool closed = schema.contains("additionalProperties") && schema["additionalProperties"] == false;
        for (auto it = value.begin(); it != value.end(); ++it) {
            const std::string child = path.empty() ? it.key() : path + "." + it.key();
            if (properties.contains(it.key())) {
                if (auto error = check(root, properties[it.key()], it.value(), child, depth + 1)) return error;
            } else if (closed) {
                return "unknown argument '" + child + "'";
            }
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_arguments(const nlohmann::json& schema, const nlohmann::json& value) {
    return check(schema, schema, value, "", 0);
}

nlohmann::json object_schema(nlohmann::json properties, const std::vector<std::string>& required, bool closed) {
    nlohmann::json schema = {{"type", "object"}, {"properties", std::move(properties)}};
    if (!required.empty()) schema["required"] = required;
    if (closed) schema["additionalProperties"] = false;
    return schema;
}

}  // namespace mcpmtls::mcp
