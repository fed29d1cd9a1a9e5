#include "common/options.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/fuzzy.hpp"
#include "common/strings.hpp"

#include <algorithm>
#include <cctype>

namespace mcpmtls {
namespace {

using nlohmann::json;

std::string key_of(const std::string& name) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    return key;
}

std::string whole_number_error(const std::string& what, const std::string& text) {
    return what + " needs a whole number, got '" + text + "'";
}

std::string range_error(const std::string& what, const Option& option) {
    return what + " must be between " + std::to_string(option.min()) + " and " + std::to_string(option.max());
}

// A value typed on the command line, checked against its row.
void check_text_value(const Option& option, const std::string& what, const std::string& value) {
    if (option.kind() == Option::Kind::integer) {
        if (value.empty() || value.size() > 12 ||
            !std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); }))
            throw InputError(whole_number_error(what, value));
        const long number = std::stol(value);
        if (number < option.min() || number > option.max()) throw InputError(range_error(what, option));
    }
    if (!option.choices().empty() &&
        std::find(option.choices().begin(), option.choices().end(), value) == option.choices().end())
        throw InputError(what + " must be " + join(option.choices(), " or ") + ", not '" + value + "'");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Option rows

Option::Option(Kind kind, std::string name, std::string metavar, std::string help)
    : kind_(kind), name_(std::move(name)), metavar_(std::move(metavar)), help_(std::move(help)) {}

Option Option::flag(std::string name, std::string help) { return Option(Kind::flag, std::move(name), "", std::move(help)); }

Option Option::text(std::string name, std::string metavar, std::string help) {
    return Option(Kind::text, std::move(name), std::move(metavar), std::move(help));
}

Option Option::integer(std::string name, std::string metavar, long min, long max, std::string help) {
    Option option(Kind::integer, std::move(name), std::move(metavar), std::move(help));
    option.min_ = min;
    option.max_ = max;
    return option;
}

Option Option::list(std::string name, std::string metavar, std::string help) {
    return Option(Kind::list, std::move(name), std::move(metavar), std::move(help));
}

Option Option::json(std::string key, std::string help) {
    Option option(Kind::json, key, "JSON", std::move(help));
    option.config_key_ = std::move(key);
    return option;
}

Option& Option::fallback(std::string value) {
    default_ = std::move(value);
    return *this;
}

Option& Option::fallback(long value) { return fallback(std::to_string(value)); }

Option& Option::one_of(std::vector<std::string> choices) {
    choices_ = std::move(choices);
    if (metavar_.empty() || metavar_ == "WORD") metavar_ = join(choices_, "|");
    return *this;
}

Option& Option::configurable(std::string key) {
    config_key_ = key.empty() ? key_of(name_) : std::move(key);
    return *this;
}

Option& Option::alias(std::string name) {
    aliases_.push_back(std::move(name));
    return *this;
}

Option& Option::required() {
    required_ = true;
    return *this;
}

// ---------------------------------------------------------------------------------------------
// Parsed values

const Args::Value* Args::find(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
}

bool Args::given(const std::string& name) const {
    const Value* value = find(name);
    return value && value->given;
}

bool Args::flag(const std::string& name) const {
    const Value* value = find(name);
    return value && !value->texts.empty();
}

std::string Args::text(const std::string& name) const {
    const Value* value = find(name);
    return value && !value->texts.empty() ? value->texts.back() : "";
}

long Args::integer(const std::string& name) const {
    const std::string value = text(name);
    return value.empty() ? 0 : std::stol(value);
}

std::vector<std::string> Args::list(const std::string& name) const {
    const Value* value = find(name);
    return value ? value->texts : std::vector<std::string>{};
}

const nlohmann::json& Args::json(const std::string& name) const {
    static const nlohmann::json none;
    const Value* value = find(name);
    return value ? value->json : none;
}

// ---------------------------------------------------------------------------------------------
// The table

