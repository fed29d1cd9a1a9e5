// Operator-facing settings: JSON logs, --config files, expiry warnings.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

using namespace mcpmtls::testing;
using nlohmann::json;

TEST_CASE("--log-format json writes one JSON object per event, without key material", "[integration]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--log-format", "json"});
    auto r = run_command({bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"), "--key",
                          pki.path("coordinator.key"), "--server", "echo=" + echo.url(), "call", "echo", "echo", "message=x"});
    REQUIRE(r.exit_code == 0);
    REQUIRE(echo.process().wait_for_log("\"event\":\"tool_call\""));
    std::istringstream lines(echo.log());
    std::string line;
    int events = 0;
    bool handshake = false, audit = false;
    while (std::getline(lines, line)) {
        auto event = json::parse(line);  // throws (and fails the test) on anything that is not JSON
        ++events;
        CHECK(event.contains("time"));
        CHECK(event.contains("level"));
        if (event["event"] == "tls_handshake") {
            handshake = true;
            CHECK(event["verdict"] == "accepted");
            CHECK(event["sans"][0] == "URI:spiffe://demo/coordinator");
            CHECK(event["fingerprint_sha256"].get<std::string>().size() == 64);
        }
        if (event["event"] == "tool_call") {
            audit = true;
            CHECK(event["client"] == "spiffe://demo/coordinator");
            CHECK(event["tool"] == "echo");
            CHECK(event["outcome"] == "ok");
            CHECK(event.contains("duration_us"));
        }
    }
    CHECK(events >= 3);
    CHECK(handshake);
    CHECK(audit);
    CHECK(echo.log().find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("a server --config file sets what the flags set, and rejects unknown settings", "[integration]") {
    DemoPki pki;
    write_text(pki.path("server.json"), json{{"cert", pki.path("echo.crt")}, {"key", pki.path("echo.key")}, {"ca", pki.path("ca-bundle.crt")},
                                             {"port", 0}, {"allow_client", {"spiffe://demo/nobody"}},
                                             {"keep_alive_timeout", 7}, {"max_sessions", 42}}.dump());
    TempDir logs;
    BackgroundProcess server({bin_path("echo-server"), "--config", pki.path("server.json")}, logs.file("log"));
    REQUIRE(server.wait_for_log("server_started"));
    CHECK(server.log().find("allow_client=[\"spiffe://demo/nobody\"]") != std::string::npos);
    CHECK(server.log().find("keep_alive_timeout=7") != std::string::npos);
    CHECK(server.log().find("max_sessions=42") != std::string::npos);
    server.stop();

    write_text(pki.path("bad.json"), R"({"prot": 9443})");
    auto bad = run_command({bin_path("echo-server"), "--config", pki.path("bad.json")});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("unknown setting 'prot'") != std::string::npos);
    auto flag = run_command({bin_path("echo-server"), "--bogus"});
    CHECK(flag.exit_code == 2);
    auto range = run_command({bin_path("echo-server"), "--max-sessions", "0"});
    CHECK(range.exit_code == 2);
    CHECK(range.err.find("--max-sessions must be between") != std::string::npos);
}

TEST_CASE("the client reads servers and certificates from --config", "[integration]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    write_text(pki.path("client.json"), json{{"servers", {{"mine", echo.url()}}}, {"ca", pki.path("ca-bundle.crt")},
                                             {"cert", pki.path("coordinator.crt")}, {"key", pki.path("coordinator.key")}}.dump());
    auto r = run_command({bin_path("client"), "--config", pki.path("client.json"), "call", "mine", "echo", "message=configured"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "configured\n");
}

