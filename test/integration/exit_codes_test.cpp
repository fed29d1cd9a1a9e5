// One exit-code table for every command (shared/design.md): 0 success, 1 a server unreachable or
// a server or tool failed (pki: the operation failed or a verification was negative), 2 a usage
// or argument error, 3 a TLS or certificate verification failure. And error messages that point
// at the fix: the missing argument named, a JSON parse error's line and column, the nearest key.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls::testing;

namespace {

CommandResult client(const DemoPki& pki, const std::vector<std::string>& servers, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key"), "--timeout", "5"};
    for (const auto& s : servers) argv.insert(argv.end(), {"--server", s});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A loopback URL where nothing listens.
std::string nobody_url() { return "https://127.0.0.1:" + std::to_string(free_tcp_port()) + "/mcp"; }

}  // namespace

TEST_CASE("an unreachable server is exit 1 for every client command, check included: not a certificate failure",
          "[exit-codes]") {
    DemoPki pki;
    const std::string down = "down=" + nobody_url();
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"check"}, {"tools"}, {"call", "down", "echo", "message=x"}, {"ask", "echo hello"}}) {
        const auto r = client(pki, {down}, args);
        INFO(args.front() << ": " << r.all());
        CHECK(r.exit_code == 1);
    }
    const auto check = client(pki, {down}, {"check"});
    CHECK(contains(check.out, "tcp: unreachable"));
}

TEST_CASE("a certificate refused by either side is exit 3, for check as for tools", "[exit-codes]") {
    DemoPki pki;
    ImpostorServer impostor(pki, Impostor::self_signed);
    ServerProcess picky("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                        {"--allow-client", "spiffe://demo/somebody-else"});
    for (const auto& server : {"impostor=" + impostor.url(), "picky=" + picky.url()})
        for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"check"}, {"tools"}}) {
            const auto r = client(pki, {server}, args);
            INFO(server << " " << args.front() << ": " << r.all());
            CHECK(r.exit_code == 3);
        }
    // A refused certificate outweighs an unreachable server.
    const auto mixed = client(pki, {"impostor=" + impostor.url(), "down=" + nobody_url()}, {"check"});
    CHECK(mixed.exit_code == 3);
}

TEST_CASE("a missing, unknown or mistyped tool argument is a usage error (2), a tool error is 1", "[exit-codes]") {
    DemoPki pki;
    ServerProcess datetime(pki, "datetime");
    const std::string server = "datetime=" + datetime.url();
    const auto missing = client(pki, {server}, {"call", "datetime", "convert_time", "time=09:00"});
    INFO(missing.all());
    CHECK(missing.exit_code == 2);
    CHECK(contains(missing.err, "convert_time needs 'from_timezone', 'to_timezone'"));
    const auto unknown = client(pki, {server}, {"call", "datetime", "get_current_time", "zone=UTC"});
    CHECK(unknown.exit_code == 2);
    CHECK(contains(unknown.err, "has no argument 'zone'"));
    const auto no_tool = client(pki, {server}, {"call", "datetime", "no_such_tool"});
    CHECK(no_tool.exit_code == 2);
    const auto no_server = client(pki, {server}, {"call", "nowhere", "echo"});
    CHECK(no_server.exit_code == 2);
    const auto bad_flag = client(pki, {server}, {"tools", "--frobnicate"});
    CHECK(bad_flag.exit_code == 2);
    const auto tool_error = client(pki, {server}, {"call", "datetime", "get_current_time", "timezone=Not/AZone"});
    CHECK(tool_error.exit_code == 1);
    const auto ok = client(pki, {server}, {"call", "datetime", "get_current_time", "timezone=UTC"});
    CHECK(ok.exit_code == 0);
}

TEST_CASE("pki: a missing argument is named (exit 2), a negative verification is 1", "[exit-codes]") {
    DemoPki pki;
    const auto no_name = pki.pki({"issue", "server"});
    CHECK(no_name.exit_code == 2);
    CHECK(contains(no_name.err, "missing NAME"));
    const auto no_kind = pki.pki({"issue"});
    CHECK(no_kind.exit_code == 2);
    CHECK(contains(no_kind.err, "missing server|client"));
    const auto bad_flag = pki.pki({"list", "--frobnicate"});
    CHECK(bad_flag.exit_code == 2);
    const auto wrong_purpose = run_command({bin_path("pki"), "verify", "--ca", pki.path("ca-bundle.crt"), "--purpose", "client",
                                            pki.path("echo.crt")});
    CHECK(wrong_purpose.exit_code == 1);
    const auto unreadable = run_command({bin_path("pki"), "verify", "--ca", pki.path("nothing.crt"), pki.path("echo.crt")});
    CHECK(unreadable.exit_code == 2);
}

TEST_CASE("a client.json with a trailing comma names its line and column; an unknown key suggests the nearest", "[exit-codes]") {
    DemoPki pki;
    TempDir dir;
    write_text(dir.file("client.json"), "{\n  \"servers\": {\"echo\": \"https://localhost:1/mcp\"},\n  \"timeout\": 5,\n}\n");
    const auto trailing = run_command({bin_path("client"), "--config", dir.file("client.json"), "tools"});
    CHECK(trailing.exit_code == 2);
    CHECK(contains(trailing.err, "client.json: JSON parse error at line 4, column 1"));
    CHECK_FALSE(contains(trailing.err, "is not a JSON object"));
    write_text(dir.file("client.json"), "{\"crt\": \"" + pki.path("coordinator.crt") + "\"}");
    const auto misspelled = run_command({bin_path("client"), "--config", dir.file("client.json"), "tools"});
    CHECK(misspelled.exit_code == 2);
    CHECK(contains(misspelled.err, "unknown setting 'crt' (did you mean 'cert'?)"));
}

TEST_CASE("pki init --cn keeps the name as given; only the default name gains O=mcp-mtls", "[exit-codes][pki]") {
    TempDir custom, plain;
    REQUIRE(run_command({bin_path("pki"), "init", "--dir", custom.path(), "--cn", "acme MCP CA"}).exit_code == 0);
    REQUIRE(run_command({bin_path("pki"), "init", "--dir", plain.path()}).exit_code == 0);
    const auto subject = [](const std::string& cert) {
        return run_shell("openssl x509 -noout -subject -nameopt RFC2253 -in '" + cert + "'").out;
    };
    CHECK(subject(custom.file("ca.crt")) == "subject=CN=acme MCP CA\n");
    CHECK(subject(plain.file("ca.crt")) == "subject=CN=mcp-mtls root CA,O=mcp-mtls\n");
}