ArgSpec::ArgSpec(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

ArgSpec& ArgSpec::add(Option option) {
    options_.push_back(std::move(option));
    return *this;
}

ArgSpec& ArgSpec::add(const std::vector<Option>& options) {
    for (const auto& option : options) add(option);
    return *this;
}

ArgSpec& ArgSpec::positional(std::string name, bool required) {
    positionals_.push_back({std::move(name), required, false});
    return *this;
}

ArgSpec& ArgSpec::more_positionals(std::string name, bool at_least_one) {
    positionals_.push_back({std::move(name), at_least_one, true});
    return *this;
}

ArgSpec& ArgSpec::config_file(std::string help) {
    has_config_ = true;
    return add(Option::text("config", "FILE", std::move(help)));
}

ArgSpec& ArgSpec::version_flag() { return add(Option::flag("version", "print the version")); }

ArgSpec& ArgSpec::stop_at_first_positional() {
    stop_at_positional_ = true;
    return *this;
}

ArgSpec ArgSpec::with_program(std::string program) const {
    ArgSpec copy = *this;
    copy.program_ = std::move(program);
    return copy;
}

ArgSpec ArgSpec::with_description(std::string description) const {
    ArgSpec copy = *this;
    copy.description_ = std::move(description);
    return copy;
}

ArgSpec ArgSpec::with_global(const std::vector<Option>& rows, const std::string& config_help) const {
    ArgSpec combined = *this;
    combined.options_ = rows;
    if (!config_help.empty()) {
        combined.options_.push_back(Option::text("config", "FILE", config_help));
        combined.has_config_ = true;
    }
    combined.global_rows_ = combined.options_.size();
    combined.options_.insert(combined.options_.end(), options_.begin(), options_.end());
    return combined;
}

const Option* ArgSpec::find(const std::string& name) const {
    for (const auto& option : options_) {
        if (option.config_only()) continue;
        if (option.name() == name) return &option;
        for (const auto& alias : option.aliases())
            if (alias == name) return &option;
    }
    return nullptr;
}

Args ArgSpec::parse(const std::vector<std::string>& argv) const {
    Args args = parse_words(argv);
    if (has_config_ && args.given("config") && !args.help_requested()) {
        const std::string path = args.text("config");
        apply_config(args, read_file(path), path);
    }
    finish(args);
    return args;
}

Args ArgSpec::parse(const std::vector<std::string>& argv, const std::string& config_text, const std::string& config_name) const {
    Args args = parse_words(argv);
    if (!args.help_requested() && (!config_text.empty() || (has_config_ && args.given("config"))))
        apply_config(args, config_text, config_name);
    finish(args);
    return args;
}

Args ArgSpec::parse_words(const std::vector<std::string>& argv) const {
    Args args;
    std::map<std::string, std::string> spelled;  // setting -> the flag name used for it
    bool only_positionals = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& word = argv[i];
        if (only_positionals || word.size() < 2 || word[0] != '-' || word == "-") {
            args.positionals_.push_back(word);
            if (stop_at_positional_) only_positionals = true;
            continue;
        }
        if (word == "--") {
            only_positionals = true;
            continue;
        }
        if (word == "--help" || word == "-h") {
            args.help_ = true;
            continue;
        }
        std::string name = word.substr(starts_with(word, "--") ? 2 : 1);
        std::string value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        const Option* option = find(name);
        if (!option) throw InputError("unknown flag --" + name + " (see --help)");
        if (option->name() == "version") args.version_ = true;
        auto [previous, first] = spelled.emplace(option->name(), name);
        if (!first && previous->second != name)
            throw InputError("--" + previous->second + " and --" + name + " are the same setting; give one");
        Args::Value& slot = args.values_[option->name()];
        slot.given = true;
        if (!option->takes_value()) {
            if (inline_value) throw InputError("--" + name + " takes no value");
            slot.texts = {"1"};
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argv.size()) throw InputError("--" + name + " needs a value (" + option->metavar() + ")");
            value = argv[++i];
        }
        if (option->kind() != Option::Kind::list && !slot.texts.empty()) throw InputError("--" + name + " given twice");
        check_text_value(*option, "--" + name, value);
        slot.texts.push_back(value);
    }
    return args;
}

