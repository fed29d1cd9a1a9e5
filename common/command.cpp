#include "common/command.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"

#include <iostream>

namespace mcpmtls {

CommandRegistry::CommandRegistry(Settings settings, std::vector<Command> commands)
    : settings_(std::move(settings)), commands_(std::move(commands)) {}

const Command* CommandRegistry::find(const std::string& name) const {
    for (const auto& command : commands_)
        if (command.name == name) return &command;
    return nullptr;
}

ArgSpec CommandRegistry::spec_of(const Command& command) const {
    ArgSpec spec = command.spec.with_program(settings_.program + " " + command.name);
    if (spec.description().empty()) spec = spec.with_description(command.summary);
    return spec.with_global(settings_.global, settings_.global_config_file ? settings_.config_help : "");
}

std::string CommandRegistry::overview() const {
    std::string text = "usage: " + settings_.program + (settings_.global.empty() ? "" : " [options]") + " COMMAND [args]\n\n" +
                       settings_.description + "\n\ncommands:\n";
    for (const auto& command : commands_) {
        std::string name = "  " + command.name;
        name.resize(std::max<size_t>(name.size() + 2, 14), ' ');
        text += name + command.summary + "\n";
    }
    text += "\nRun '" + settings_.program + " COMMAND --help' for a command's options.\n";
    if (!settings_.epilogue.empty()) text += settings_.epilogue + "\n";
    return text;
}

const Option* CommandRegistry::any_option(const std::string& name, std::string* owner) const {
    for (const auto& option : settings_.global)
        if (option.name() == name) return &option;
    if (settings_.global_config_file && name == "config") {
        static const Option config = Option::text("config", "FILE", "");
        return &config;
    }
    for (const auto& command : commands_)
        if (const Option* option = command.spec.find(name)) {
            if (owner) *owner = command.name;
            return option;
        }
    return nullptr;
}

std::optional<size_t> CommandRegistry::command_position(const std::vector<std::string>& argv) const {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& word = argv[i];
        if (word == "--") return i + 1 < argv.size() ? std::optional<size_t>(i + 1) : std::nullopt;
        if (word.size() < 2 || word[0] != '-') return i;
        if (word.find('=') != std::string::npos) continue;
        const Option* option = any_option(word.substr(starts_with(word, "--") ? 2 : 1), nullptr);
        if (option && option->takes_value()) ++i;
    }
    return std::nullopt;
}

int CommandRegistry::main(const std::vector<std::string>& argv) const {
    const std::string& program = settings_.program;
    const auto position = command_position(argv);
    auto has_word = [&](const std::string& w) { return std::find(argv.begin(), argv.end(), w) != argv.end(); };
    if (!position) {
        if (has_word("--version")) {
            std::cout << version_line(program) << "\n";
            return kExitOk;
        }
        if (has_word("--help") || has_word("-h")) {
            std::cout << overview();
            return kExitOk;
        }
        std::cerr << overview();
        return kExitUsage;
    }
    const std::string& name = argv[*position];
    if (name == "help") {
        std::cout << overview();
        return kExitOk;
    }
    const Command* command = find(name);
    if (!command) {
        std::cerr << program << ": unknown command '" << name << "' (see " << program << " --help)\n";
        return kExitUsage;
    }
    const std::string prefix = settings_.name_command_in_errors ? program + " " + name + ": " : program + ": ";
    std::vector<std::string> words(argv.begin(), argv.begin() + static_cast<std::ptrdiff_t>(*position));
    words.insert(words.end(), argv.begin() + static_cast<std::ptrdiff_t>(*position) + 1, argv.end());
    const ArgSpec spec = spec_of(*command);
    try {
        for (const auto& word : words) {
            if (word == "--") break;
            if (!starts_with(word, "--") || word.size() < 3) continue;
            const std::string flag = word.substr(2, word.find('=') == std::string::npos ? std::string::npos : word.find('=') - 2);
            std::string owner;
            if (!spec.find(flag) && any_option(flag, &owner) && !owner.empty())
                throw InputError("--" + flag + " belongs to the " + owner + " command");
        }
        Args args = spec.parse(words);
        if (args.help_requested()) {
            std::cout << spec.help();
            return kExitOk;
        }
        if (args.version_requested()) {
            std::cout << version_line(program) << "\n";
            return kExitOk;
        }
        return command->run(args);
    } catch (const Error& e) {
        std::cerr << prefix << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        std::cerr << prefix << e.what() << "\n";
        return kExitFailed;
    }
}

}  // namespace mcpmtls
