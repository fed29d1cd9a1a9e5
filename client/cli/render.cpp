// What several client commands print or parse: a tool's signature, a result's text, arguments
// typed by a tool's input schema.
#include "client/cli/commands.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::client::cli {

using nlohmann::json;

// "NAME(arg: type, opt?: type)" from an input schema.
std::string signature_of(const json& tool) {
    std::string out = tool.value("name", "?") + "(";
    const json schema = tool.value("inputSchema", json::object());
    const json props = schema.value("properties", json::object());
    const json required = schema.value("required", json::array());
    bool first = true;
    for (auto it = props.begin(); it != props.end(); ++it) {
        bool is_required = std::find(required.begin(), required.end(), it.key()) != required.end();
        out += (first ? "" : ", ") + it.key() + (is_required ? "" : "?") + ": " + it.value().value("type", "any");
        if (it.value().contains("minimum") && it.value().contains("maximum"))
            out += " " + it.value()["minimum"].dump() + ".." + it.value()["maximum"].dump();
        first = false;
    }
    return out + ")";
}

std::string text_of(const json& result) {
    std::string text;
    for (const auto& block : result.value("content", json::array()))
        if (block.value("type", "") == "text") text += (text.empty() ? "" : "\n") + block.value("text", "");
    if (text.empty() && result.contains("structuredContent")) text = result["structuredContent"].dump(2);
    return text;
}

json typed_value(const std::string& key, const std::string& raw, const json& property) {
    const std::string type = property.is_object() ? property.value("type", "") : "";
    auto bad = [&](const std::string& what) { return InputError("argument " + key + "=" + raw + ": expected " + what); };
    if (type == "string") return raw;
    if (type == "integer") {
        try {
            size_t used = 0;
            long long v = std::stoll(raw, &used);
            if (used != raw.size()) throw bad("an integer");
            return v;
        } catch (const std::logic_error&) {
            throw bad("an integer");
        }
    }
    if (type == "number") {
        try {
            size_t used = 0;
            double v = std::stod(raw, &used);
            if (used != raw.size()) throw bad("a number");
            return v;
        } catch (const std::logic_error&) {
            throw bad("a number");
        }
    }
    if (type == "boolean") {
        std::string v = to_lower(raw);
        if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
        if (v == "false" || v == "no" || v == "0" || v == "off") return false;
        throw bad("true or false");
    }
    if (type == "object" || type == "array") {
        json parsed = json::parse(raw, nullptr, false);
        if (parsed.is_discarded()) throw bad("JSON");
        return parsed;
    }
    json parsed = json::parse(raw, nullptr, false);  // untyped: JSON if it parses, else text
    return parsed.is_discarded() ? json(raw) : parsed;
}

json arguments_for(const json& tool, const std::vector<std::string>& pairs) {
    const json props = tool.value("inputSchema", json::object()).value("properties", json::object());
    json arguments = json::object();
    for (const auto& pair : pairs) {
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("tool arguments are key=value, not '" + pair + "'");
        const std::string key = pair.substr(0, eq);
        if (!props.empty() && !props.contains(key)) {
            std::string known;
            for (auto it = props.begin(); it != props.end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
            throw InputError("tool " + tool.value("name", "") + " has no argument '" + key + "' (it takes: " + known + ")");
        }
        arguments[key] = typed_value(key, pair.substr(eq + 1), props.contains(key) ? props[key] : json());
    }
    // A missing required argument is a usage error like an unknown one (exit 2), found here
    // rather than by the server, whose refusal would be a tool failure (exit 1).
    const json required = tool.value("inputSchema", json::object()).value("required", json::array());
    std::string missing;
    for (const auto& name : required)
        if (name.is_string() && !arguments.contains(name.get<std::string>()))
            missing += (missing.empty() ? "'" : ", '") + name.get<std::string>() + "'";
    if (!missing.empty())
        throw InputError("tool " + tool.value("name", "") + " needs " + missing + " (give " +
                         (missing.find(',') == std::string::npos ? "it" : "them") + " as key=value)");
    return arguments;
}

ProgressHandler progress_on_stderr(const std::string& server, const std::string& tool) {
    return [prefix = "client: " + server + "/" + tool + ": "](const json& progress) {
        auto number = [](const json& value) {
            const double v = value.is_number() ? value.get<double>() : 0;
            return v == static_cast<double>(static_cast<long long>(v)) ? std::to_string(static_cast<long long>(v)) : value.dump();
        };
        std::string line = prefix + number(progress.value("progress", json(0)));
        if (progress.contains("total")) line += " of " + number(progress["total"]);
        if (progress.contains("message") && progress["message"].is_string()) line += " (" + progress["message"].get<std::string>() + ")";
        std::cerr << line + "\n";
    };
}

int with_coordinator(const Args& args, const std::function<int(Coordinator&)>& body) {
    CoordinatorOptions options = coordinator_options(args);
    // A one-shot command renews first when its certificate is due; a failure is a WARNING and
    // the command goes on with the certificate it has.
    if (auto renewal = client_renewal(args, options.tls)) renewal->renew_if_due();
    Coordinator coordinator(std::move(options));
    const int status = body(coordinator);
    coordinator.close_all();
    return status;
}

}  // namespace mcpmtls::client::cli