namespace {

// "SOURCE: JSON parse error at line L, column C (...)": where an editor can jump to.
[[noreturn]] void throw_parse_error(const std::string& source, const std::string& text, const json::parse_error& e) {
    // nlohmann counts bytes read, the offending one included; lines and columns from 1.
    const size_t at = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
    const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
    const size_t newline = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
    const size_t column = at - (newline == std::string::npos ? 0 : newline + 1) + 1;
    std::string what = e.what();
    const auto detail = what.find("syntax error");
    throw InputError(source + ": JSON parse error at line " + std::to_string(line) + ", column " + std::to_string(column) +
                     (detail == std::string::npos ? "" : " (" + what.substr(detail) + ")"));
}

}  // namespace

void ArgSpec::apply_config(Args& args, const std::string& text, const std::string& source) const {
    json file;
    try {
        file = json::parse(text);
    } catch (const json::parse_error& e) {
        throw_parse_error(source, text, e);
    } catch (const json::exception& e) {
        // Well-formed but unrepresentable, e.g. a number beyond double's range (nlohmann's 406).
        std::string what = e.what();
        if (const auto tag_end = what.find("] "); what.rfind("[json.", 0) == 0 && tag_end != std::string::npos) what.erase(0, tag_end + 2);
        throw InputError(source + ": " + what);
    }
    if (!file.is_object()) throw InputError(source + " is not a JSON object");
    std::map<std::string, std::string> spelled;  // setting -> the key used for it
    for (auto it = file.begin(); it != file.end(); ++it) {
        const std::string& key = it.key();
        const Option* option = nullptr;
        for (const auto& candidate : options_) {
            if (candidate.config_key().empty()) continue;
            bool match = candidate.config_key() == key;
            for (const auto& alias : candidate.aliases()) match = match || key_of(alias) == key;
            if (match) option = &candidate;
        }
        if (!option) {
            std::vector<std::string> known;
            for (const auto& candidate : options_)
                if (!candidate.config_key().empty()) known.push_back(candidate.config_key());
            const auto nearest = closest(key, known, 1, std::max<size_t>(2, key.size() / 3));
            throw InputError(source + ": unknown setting '" + key + "'" +
                             (nearest.empty() ? "" : " (did you mean '" + nearest.front() + "'?)"));
        }
        auto [previous, first] = spelled.emplace(option->name(), key);
        if (!first) throw InputError(source + ": '" + previous->second + "' and '" + key + "' are the same setting; give one");
        Args::Value& slot = args.values_[option->name()];
        if (slot.given) continue;  // the command line wins
        const json& value = it.value();
        const std::string what = source + ": '" + key + "'";
        switch (option->kind()) {
            case Option::Kind::flag:
                if (!value.is_boolean()) throw InputError(what + " must be true or false");
                slot.texts = value.get<bool>() ? std::vector<std::string>{"1"} : std::vector<std::string>{};
                break;
            case Option::Kind::text:
                if (!value.is_string()) throw InputError(what + " must be a string");
                check_text_value(*option, what, value.get<std::string>());
                slot.texts = {value.get<std::string>()};
                break;
            case Option::Kind::integer: {
                if (!value.is_number_integer()) throw InputError(what + " must be a whole number");
                const auto number = value.get<long long>();
                if (number < option->min() || number > option->max()) throw InputError(range_error(what, *option));
                slot.texts = {std::to_string(number)};
                break;
            }
            case Option::Kind::list:
                if (!value.is_array()) throw InputError(what + " must be a list of strings");
                slot.texts.clear();
                for (const auto& item : value) {
                    if (!item.is_string()) throw InputError(what + " must be a list of strings");
                    check_text_value(*option, what, item.get<std::string>());
                    slot.texts.push_back(item.get<std::string>());
                }
                break;
            case Option::Kind::json:
                slot.json = value;
                break;
        }
        slot.given = true;
    }
}

