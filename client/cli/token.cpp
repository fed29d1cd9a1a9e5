// client token show|clear: the OAuth tokens the client keeps ($XDG_STATE_HOME/mcp-mtls/tokens.json).
// The only place a token is ever printed, and only when asked.
#include "client/cli/commands.hpp"
#include "client/oauth.hpp"

#include <iostream>

namespace mcpmtls::client::cli {
namespace {

int token(const Args& args) {
    const auto& words = args.positionals();
    if (words.size() != 1 || (words[0] != "show" && words[0] != "clear"))
        throw InputError("token takes one word: show (print the kept tokens) or clear (forget them)");
    oauth::TokenStore store(oauth::default_state_file());
    if (words[0] == "clear") {
        store.clear();
        std::cerr << "client: forgot every OAuth token and registration in " << store.path() << "\n";
        return kExitOk;
    }
    const nlohmann::json document = store.load();
    const nlohmann::json tokens = document.value("tokens", nlohmann::json::object());
    if (args.flag("json")) {
        std::cout << tokens.dump(2) << "\n";
        return kExitOk;
    }
    if (tokens.empty()) std::cerr << "client: no OAuth tokens in " << store.path() << "\n";
    for (const auto& [key, entry] : tokens.items()) {
        (void)key;
        std::cout << entry.value("server", "") << "\n"
                  << "  resource:      " << entry.value("resource", "") << "\n"
                  << "  issuer:        " << entry.value("issuer", "") << "\n"
                  << "  scope:         " << entry.value("scope", "") << "\n"
                  << "  expires_at:    " << entry.value("expires_at", 0LL) << "\n"
                  << "  refreshable:   " << (entry.value("refresh_token", "").empty() ? "no" : "yes") << "\n"
                  << "  access_token:  " << entry.value("access_token", "") << "\n";
    }
    return kExitOk;
}

}  // namespace

Command token_command() {
    return {"token", "show or clear the OAuth tokens the client keeps",
            ArgSpec("client token", "show prints every kept OAuth token (access tokens included: they are secrets) with its "
                                    "server, resource, issuer and scope; clear forgets tokens and client registrations. The file "
                                    "is $XDG_STATE_HOME/mcp-mtls/tokens.json (~/.local/state/mcp-mtls/tokens.json), mode 0600.")
                .positional("show|clear"),
            token};
}

}  // namespace mcpmtls::client::cli
