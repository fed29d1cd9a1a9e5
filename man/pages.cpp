#include "man/pages.hpp"

#include "client/cli.hpp"
#include "client/cli/commands.hpp"
#include "pki/cli/commands.hpp"
#include "services/pki_serve.hpp"
#include "server/server_settings.hpp"
#include "services/echo_tools.hpp"

#include <set>
#include <stdexcept>
#include <vector>

namespace mcpmtls::man {
namespace {

// Text as roff reads it literally: backslashes and hyphens escaped, no line opening a request.
std::string roff(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
    return out;
}

std::string value_name(const Option& option) {
    if (!option.metavar().empty()) return option.metavar();
    std::string choices;
    for (const auto& c : option.choices()) choices += (choices.empty() ? "" : "|") + c;
    return choices.empty() ? "VALUE" : choices;
}

// One row as a tagged paragraph: the flag, its help, then what --help shows in brackets
// (range, default, repeatable, aliases) and the --config key.
std::string option_entry(const Option& option) {
    std::string out = ".TP\n";
    out += option.takes_value() ? ".BI " + roff("--" + option.name()) + " \" " + roff(value_name(option)) + "\"\n"
                                : ".B " + roff("--" + option.name()) + "\n";
    std::string text = roff(option.help());
    std::vector<std::string> notes;
    if (!option.choices().empty() && !option.metavar().empty()) {
        std::string choices;
        for (const auto& c : option.choices()) choices += (choices.empty() ? "" : ", ") + ("\\fB" + roff(c) + "\\fR");
        notes.push_back("one of " + choices);
    }
    if (option.kind() == Option::Kind::integer)
        notes.push_back(std::to_string(option.min()) + " to " + std::to_string(option.max()));
    if (option.default_value() && !option.default_value()->empty() && option.kind() != Option::Kind::flag)
        notes.push_back("default \\fB" + roff(*option.default_value()) + "\\fR");
    if (option.kind() == Option::Kind::list) notes.push_back("repeatable");
    if (option.is_required()) notes.push_back("required");
    for (const auto& alias : option.aliases()) notes.push_back("also \\fB" + roff("--" + alias) + "\\fR");
    if (!option.config_key().empty()) notes.push_back("\\fB\\-\\-config\\fR key \\fB" + roff(option.config_key()) + "\\fR");
    std::string joined;
    for (const auto& n : notes) joined += (joined.empty() ? "" : "; ") + n;
    return out + text + (joined.empty() ? "" : " (" + joined + ")") + ".\n";
}

std::string option_list(const std::vector<Option>& options) {
    std::string out;
    for (const auto& option : options)
        if (!option.config_only()) out += option_entry(option);
    return out;
}

// The keys of a --config file: every configurable row, with its JSON type.
std::string config_keys(const std::vector<Option>& options) {
    std::string out =
        "A \\fB\\-\\-config\\fR file is a JSON object with any of these keys; a flag on the command line wins over\n"
        "the file, and an unknown key (the nearest known one is suggested), a value of the wrong type or a file\n"
        "that is not JSON (its line and column are named) is a usage error, exit 2.\n";
    for (const auto& option : options) {
        if (option.config_key().empty()) continue;
        static const char* types[] = {"true or false", "a string", "a whole number", "a list of strings", "JSON"};
        out += ".TP\n\\fB" + roff(option.config_key()) + "\\fR (" + types[static_cast<int>(option.kind())] + ")\n";
        out += option.config_only() ? roff(option.help()) + ".\n" : "as \\fB" + roff("--" + option.name()) + "\\fR.\n";
    }
    return out;
}

// "Exit codes: 0 success, 1 ..., 2 ...": the line every program's --help ends with, as a table.
std::string exit_status(const std::string& help_text) {
    const std::string prefix = "Exit codes: ";
    const auto at = help_text.find(prefix);
    if (at == std::string::npos) throw std::runtime_error("no 'Exit codes:' line in --help");
    std::string line = help_text.substr(at + prefix.size());
    line = line.substr(0, line.find('\n'));
    if (!line.empty() && line.back() == '.') line.pop_back();
    std::string out;
    size_t start = 0;
    while (start < line.size()) {
        size_t next = start;
        do next = line.find(", ", next + 1);
        while (next != std::string::npos && !(next + 3 < line.size() && std::isdigit(static_cast<unsigned char>(line[next + 2])) &&
                                               line[next + 3] == ' '));
        const std::string entry = line.substr(start, next == std::string::npos ? std::string::npos : next - start);
        const auto space = entry.find(' ');
        out += ".TP\n.B " + entry.substr(0, space) + "\n" + roff(entry.substr(space + 1)) + ".\n";
        start = next == std::string::npos ? line.size() : next + 2;
    }
    return out;
}

std::vector<Option> own_rows(const ArgSpec& spec, const std::vector<Option>& global) {
    std::set<std::string> shared;
    for (const auto& option : global) shared.insert(option.name());
    std::vector<Option> own;
    for (const auto& option : spec.options())
        if (!shared.count(option.name())) own.push_back(option);
    return own;
}

const char* const kConfigEntry = ".TP\n.BI \\-\\-config \" FILE\"\nread settings from a JSON file (its keys are listed below; flags win).\n";
const char* const kHelpEntries = ".TP\n.B \\-\\-help\nprint the usage and every option, and exit.\n";

}  // namespace

std::map<std::string, std::map<std::string, std::string>> generated_parts() {
    std::map<std::string, std::map<std::string, std::string>> pages;

    const auto client = client::cli::registry();
    const auto global = client::cli::global_options();
    std::string options = ".SS Global options (any command, before or after it)\n" + option_list(global) + kConfigEntry + kHelpEntries;
    for (const auto& command : client.commands()) {
        const auto own = own_rows(client.spec_of(command), global);
        if (own.empty()) continue;
        options += ".SS client " + roff(command.name) + "\n" + option_list(own);
    }
    pages["client.1"]["OPTIONS"] = options;
    pages["client.1"]["CONFIG KEYS"] = config_keys(global);
    pages["client.1"]["EXIT STATUS"] = exit_status(client.overview());

    const auto pki = services::pki_registry();
    std::string pki_options;
    for (const auto& command : pki.commands()) {
        const auto spec = pki.spec_of(command);
        pki_options += ".SS pki " + roff(command.name) + "\n" + option_list(spec.options());
    }
    pages["pki.1"]["OPTIONS"] = pki_options + ".SS every command\n" + kHelpEntries;
    pages["pki.1"]["EXIT STATUS"] = exit_status(pki.overview());

    const auto server = server::server_settings(services::echo_server());
    pages["mcp-servers.8"]["OPTIONS"] = option_list(server.options()) + kConfigEntry + kHelpEntries;
    pages["mcp-servers.8"]["CONFIG KEYS"] = config_keys(server.options());
    pages["mcp-servers.8"]["EXIT STATUS"] = exit_status(server.help());
    return pages;
}

std::string refresh(const std::string& page_text, const std::map<std::string, std::string>& parts) {
    std::string text = page_text;
    for (const auto& [name, body] : parts) {
        const std::string begin = ".\\\" BEGIN GENERATED " + name + " (make man)\n", end = ".\\\" END GENERATED " + name + "\n";
        const auto from = text.find(begin);
        const auto to = from == std::string::npos ? std::string::npos : text.find(end, from);
        if (to == std::string::npos) throw std::runtime_error("no markers for the generated part " + name);
        text = text.substr(0, from + begin.size()) + body + text.substr(to);
    }
    return text;
}

}  // namespace mcpmtls::man