void ArgSpec::finish(Args& args) const {
    if (args.help_ || args.version_) return;
    for (const auto& option : options_) {
        Args::Value& slot = args.values_[option.name()];
        if (slot.given) continue;
        if (option.is_required())
            throw InputError("missing --" + option.name() + " " + option.metavar() + " (see --help)");
        if (option.default_value() && option.kind() != Option::Kind::list) slot.texts = {*option.default_value()};
    }
    size_t required = 0, allowed = 0;
    bool unlimited = false;
    for (const auto& p : positionals_) {
        if (p.required) ++required;
        if (p.repeated) unlimited = true;
        else ++allowed;
    }
    const std::string usage = program_ + (positionals_.empty() ? "" : " ") + [&] {
        std::vector<std::string> names;
        for (const auto& p : positionals_) names.push_back(p.required ? p.name : "[" + p.name + "]");
        return join(names, " ");
    }() + (options_.empty() ? "" : " [options]");
    if (args.positionals_.size() < required) {
        // Name the first one missing: "missing NAME" says what to add.
        const auto& missing = positionals_[std::min(args.positionals_.size(), positionals_.size() - 1)];
        throw InputError("missing " + missing.name + " (usage: " + usage + ")");
    }
    if (!unlimited && !stop_at_positional_ && args.positionals_.size() > allowed)
        throw InputError("unexpected argument '" + args.positionals_[allowed] + "' (usage: " + usage + ")");
}

// ---------------------------------------------------------------------------------------------
// Usage and help

namespace {

std::string usage_of(const Option& option) {
    std::string text = "--" + option.name() + (option.takes_value() ? " " + option.metavar() : "");
    if (option.is_required()) return text;
    return "[" + text + "]" + (option.kind() == Option::Kind::list ? "..." : "");
}

// Words joined into lines of at most `width` columns, continuation lines indented.
std::string wrap(const std::vector<std::string>& words, size_t indent, size_t width) {
    std::string out, line;
    for (const auto& word : words) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line = std::string(indent, ' ');
        } else if (!line.empty() && line.find_first_not_of(' ') != std::string::npos) {
            line += " ";
        }
        line += word;
    }
    return out + line;
}

std::string describe(const Option& option) {
    std::string text = option.help();
    std::vector<std::string> notes;
    if (option.kind() == Option::Kind::integer)
        notes.push_back(std::to_string(option.min()) + ".." + std::to_string(option.max()));
    if (option.default_value() && !option.default_value()->empty() && option.kind() != Option::Kind::flag)
        notes.push_back("default " + *option.default_value());
    if (option.kind() == Option::Kind::list) notes.push_back("repeatable");
    for (const auto& alias : option.aliases()) notes.push_back("also --" + alias);
    if (!notes.empty()) text += " (" + join(notes, "; ") + ")";
    return text;
}

}  // namespace

std::string ArgSpec::synopsis() const {
    std::vector<std::string> words = {"usage:", program_};
    for (const auto& p : positionals_)
        words.push_back((p.required ? p.name : "[" + p.name + "]") + (p.repeated ? "..." : ""));
    for (size_t i = global_rows_; i < options_.size(); ++i)
        if (!options_[i].config_only()) words.push_back(usage_of(options_[i]));
    if (global_rows_ > 0) words.push_back("[global options]");
    return wrap(words, 7 + program_.size() + 1, 100);
}

std::string ArgSpec::help() const {
    std::string out = synopsis() + "\n";
    if (!description_.empty()) out += "\n" + description_ + "\n";
    auto section = [&](const std::string& title, size_t from, size_t to) {
        bool any = false;
        for (size_t i = from; i < to; ++i) {
            const Option& option = options_[i];
            if (option.config_only()) continue;
            if (!any) out += "\n" + title + ":\n";
            any = true;
            std::string left = "  --" + option.name() + (option.takes_value() ? " " + option.metavar() : "");
            if (left.size() < 30) left.resize(30, ' ');
            else left += "\n" + std::string(30, ' ');
            out += left + describe(option) + "\n";
        }
    };
    section("options", global_rows_, options_.size());
    section("global options", 0, global_rows_);
    if (has_config_) {
        std::vector<std::string> keys;
        for (const auto& option : options_)
            if (!option.config_key().empty()) keys.push_back(option.config_key() + ",");
        if (!keys.empty()) keys.back().pop_back();
        out += "\n--config FILE is a JSON object with any of these keys (a flag wins over the file):\n  " +
               wrap(keys, 2, 100) + "\n";
        for (const auto& option : options_)
            if (option.config_only()) out += "  " + option.config_key() + ": " + option.help() + "\n";
    }
    return out;
}

}  // namespace mcpmtls
