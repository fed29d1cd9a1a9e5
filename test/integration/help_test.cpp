// Usage lines and --help come from the same specs that parse the command line: every option a
// program or command accepts is named in its --help, and the binary accepts every option its
// --help names.
#include "client/cli/commands.hpp"
#include "man/pages.hpp"
#include "pki/cli/commands.hpp"
#include "services/pki_serve.hpp"
#include "server/server_settings.hpp"
#include "services/echo_tools.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <regex>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// `program [command] --help` names every option of `spec`, and the binary knows each of them.
void check_help(const std::string& program, const std::string& command, const ArgSpec& spec) {
    std::vector<std::string> argv = {bin_path(program)};
    if (!command.empty()) argv.push_back(command);
    argv.push_back("--help");
    const auto help = run_command(argv);
    INFO(program << " " << command);
    REQUIRE(help.exit_code == 0);
    CHECK(help.out.rfind("usage: " + program + (command.empty() ? "" : " " + command), 0) == 0);
    for (const auto& option : spec.options()) {
        INFO("option " << option.name());
        if (option.config_only()) {
            CHECK(help.out.find("  " + option.config_key() + ": ") != std::string::npos);
            continue;
        }
        // The row of this option, not of a longer one it begins (--ca and --ca-url, --key and --key-type).
        bool listed = false;
        for (auto at = help.out.find("\n  --" + option.name()); at != std::string::npos && !listed;
             at = help.out.find("\n  --" + option.name(), at + 1)) {
            const size_t after = at + 5 + option.name().size();
            listed = after < help.out.size() && (help.out[after] == ' ' || help.out[after] == '\n');
        }
        CHECK(listed);
        // Given to the binary, the option is never an unknown flag (its value may be refused).
        std::vector<std::string> use(argv.begin(), argv.end() - 1);
        use.push_back("--" + option.name() + (option.takes_value() ? "=x" : ""));
        use.push_back("--help");
        const auto r = run_command(use, {}, std::chrono::seconds(10));
        CHECK(r.err.find("unknown flag") == std::string::npos);
    }
}

}  // namespace

TEST_CASE("every pki command's --help names every option it accepts", "[help]") {
    const auto registry = services::pki_registry();
    for (const auto& command : registry.commands()) check_help("pki", command.name, registry.spec_of(command));
    const auto overview = run_command({bin_path("pki"), "--help"});
    for (const auto& command : registry.commands()) CHECK(overview.out.find("  " + command.name + " ") != std::string::npos);
}

TEST_CASE("every client command's --help names its own and the global options", "[help]") {
    const auto registry = client::cli::registry();
    for (const auto& command : registry.commands()) check_help("client", command.name, registry.spec_of(command));
    const auto overview = run_command({bin_path("client"), "--help"});
    for (const auto& command : registry.commands()) CHECK(overview.out.find("  " + command.name + " ") != std::string::npos);
}

TEST_CASE("a server's --help names every setting, flags and --config keys alike", "[help]") {
    check_help("echo-server", "", server::server_settings(services::echo_server()));
    for (const char* program : {"pki", "client", "echo-server", "weather-server", "datetime-server"}) {
        const auto version = run_command({bin_path(program), "--version"});
        CHECK(version.exit_code == 0);
        CHECK(version.out == std::string(program) + " (mcp-mtls) " + kVersion + "\n");
    }
}

// The OPTIONS, --config keys and EXIT STATUS parts of the man pages are generated from the rows
// (man/pages.hpp); a page edited by hand there, or a row added without `make man`, fails here.
TEST_CASE("the man pages' generated parts are what the option rows and exit-code lines make", "[help]") {
    for (const auto& [page, parts] : man::generated_parts()) {
        INFO(page << ": run `make man` and commit the result");
        const std::string text = read_text(source_path("man/" + page));
        CHECK(man::refresh(text, parts) == text);
        for (const auto& [name, body] : parts) CHECK_FALSE(body.empty());
    }
    // One exit-code table: every program's --help ends its list with the same meanings.
    const auto client = run_command({bin_path("client"), "--help"});
    CHECK(client.out.find("Exit codes: 0 success, 1 a server unreachable or a server or tool failed, 2 usage or argument error, "
                          "3 TLS/certificate verification failed.") != std::string::npos);
}

// And so they document every option of every command and server.
TEST_CASE("the man pages document every option of every command and server", "[help]") {
    auto documents = [&](const std::string& page, const ArgSpec& spec) {
        const std::string text = read_text(source_path("man/" + page));
        for (const auto& option : spec.options()) {
            INFO(page << ": " << option.name());
            if (option.config_only()) CHECK(text.find("\\fB" + option.config_key() + "\\fR") != std::string::npos);
            else CHECK(text.find("\\-\\-" + std::regex_replace(option.name(), std::regex("-"), "\\-")) != std::string::npos);
        }
    };
    const auto pki = services::pki_registry();
    for (const auto& command : pki.commands()) documents("pki.1", pki.spec_of(command));
    const auto client = client::cli::registry();
    for (const auto& command : client.commands()) documents("client.1", client.spec_of(command));
    documents("mcp-servers.8", server::server_settings(services::echo_server()));
}
