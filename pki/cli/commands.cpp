#include "pki/cli/commands.hpp"

namespace mcpmtls::pki::cli {

std::vector<Command> all_commands() {
    return {init_command(),   issue_command(),  sign_command(),      list_command(),   inspect_command(),
            verify_command(), revoke_command(), crl_command(),       rotate_command(), rotate_ca_command(),
            renew_command(),  export_command(), token_command(),   log_command()};
}

CommandRegistry registry(std::vector<Command> more) {
    CommandRegistry::Settings settings;
    settings.program = "pki";
    settings.description = "A small certificate authority for mutual TLS.";
    settings.epilogue = "Exit codes: 0 success, 1 failed or invalid, 2 usage or input error.";
    auto commands = all_commands();
    for (auto& command : more) commands.push_back(std::move(command));
    return CommandRegistry(std::move(settings), std::move(commands));
}

}  // namespace mcpmtls::pki::cli
