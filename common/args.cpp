#include "common/args.hpp"

#include "common/error.hpp"

#include <sstream>

namespace mcpmtls {

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& name) const {
    static const std::vector<std::string> none;
    auto it = values_.find(name);
    return it == values_.end() ? none : it->second;
}

ArgSpec& ArgSpec::flag(const std::string& name, const std::string& help) {
    options_.push_back({name, "", help, false, false});
    return *this;
}

ArgSpec& ArgSpec::option(const std::string& name, const std::string& metavar, const std::string& help) {
    options_.push_back({name, metavar, help, true, false});
    return *this;
}

ArgSpec& ArgSpec::repeated(const std::string& name, const std::string& metavar, const std::string& help) {
    options_.push_back({name, metavar, help, true, true});
    return *this;
}

const ArgSpec::Option* ArgSpec::find(const std::string& name) const {
    for (const auto& option : options_)
        if (option.name == name) return &option;
    return nullptr;
}

Args ArgSpec::parse(const std::vector<std::string>& argv) const {
    Args args;
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
            args.values_["help"].push_back("1");
            continue;
        }
        std::string name = word.substr(word.rfind("--", 0) == 0 ? 2 : 1);
        std::string value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        const Option* option = find(name);
        if (!option) throw InputError("unknown flag " + word.substr(0, word.find('=')) + " (see --help)");
        if (!option->takes_value) {
            if (inline_value) throw InputError("--" + name + " takes no value");
            args.values_[name].push_back("1");
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argv.size()) throw InputError("--" + name + " needs a value (" + option->metavar + ")");
            value = argv[++i];
        }
        auto& slot = args.values_[name];
        if (!option->repeatable && !slot.empty()) throw InputError("--" + name + " given twice");
        slot.push_back(value);
    }
    if (args.has("help")) return args;
    if (args.positionals_.size() < min_positionals_)
        throw InputError("missing argument (usage: " + usage_ + ")");
    if (!stop_at_positional_ && args.positionals_.size() > max_positionals_)
        throw InputError("unexpected argument '" + args.positionals_[max_positionals_] + "' (usage: " + usage_ + ")");
    return args;
}

std::string ArgSpec::help() const {
    std::ostringstream out;
    out << "usage: " << usage_ << "\n";
    if (!summary_.empty()) out << "\n" << summary_ << "\n";
    if (!options_.empty()) out << "\noptions:\n";
    for (const auto& option : options_) {
        std::string left = "  --" + option.name + (option.takes_value ? " " + option.metavar : "");
        if (left.size() < 28) left.resize(28, ' ');
        else left += "\n" + std::string(28, ' ');
        out << left << option.help << (option.repeatable ? " (repeatable)" : "") << "\n";
    }
    return out.str();
}

}  // namespace mcpmtls
