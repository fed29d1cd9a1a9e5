#pragma once
// A program made of subcommands (pki, client). Each command is declared next to the function
// that runs it: its name, a one-line summary and its ArgSpec (options and positionals). The
// registry dispatches, renders the overview and every command's --help from those specs, and
// turns exceptions into one line on stderr and an exit code, so no usage text is typed twice.
#include "common/options.hpp"

#include <functional>
#include <string>
#include <vector>

namespace mcpmtls {

struct Command {
    std::string name;
    std::string summary;                  // one line, shown in the overview
    ArgSpec spec;                         // the command's own options and positionals
    std::function<int(const Args&)> run;  // returns the exit code; throws mcpmtls::Error
};

class CommandRegistry {
public:
    struct Settings {
        std::string program;              // "pki"
        std::string description;          // the overview's first paragraph
        std::string epilogue;             // the overview's last lines (exit codes, ...)
        std::vector<Option> global;       // accepted by every command, anywhere on the line
        bool global_config_file = false;  // --config FILE sets the configurable global rows
        std::string config_help;
        bool name_command_in_errors = true;  // "pki issue: ..." rather than "client: ..."
    };

    CommandRegistry(Settings settings, std::vector<Command> commands);

    // The whole main(): parses, dispatches, reports. argv excludes the program name.
    int main(const std::vector<std::string>& argv) const;

    const std::vector<Command>& commands() const { return commands_; }
    const Command* find(const std::string& name) const;
    // Everything a command accepts: the global rows, then its own; usage line "pki issue ...".
    ArgSpec spec_of(const Command& command) const;
    std::string overview() const;

private:
    // The command word: the first word that is neither an option nor an option's value.
    std::optional<size_t> command_position(const std::vector<std::string>& argv) const;
    const Option* any_option(const std::string& name, std::string* owner) const;

    Settings settings_;
    std::vector<Command> commands_;
};

}  // namespace mcpmtls
