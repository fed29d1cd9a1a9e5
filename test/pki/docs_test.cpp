// The documentation of the pki command is checked against the program: man/pki.1 has a synopsis
// line and a section for every command, and the README's offline-root workflow runs as written.
#include "pki/cli/commands.hpp"
#include "services/pki_serve.hpp"
#include "test/pki/pki_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <sstream>

using namespace mcpmtls::testing;

namespace {

std::string roff(const std::string& name) { return std::regex_replace(name, std::regex("-"), "\\-"); }

// The shell block after `heading` in the README, continuation lines joined.
std::string readme_block(const std::string& heading) {
    const std::string readme = read_text(source_path("README.md"));
    const auto at = readme.find(heading);
    if (at == std::string::npos) return "";
    const auto begin = readme.find("```sh\n", at);
    const auto end = readme.find("```", begin + 6);
    if (begin == std::string::npos || end == std::string::npos) return "";
    return readme.substr(begin + 6, end - begin - 6);
}

}  // namespace

TEST_CASE("man/pki.1 has a synopsis line and a section for every pki command", "[pki]") {
    const std::string page = read_text(source_path("man/pki.1"));
    REQUIRE_FALSE(page.empty());
    const auto registry = mcpmtls::services::pki_registry();
    for (const auto& command : registry.commands()) {
        INFO(command.name);
        CHECK(contains(page, "\n.B pki " + roff(command.name)));
        CHECK(std::regex_search(page, std::regex("\n\\.SS [^\n]*\\b" + std::regex_replace(roff(command.name), std::regex("\\\\"),
                                                                                          "\\\\") + "\\b")));
    }
}

TEST_CASE("the README's offline-root workflow runs as written and makes what it says", "[pki]") {
    const std::string block = readme_block("### An offline root and an intermediate");
    REQUIRE(contains(block, "$pki init --intermediate"));
    TempDir work;
    REQUIRE(run_command({"ln", "-s", std::string(std::getenv("MCPMTLS_BIN")), work.file("bin")}).exit_code == 0);
    REQUIRE(run_command({"mkdir", work.file("scratch")}).exit_code == 0);
    write_text(work.file("workflow.sh"), "set -euo pipefail\ncd '" + work.path() + "'\n" + block);
    // The export asks for a passphrase on a terminal; the variable answers instead. The block
    // works in a folder of its own (mktemp -d), here made under scratch/.
    const auto r = run_command({"bash", work.file("workflow.sh")}, {{"PKI_EXPORT_PASSPHRASE", "readme"}, {"TMPDIR", work.file("scratch")}});
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto made = run_command({"bash", "-c", "ls -d '" + work.file("scratch") + "'/*/"});
    REQUIRE(made.exit_code == 0);
    const std::string dir = made.out.substr(0, made.out.find('\n'));
    auto file = [&](const std::string& name) { return dir + name; };
    CHECK_FALSE(exists(file("root/ca.key")));
    CHECK(exists(file("offline/ca.key")));
    CHECK_FALSE(exists(work.file("offline")));  // nothing where the block was run from
    for (const char* leaf : {"issuing/weather.crt", "issuing/agent-7.crt"})
        CHECK(run_command({"openssl", "verify", "-CAfile", file("issuing/ca-bundle.crt"), "-untrusted", file("issuing/ca.crt"), file(leaf)})
                  .exit_code == 0);
    CHECK(contains(openssl_text(file("issuing/ca.crt")), "DNS:internal.acme"));
    CHECK(run_command({"openssl", "pkcs12", "-info", "-noout", "-in", file("weather.p12"), "-passin", "pass:readme"}).exit_code == 0);
}