TEST_CASE("the client holds its --config file to the same rules as a server: unknown keys and wrong types are exit 2",
          "[integration]") {
    DemoPki pki;
    auto with_config = [&](const json& config) {
        write_text(pki.path("client.json"), config.dump());
        return run_command({bin_path("client"), "--config", pki.path("client.json"), "tools"});
    };
    auto unknown = with_config({{"servres", {{"a", "https://localhost:1/mcp"}}}});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown setting 'servres'") != std::string::npos);
    auto wrong_type = with_config({{"ca", 7}});
    CHECK(wrong_type.exit_code == 2);
    CHECK(wrong_type.err.find("'ca' must be a string") != std::string::npos);
    auto bad_mode = with_config({{"mode", "lenient"}});
    CHECK(bad_mode.exit_code == 2);
    CHECK(bad_mode.err.find("'mode' must be strict or relaxed, not 'lenient'") != std::string::npos);
    auto bad_url = with_config({{"servers", {{"a", 5}}}});
    CHECK(bad_url.exit_code == 2);
    CHECK(bad_url.err.find("'a' must be a URL string") != std::string::npos);
    auto out_of_range = with_config({{"timeout", 0}});
    CHECK(out_of_range.exit_code == 2);
    CHECK(out_of_range.err.find("'timeout' must be between 1 and 3600") != std::string::npos);

    auto server_type = run_command({bin_path("echo-server"), "--config", [&] {
                                        write_text(pki.path("server.json"), R"({"max_sessions": "many"})");
                                        return pki.path("server.json");
                                    }()});
    CHECK(server_type.exit_code == 2);
    CHECK(server_type.err.find("'max_sessions' must be a whole number") != std::string::npos);
}

TEST_CASE("a server warns when its certificate is about to expire", "[integration]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "server", "short", "--days", "5"}).exit_code == 0);
    ServerProcess echo("echo-server", pki.path("short.crt"), pki.path("short.key"), pki.path("ca-bundle.crt"));
    CHECK(echo.process().wait_for_log("certificate_expiring"));
    CHECK(echo.log().find("which=\"server certificate\"") != std::string::npos);
    ServerProcess quiet(pki, "echo");
    CHECK(quiet.log().find("certificate_expiring") == std::string::npos);
}

namespace {

// A server started as systemd starts one: stderr on the journal, $JOURNAL_STREAM naming it
// (the device and inode of the log file stand in for the journal's socket).
std::unique_ptr<BackgroundProcess> on_the_journal(const DemoPki& pki, const std::string& log, std::vector<std::string> extra) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec \"$0\" \"$@\"",
                                     bin_path("echo-server"), "--port", "0", "--cert", pki.path("echo.crt"), "--key",
                                     pki.path("echo.key"), "--ca", pki.path("ca-bundle.crt"), "--relaxed"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = std::make_unique<BackgroundProcess>(argv, log);
    REQUIRE(server->wait_for_log("server_started"));
    return server;
}

}  // namespace

TEST_CASE("on the journal a server writes sd-daemon priorities and no time of its own, as text or JSON", "[journal]") {
    DemoPki pki;
    TempDir logs;
    {
        auto server = on_the_journal(pki, logs.file("text"), {});
        CHECK(server->wait_for_log("<4>warning relaxed_mode"));
        REQUIRE(server->stop() == 0);
    }
    std::istringstream text(read_text(logs.file("text")));
    std::string line;
    int lines = 0;
    while (std::getline(text, line)) {
        ++lines;
        INFO(line);
        CHECK(std::regex_search(line, std::regex(R"(^<[2-7]>(debug|info|warning|error|critical) [a-z_]+( |$))")));
        CHECK(!std::regex_search(line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d)")));  // no timestamp
    }
    CHECK(lines >= 3);
    CHECK(read_text(logs.file("text")).find("<6>info server_started") != std::string::npos);

    {
        auto server = on_the_journal(pki, logs.file("json"), {"--log-format", "json"});
        REQUIRE(server->stop() == 0);
    }
    std::istringstream objects(read_text(logs.file("json")));
    lines = 0;
    while (std::getline(objects, line)) {
        ++lines;
        INFO(line);
        REQUIRE(std::regex_search(line, std::regex(R"(^<[2-7]>\{)")));
        const auto event = json::parse(line.substr(3));  // journald strips the prefix: one JSON object
        CHECK(event.contains("level"));
        CHECK(event.contains("event"));
    }
    CHECK(lines >= 3);

    // Outside the journal (the variable inherited, stderr elsewhere): the usual timestamps.
    ServerProcess plain("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    CHECK(std::regex_search(plain.log(), std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info )")));
}
