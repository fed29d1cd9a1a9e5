#pragma once
// The pki command: one file per command, each holding the function that runs it next to its
// spec (options, positionals, one-line summary), after Botan's cli/ commands. The registry in
// commands.cpp dispatches and renders every usage line and --help from those specs.
#include "common/command.hpp"

#include <string>
#include <vector>

namespace mcpmtls::pki::cli {

Command init_command();
Command issue_command();
Command sign_command();
Command list_command();
Command inspect_command();
Command verify_command();
Command revoke_command();
Command crl_command();
Command rotate_command();
Command rotate_ca_command();
Command renew_command();
Command export_command();
Command token_command();
Command log_command();

// Every command, in the order the overview lists them.
std::vector<Command> all_commands();
// The offline commands and `more` (pki serve, which lives in a layer above: services/).
CommandRegistry registry(std::vector<Command> more = {});


}  // namespace mcpmtls::pki::cli
