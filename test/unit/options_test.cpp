// The option tables every program is built from: flags, --config keys, defaults, ranges and help
// come from one row each, so a --config file is held to the same rules as the command line.
#include "common/error.hpp"
#include "common/options.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;

namespace {

ArgSpec settings() {
    return ArgSpec("demo-server", "A demo.")
        .add(Option::integer("port", "N", 0, 65535, "port").fallback(8443).configurable())
        .add(Option::text("bind", "ADDR", "address").fallback("127.0.0.1").configurable())
        .add(Option::flag("relaxed", "relaxed").configurable())
        .add(Option::list("allow-client", "ID", "who").configurable())
        .add(Option::text("log-format", "", "format").one_of({"text", "json"}).fallback("text").configurable())
        .add(Option::integer("max-connections", "N", 1, 4096, "workers").fallback(256).alias("threads").configurable())
        .add(Option::json("authorization", "policy"))
        .add(Option::flag("verbose", "debug"))
        .config_file("settings file");
}

Args parse_config(const std::string& config, std::vector<std::string> argv = {}) {
    return settings().parse(argv, config, "server.json");
}

}  // namespace

TEST_CASE("a setting comes from its flag, else the --config file, else its row's default", "[unit]") {
    auto defaults = settings().parse({});
    CHECK(defaults.integer("port") == 8443);
    CHECK(defaults.text("bind") == "127.0.0.1");
    CHECK_FALSE(defaults.flag("relaxed"));
    CHECK_FALSE(defaults.given("port"));
    CHECK(defaults.list("allow-client").empty());
    CHECK(defaults.json("authorization").is_null());

    auto from_file = parse_config(R"({"port": 9000, "relaxed": true, "allow_client": ["a", "b"], "authorization": []})");
    CHECK(from_file.integer("port") == 9000);
    CHECK(from_file.given("port"));
    CHECK(from_file.flag("relaxed"));
    CHECK(from_file.list("allow-client") == std::vector<std::string>{"a", "b"});
    CHECK(from_file.json("authorization").is_array());

    auto flag_wins = parse_config(R"({"port": 9000, "allow_client": ["a"]})", {"--port", "9001", "--allow-client", "c"});
    CHECK(flag_wins.integer("port") == 9001);
    CHECK(flag_wins.list("allow-client") == std::vector<std::string>{"c"});
    CHECK_FALSE(parse_config(R"({"relaxed": false})").flag("relaxed"));
}

TEST_CASE("a --config file with an unknown key or a wrong type is a usage error naming the key", "[unit]") {
    auto refused = [](const std::string& config, const std::string& message) {
        INFO(config);
        CHECK_THROWS_MATCHES(parse_config(config), InputError, Catch::Message(message));
    };
    refused(R"({"prot": 9443})", "server.json: unknown setting 'prot' (did you mean 'port'?)");
    refused(R"({"port": "9443"})", "server.json: 'port' must be a whole number");
    refused(R"({"port": 70000})", "server.json: 'port' must be between 0 and 65535");
    refused(R"({"relaxed": "yes"})", "server.json: 'relaxed' must be true or false");
    refused(R"({"bind": 7})", "server.json: 'bind' must be a string");
    refused(R"({"allow_client": "a"})", "server.json: 'allow_client' must be a list of strings");
    refused(R"({"allow_client": ["a", 1]})", "server.json: 'allow_client' must be a list of strings");
    refused(R"({"log_format": "xml"})", "server.json: 'log_format' must be text or json, not 'xml'");
    refused(R"({"max_connections": 2, "threads": 3})", "server.json: 'max_connections' and 'threads' are the same setting; give one");
    refused(R"({"verbose": true})", "server.json: unknown setting 'verbose'");  // not a configurable row
    refused(R"({"allow-clients": ["a"]})", "server.json: unknown setting 'allow-clients' (did you mean 'allow_client'?)");
    refused(R"([1, 2])", "server.json is not a JSON object");
    // Well-formed JSON that nlohmann cannot hold (found by the arguments fuzz target).
    refused(R"({"port": 333000003366e666666066666660})", "server.json: number overflow parsing '333000003366e666666066666660'");
    // Malformed JSON says where the parser stopped (the end of the offending token), as an editor
    // counts: lines and columns from 1.
    auto parse_error = [](const std::string& config, const std::string& where) {
        INFO(config);
        CHECK_THROWS_WITH(parse_config(config), Catch::StartsWith("server.json: JSON parse error at " + where));
    };
    parse_error("{not json", "line 1, column 3 (");
    parse_error("{\n  \"port\": 9000,\n}\n", "line 3, column 1 (");  // a trailing comma
    parse_error("{\n  \"port\": 9000\n  \"bind\": \"::1\"\n}", "line 3, column 8 (");  // a missing comma
}

TEST_CASE("flags are checked against their rows: ranges, choices, aliases", "[unit]") {
    CHECK_THROWS_WITH(settings().parse({"--port", "70000"}), "--port must be between 0 and 65535");
    CHECK_THROWS_WITH(settings().parse({"--port", "-1"}), "--port needs a whole number, got '-1'");
    CHECK_THROWS_WITH(settings().parse({"--log-format", "xml"}), "--log-format must be text or json, not 'xml'");
    CHECK(settings().parse({"--threads", "8"}).integer("max-connections") == 8);
    CHECK_THROWS_WITH(settings().parse({"--threads", "8", "--max-connections", "9"}),
                      "--threads and --max-connections are the same setting; give one");
    CHECK_THROWS_WITH(settings().parse({"--authorization", "[]"}), Catch::Contains("unknown flag --authorization"));
}

TEST_CASE("usage and help are generated from the rows and name every option", "[unit]") {
    const ArgSpec spec = settings();
    const std::string help = spec.help();
    for (const auto& option : spec.options()) {
        INFO(option.name());
        if (option.config_only()) {
            CHECK(help.find("  " + option.config_key() + ": ") != std::string::npos);
        } else {
            CHECK(spec.synopsis().find("--" + option.name()) != std::string::npos);
            CHECK(help.find("\n  --" + option.name()) != std::string::npos);
        }
    }
    CHECK(help.find("(0..65535; default 8443)") != std::string::npos);
    CHECK(help.find("also --threads") != std::string::npos);
    CHECK(help.find("port, bind, relaxed, allow_client, log_format, max_connections, authorization") != std::string::npos);
}
