#pragma once
// The pki subcommands, each a small object with its own flags and help (after Botan's cli/).
#include "common/args.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::pki::cli {

struct Command {
    std::string name;
    std::string summary;
    ArgSpec spec;
    std::function<int(const Args&)> run;  // returns the exit code; throws mcpmtls::Error
};

std::vector<Command> all_commands();

// Entry point of bin/pki: parses, dispatches, turns exceptions into one line and an exit code.
int run_pki(int argc, char** argv);

}  // namespace mcpmtls::pki::cli
