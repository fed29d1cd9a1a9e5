// `client bridge`: the stdio MCP server that lets any MCP host reach our servers over mutual TLS.
// The host is either the official TypeScript SDK (its Client over StdioClientTransport, as
// Claude Desktop or VS Code would run the bridge) or the test itself holding the bridge's stdin
// and stdout, which lets it kill servers, rotate certificates and send bad input in between.
#include "test/support/fixtures.hpp"
#include "test/support/bridge_host.hpp"
#include "test/support/sdk_host.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace mcpmtls::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// bin/client with the demo PKI's coordinator certificate and the given servers, then ARGS.
std::vector<std::string> client_command(const DemoPki& pki, const std::vector<std::string>& servers, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key")};
    for (const auto& s : servers) argv.insert(argv.end(), {"--server", s});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

json plan(const std::vector<std::string>& command, json steps) {
    return {{"command", command.front()}, {"args", std::vector<std::string>(command.begin() + 1, command.end())}, {"steps", std::move(steps)}};
}

json call_step(const std::string& tool, json arguments = json::object()) {
    return {{"op", "call"}, {"name", tool}, {"arguments", std::move(arguments)}};
}

std::string current_serial(const std::string& cert) {
    auto r = run_shell("openssl x509 -noout -serial -in '" + cert + "' | cut -d= -f2 | tr A-F a-f");
    return r.out.substr(0, r.out.find('\n'));
}

}  // namespace

TEST_CASE("an MCP host on the official TypeScript SDK lists and calls tools through `client bridge echo`", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    SdkHost host;
    const auto r = host.run(plan(client_command(pki, {"echo=" + echo.url()}, {"bridge", "echo"}),
                                 {{{"op", "server_info"}}, {{"op", "list"}}, call_step("echo", {{"message", "hello through the bridge"}})}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 3);
    CHECK(steps[0]["server"]["name"] == "echo-server");  // the server's own answer, unchanged
    CHECK(steps[1]["tools"] == json::array({"echo"}));
    CHECK(steps[2]["text"] == "hello through the bridge");
    CHECK(steps[2]["isError"] == false);
}

TEST_CASE("through `client bridge --all` the SDK host lists and calls the tools of all three servers", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess weather(pki, "weather");
    ServerProcess datetime(pki, "datetime");
    ServerProcess echo(pki, "echo");
    SdkHost host;
    const auto r = host.run(plan(client_command(pki, {"weather=" + weather.url(), "datetime=" + datetime.url(), "echo=" + echo.url()},
                                                {"bridge", "--all"}),
                                 {{{"op", "server_info"}},
                                  {{"op", "list"}},
                                  call_step("get_current_weather", {{"city", "Paris"}}),
                                  call_step("get_current_time", {{"timezone", "Asia/Tokyo"}}),
                                  call_step("echo", {{"message", "all three"}}),
                                  call_step("no_such_tool")}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 6);
    CHECK(steps[0]["server"]["name"] == "mcp-mtls-bridge");
    CHECK(steps[0]["capabilities"]["tools"]["listChanged"] == true);
    const json tools = steps[1]["tools"];
    for (const char* tool : {"get_current_weather", "get_forecast", "get_current_time", "convert_time", "echo"})
        CHECK(std::find(tools.begin(), tools.end(), tool) != tools.end());
    CHECK(contains(steps[2]["text"].get<std::string>(), "Paris"));
    CHECK(contains(steps[3]["text"].get<std::string>(), "Asia/Tokyo"));
    CHECK(steps[4]["text"] == "all three");
    CHECK(contains(steps[5].value("error", ""), "unknown tool 'no_such_tool'"));
}

TEST_CASE("bridge --all offers a tool name two servers share as SERVER.TOOL, each routed to its owner", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess first(pki, "echo");
    ServerProcess second(pki, "echo");
    ServerProcess datetime(pki, "datetime");
    SdkHost host;
    const auto r = host.run(plan(client_command(pki, {"a=" + first.url(), "b=" + second.url(), "datetime=" + datetime.url()},
                                                {"bridge", "--all"}),
                                 {{{"op", "list"}}, call_step("a.echo", {{"message", "to a"}}), call_step("b.echo", {{"message", "to b"}}),
                                  call_step("echo", {{"message", "ambiguous"}})}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 4);
    CHECK(steps[0]["tools"] == json::array({"a.echo", "b.echo", "get_current_time", "convert_time"}));
    CHECK(steps[1]["text"] == "to a");
    CHECK(steps[2]["text"] == "to b");
    CHECK(contains(steps[3].value("error", ""), "unknown tool 'echo'"));
    // Each call reached its own server.
    CHECK(count_occurrences(first.log(), "tool=echo") >= 1);
    CHECK(count_occurrences(second.log(), "tool=echo") >= 1);
}

TEST_CASE("bridge --all offers every server's resources, templates, prompts and completion, clashes as SERVER.NAME",
          "[bridge]") {
    DemoPki pki;
    ServerProcess a(pki, "weather");
    ServerProcess b(pki, "weather");
    ServerProcess datetime(pki, "datetime");
    ServerProcess echo(pki, "echo");  // offers neither resources nor prompts
    BridgeUnderTest bridge(client_command(pki, {"a=" + a.url(), "b=" + b.url(), "datetime=" + datetime.url(), "echo=" + echo.url()},
                                          {"bridge", "--all"}));
    const json init = bridge.initialize();
    INFO(init.dump() << "\n" << bridge.log());
    const json capabilities = init["result"]["capabilities"];
    CHECK(capabilities["resources"]["subscribe"] == true);
    CHECK(capabilities["resources"]["listChanged"] == true);
    CHECK(capabilities["prompts"]["listChanged"] == true);
    CHECK(capabilities.contains("completions"));

    auto field = [](const json& answer, const std::string& list, const std::string& key) {
        std::vector<std::string> out;
        for (const auto& entry : answer["result"].value(list, json::array())) out.push_back(entry.value(key, ""));
        return out;
    };
    // Both weather servers have weather://cities and the template: those clash; datetime's do not.
    CHECK(field(bridge.request("resources/list"), "resources", "uri") ==
          std::vector<std::string>{"a.weather://cities", "b.weather://cities"});
    CHECK(field(bridge.request("resources/templates/list"), "resourceTemplates", "uriTemplate") ==
          std::vector<std::string>{"a.weather://current/{city}", "b.weather://current/{city}", "datetime://now/{timezone}"});
    CHECK(field(bridge.request("prompts/list"), "prompts", "name") ==
          std::vector<std::string>{"a.weather_report", "b.weather_report", "convert_time"});

    // Reads go to the owner, and answer under the URI the host asked for.
    const json cities = bridge.request("resources/read", {{"uri", "b.weather://cities"}});
    REQUIRE(cities.contains("result"));
    CHECK(cities["result"]["contents"][0]["uri"] == "b.weather://cities");
    CHECK(contains(cities["result"]["contents"][0].value("text", ""), "Paris"));
    const json paris = bridge.request("resources/read", {{"uri", "a.weather://current/Paris"}});
    REQUIRE(paris.contains("result"));
    CHECK(paris["result"]["contents"][0]["uri"] == "a.weather://current/Paris");
    CHECK(contains(paris["result"]["contents"][0].value("text", ""), "temperature_c"));
    const json tokyo = bridge.request("resources/read", {{"uri", "datetime://now/Tokyo"}});
    INFO(tokyo.dump());
    REQUIRE(tokyo.contains("result"));
    CHECK(tokyo["result"]["contents"][0]["uri"] == "datetime://now/Tokyo");
    CHECK(contains(tokyo["result"]["contents"][0].value("text", ""), "Asia/Tokyo"));

    // Prompts by their exposed names.
    const json convert = bridge.request(
        "prompts/get", {{"name", "convert_time"},
                        {"arguments", {{"time", "09:00"}, {"from_timezone", "Europe/London"}, {"to_timezone", "Asia/Tokyo"}}}});
    CHECK(contains(convert.dump(), "Use the convert_time tool"));
    const json report = bridge.request("prompts/get", {{"name", "a.weather_report"}, {"arguments", {{"city", "Oslo"}}}});
    CHECK(contains(report.dump(), "What is the weather in Oslo"));

    // Completion of a prompt argument and of a template variable, routed by the reference.
    const json city = bridge.request("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "b.weather_report"}}},
                                                             {"argument", {{"name", "city"}, {"value", "Pari"}}}});
    CHECK(contains(city.dump(), "\"Paris\""));
    const json zone = bridge.request("completion/complete", {{"ref", {{"type", "ref/resource"}, {"uri", "datetime://now/{timezone}"}}},
                                                             {"argument", {{"name", "timezone"}, {"value", "Asia/Tok"}}}});
    CHECK(contains(zone.dump(), "Asia/Tokyo"));

    // The clashing spelling alone names no one; nor does a URI no server offers.
    CHECK(contains(error_of(bridge.request("prompts/get", {{"name", "weather_report"}, {"arguments", {{"city", "Oslo"}}}})),
                   "unknown prompt 'weather_report'"));
    CHECK(contains(error_of(bridge.request("resources/read", {{"uri", "nowhere://x"}})), "unknown resource 'nowhere://x'"));
}

TEST_CASE("bridge --all reports a server that is down at start; its tools appear later with tools/list_changed", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess weather(pki, "weather");
    const int echo_port = free_tcp_port();
    const std::string echo_url = "https://localhost:" + std::to_string(echo_port) + "/mcp";
    SdkHost host;
    auto running = host.start(plan(client_command(pki, {"weather=" + weather.url(), "echo=" + echo_url}, {"bridge", "--all"}),
                                   {{{"op", "list"}}, {{"op", "wait_list_changed"}}, {{"op", "list"}}, call_step("echo", {{"message", "late"}})}));
    auto first = running->read_line(60s);
    REQUIRE(first);
    const json before = json::parse(*first);
    CHECK(before["tools"] == json::array({"get_current_weather", "get_forecast"}));
    CHECK(running->wait_for_log("server_unreachable"));
    CHECK(contains(running->log(), "server=echo"));
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--port", std::to_string(echo_port)});
    std::vector<json> steps;
    while (auto line = running->read_line(30s)) steps.push_back(json::parse(*line));
    INFO(running->log());
    REQUIRE(steps.size() == 3);
    CHECK(steps[0]["op"] == "wait_list_changed");
    CHECK(steps[1]["tools"] == json::array({"get_current_weather", "get_forecast", "echo"}));
    CHECK(steps[2]["text"] == "late");
    CHECK(running->wait_exit(10s) == 0);
}

TEST_CASE("what a server sends inside an answer's event stream reaches the SDK host, and its answers go back", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess everything("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    ServerProcess echo(pki, "echo");
    const json steps_in = {json{{"op", "call"}, {"name", "test_tool_with_progress"}, {"progress", true}},
                           call_step("test_tool_with_logging"),
                           call_step("test_elicitation", {{"message", "who are you?"}}),
                           call_step("test_sampling", {{"prompt", "say something"}}),
                           call_step("test_reconnection")};
    SdkHost host;
    // One server forwarded as it is, and the same behind --all (requests to the host under the bridge's ids).
    for (const auto& mode : std::vector<std::vector<std::string>>{{"bridge", "everything"}, {"bridge", "--all"}}) {
        const auto r = host.run(plan(client_command(pki, {"everything=" + everything.url(), "echo=" + echo.url()}, mode), steps_in));
        INFO(mode.back() << ": " << r.all());
        REQUIRE(r.exit_code == 0);
        const auto steps = SdkHost::steps(r.out);
        REQUIRE(steps.size() == 5);
        CHECK(steps[0]["text"] == "Progress test completed.");
        CHECK(steps[0]["progress"] == 3);
        CHECK(steps[1]["logs"].get<int>() >= 3);
        CHECK(contains(steps[2]["text"].get<std::string>(), "bridge-user"));
        CHECK(contains(steps[3]["text"].get<std::string>(), "sampled through the bridge"));
        CHECK(steps[4]["text"] == "Reconnection test completed successfully");  // resumed with Last-Event-ID
    }
}

TEST_CASE("the server's standalone event stream reaches the host through the bridge", "[bridge][sdk]") {
    DemoPki pki;
    ServerProcess everything("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    SdkHost host;
    const auto r = host.run(plan(client_command(pki, {"everything=" + everything.url()}, {"bridge", "everything"}),
                                 {{{"op", "subscribe"}, {"uri", "test://watched-resource"}},
                                  call_step("test_update_watched_resource"),
                                  {{"op", "wait_resource_updated"}, {"uri", "test://watched-resource"}}}));
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 3);
    CHECK(steps[2]["op"] == "wait_resource_updated");
    CHECK_FALSE(steps[2].contains("error"));
}

TEST_CASE("the server killed and restarted on the same port: the SDK host's next call succeeds", "[bridge][sdk]") {
    DemoPki pki;
    const int port = free_tcp_port();
    const std::vector<std::string> on_port = {"--port", std::to_string(port)};
    auto echo = std::make_unique<ServerProcess>("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), on_port);
    TempDir scratch;
    const std::string go = scratch.file("restarted");
    SdkHost host;
    auto running = host.start(plan(client_command(pki, {"echo=" + echo->url()}, {"bridge", "echo"}),
                                   {call_step("echo", {{"message", "before"}}), {{"op", "wait_file"}, {"path", go}},
                                    call_step("echo", {{"message", "after the restart"}})}));
    auto before = running->read_line(60s);
    REQUIRE(before);
    CHECK(json::parse(*before)["text"] == "before");
    echo->process().signal(SIGKILL);
    echo.reset();
    echo = std::make_unique<ServerProcess>("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), on_port);
    write_text(go, "");
    std::vector<json> steps;
    while (auto line = running->read_line(30s)) steps.push_back(json::parse(*line));
    INFO(running->log());
    REQUIRE(steps.size() == 2);
    CHECK(steps[1]["text"] == "after the restart");
    CHECK_FALSE(steps[1].contains("error"));
    CHECK(contains(running->log(), "session_renewed"));
}

TEST_CASE("a server that is down gets a JSON-RPC error for each request, and the bridge recovers when it is back", "[bridge]") {
    DemoPki pki;
    const int port = free_tcp_port();
    const std::vector<std::string> on_port = {"--port", std::to_string(port)};
    auto echo = std::make_unique<ServerProcess>("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), on_port);
    BridgeUnderTest bridge(client_command(pki, {"echo=" + echo->url()}, {"--timeout", "5", "bridge", "echo"}));
    REQUIRE(bridge.initialize().contains("result"));
    CHECK(text_of(bridge.call("echo", {{"message", "up"}})) == "up");
    echo.reset();  // stopped
    for (int i = 0; i < 2; ++i) {
        const auto started = std::chrono::steady_clock::now();
        const json down = bridge.call("echo", {{"message", "down"}});
        CHECK(std::chrono::steady_clock::now() - started < 5s);  // not a hang
        REQUIRE(down.contains("error"));
        CHECK(down["error"]["code"] == -32000);
        CHECK(contains(error_of(down), "echo: cannot connect"));
        CHECK(down["error"]["data"]["failure"] == "unreachable");
    }
    CHECK(bridge.process().wait_exit(100ms) == -1);  // still running
    echo = std::make_unique<ServerProcess>("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"), on_port);
    CHECK(text_of(bridge.call("echo", {{"message", "back"}})) == "back");
    bridge.process().close_stdin();
    CHECK(bridge.process().wait_exit(10s) == 0);
}

TEST_CASE("pki rotate coordinator, then revoking the old serial and a server reload: the bridge's next call uses the new certificate",
          "[bridge]") {
    DemoPki pki;
    REQUIRE(pki.pki({"crl"}).exit_code == 0);
    ServerProcess echo(pki, "echo", {"--reload-interval", "1"});
    BridgeUnderTest bridge(client_command(pki, {"echo=" + echo.url()}, {"bridge", "echo"}));
    REQUIRE(bridge.initialize().contains("result"));
    CHECK(text_of(bridge.call("echo", {{"message", "before"}})) == "before");

    const std::string old_serial = current_serial(pki.path("coordinator.crt"));
    write_text(pki.path("old-coordinator.crt"), read_text(pki.path("coordinator.crt")));
    write_text(pki.path("old-coordinator.key"), read_text(pki.path("coordinator.key")));
    REQUIRE(pki.pki({"rotate", "coordinator"}).exit_code == 0);
    const std::string new_serial = current_serial(pki.path("coordinator.crt"));
    REQUIRE(new_serial != old_serial);
    REQUIRE(pki.pki({"revoke", "--serial", old_serial, "--reason", "superseded"}).exit_code == 0);
    REQUIRE(echo.process().wait_for_log("trust_changed=true", 10s));
    // The old certificate is refused from now on.
    auto old_client = run_command({bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("old-coordinator.crt"),
                                   "--key", pki.path("old-coordinator.key"), "--server", "echo=" + echo.url(), "call", "echo", "echo",
                                   "message=x"});
    CHECK(old_client.exit_code == 3);

    const json after = bridge.call("echo", {{"message", "after"}});
    INFO(bridge.log());
    CHECK(text_of(after) == "after");
    CHECK(contains(bridge.log(), "client_credentials_reloaded"));
    CHECK(echo.process().wait_for_log("serial=" + new_serial));  // the server saw the new certificate
    CHECK(bridge.process().wait_exit(100ms) == -1);                 // the same bridge, never restarted
}

TEST_CASE("an impostor server is a JSON-RPC error naming the reason in strict mode, and works with a WARNING in --relaxed",
          "[bridge]") {
    DemoPki pki;
    Impostor kind = Impostor::other_ca;
    SECTION("a server certificate from another CA") { kind = Impostor::other_ca; }
    SECTION("an expired server certificate") { kind = Impostor::expired; }
    SECTION("a server certificate for another host name") { kind = Impostor::other_host; }
    const ImpostorServer impostor(pki, kind);
    const std::string url = impostor.url(), reason = impostor.reason(), skipped = impostor.skipped();

    {
        BridgeUnderTest strict(client_command(pki, {"impostor=" + url}, {"--timeout", "3", "bridge", "impostor"}));
        const json answer = strict.initialize();
        INFO(strict.log());
        REQUIRE(answer.contains("error"));
        CHECK(error_of(answer) == "impostor: server certificate rejected: " + reason);
        CHECK(answer["error"]["data"]["failure"] == "server_certificate_rejected");
        const json call = strict.call("echo", {{"message", "x"}});
        CHECK(contains(error_of(call), "server certificate rejected: " + reason));
        strict.process().close_stdin();
        CHECK(strict.process().wait_exit(10s) == 0);
        // One line on stderr per failed request, naming the reason and the certificate.
        CHECK(count_occurrences(strict.log(), "request_failed") == 2);
        CHECK(count_occurrences(strict.log(), "fingerprint_sha256=") == 2);
    }
    {
        BridgeUnderTest relaxed(client_command(pki, {"impostor=" + url}, {"--relaxed", "--timeout", "3", "bridge", "impostor"}));
        const json answer = relaxed.initialize();
        INFO(relaxed.log());
        if (impostor.speaks_mcp()) {
            REQUIRE(answer.contains("result"));
            CHECK(text_of(relaxed.call("echo", {{"message", "relaxed"}})) == "relaxed");
        }
        CHECK(contains(relaxed.log(), "RELAXED MODE"));
        CHECK(contains(relaxed.log(), "skipped_checks=[\"" + skipped + "\"]"));
        CHECK(contains(relaxed.log(), "fingerprint_sha256="));
        relaxed.process().close_stdin();
        CHECK(relaxed.process().wait_exit(10s) == 0);
    }
}

TEST_CASE("bridge --pin trusts exactly the pinned server certificate", "[bridge]") {
    DemoPki pki;
    OpensslCa other;
    other.self_signed("pinned", "serverAuth", "DNS:localhost");
    ServerProcess echo("echo-server", other.path("pinned.crt"), other.path("pinned.key"), pki.path("ca-bundle.crt"));
    auto fingerprint = run_shell("openssl x509 -in '" + other.path("pinned.crt") + "' -noout -fingerprint -sha256 | cut -d= -f2");
    const std::string pin = "sha256:" + fingerprint.out.substr(0, fingerprint.out.find('\n'));

    BridgeUnderTest right(client_command(pki, {"echo=" + echo.url()}, {"--pin", pin, "bridge", "echo"}));
    REQUIRE(right.initialize().contains("result"));
    CHECK(text_of(right.call("echo", {{"message", "pinned"}})) == "pinned");

    BridgeUnderTest wrong(client_command(pki, {"echo=" + echo.url()}, {"--pin", "sha256:" + std::string(64, 'a'), "bridge", "echo"}));
    const json refused = wrong.initialize();
    REQUIRE(refused.contains("error"));
    CHECK(contains(error_of(refused), "does not match --pin"));
}

TEST_CASE("bad input on stdin: a parse error for garbage, the bridge goes on, and every stdout line is one JSON-RPC message",
          "[bridge]") {
    DemoPki pki;
    ServerProcess everything("everything-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"));
    BridgeUnderTest bridge(client_command(pki, {"everything=" + everything.url()}, {"bridge", "everything"}));
    REQUIRE(bridge.initialize().contains("result"));

    bridge.process().write_line("this is not JSON");
    const json garbage = bridge.answer_to(nullptr, 10s);
    REQUIRE(garbage.contains("error"));
    CHECK(garbage["error"]["code"] == -32700);
    bridge.process().write_line(R"({"jsonrpc":"2.0","id":"half)");
    CHECK(bridge.answer_to(nullptr, 10s)["error"]["code"] == -32700);
    bridge.process().write_line(R"({"jsonrpc":"1.0","id":5,"method":"ping"})");
    CHECK(bridge.answer_to(5, 10s)["error"]["code"] == -32600);  // JSON, but not JSON-RPC 2.0
    bridge.process().write_line(std::string(100, '[') + std::string(100, ']'));
    CHECK(bridge.answer_to(nullptr, 10s)["error"]["code"] == -32700);  // nested too deep to parse
    CHECK(text_of(bridge.call("test_simple_text", json::object())).size() > 0);
    CHECK(bridge.request("ping").contains("result"));

    // Many calls at once, each streaming progress and log messages: no line is ever mixed.
    for (int i = 0; i < 20; ++i)
        bridge.process().write_line(json{{"jsonrpc", "2.0"}, {"id", 1000 + i}, {"method", "tools/call"},
                                         {"params", {{"name", "test_tool_with_progress"}, {"arguments", json::object()},
                                                     {"_meta", {{"progressToken", "p" + std::to_string(i)}}}}}}
                                        .dump());
    for (int i = 0; i < 20; ++i) CHECK(text_of(bridge.answer_to(1000 + i)) == "Progress test completed.");
    bridge.process().close_stdin();
    CHECK(bridge.process().wait_exit(10s) == 0);
    size_t progress = 0;
    for (const auto& line : bridge.process().lines()) {
        INFO(line.substr(0, 200));
        const json message = json::parse(line, nullptr, false);
        REQUIRE(message.is_object());
        CHECK(message.value("jsonrpc", "") == "2.0");
        CHECK((message.contains("method") || message.contains("result") || message.contains("error")));
        if (message.value("method", "") == "notifications/progress") ++progress;
    }
    CHECK(progress == 60);
}

TEST_CASE("an oversized stdin line is refused with a parse error without the bridge holding it in memory", "[bridge][rss]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    BridgeUnderTest bridge(client_command(pki, {"echo=" + echo.url()}, {"bridge", "echo"}));
    REQUIRE(bridge.initialize().contains("result"));
    CHECK(text_of(bridge.call("echo", {{"message", "warm"}})) == "warm");
    const long before = rss_kib(bridge.process().pid());
    // 64 MiB in one line (a 1 MiB limit, the servers' --max-body default), sent in pieces.
    const std::string piece(1 << 20, 'x');
    REQUIRE(bridge.process().write(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":")"));
    for (int i = 0; i < 64; ++i) REQUIRE(bridge.process().write(piece));
    REQUIRE(bridge.process().write("\"}}}\n"));
    const json refused = bridge.answer_to(nullptr, 30s);
    REQUIRE(refused.contains("error"));
    CHECK(refused["error"]["code"] == -32700);
    CHECK(contains(error_of(refused), "larger than 1048576 bytes"));
    CHECK(text_of(bridge.call("echo", {{"message", "after"}})) == "after");
    const long after = rss_kib(bridge.process().pid());
    INFO("RSS before " << before << " KiB, after " << after << " KiB");
    if (rss_is_meaningful()) CHECK(after - before < 8 * 1024);
}

TEST_CASE("stdin EOF and SIGTERM end the bridge with exit 0 after ending the remote session", "[bridge]") {
    DemoPki pki;
    // One session at most: a bridge that did not DELETE its session would lock everybody out.
    ServerProcess echo(pki, "echo", {"--max-sessions", "1"});
    for (const bool by_signal : {false, true}) {
        BridgeUnderTest bridge(client_command(pki, {"echo=" + echo.url()}, {"bridge", "echo"}));
        REQUIRE(bridge.initialize().contains("result"));
        CHECK(text_of(bridge.call("echo", {{"message", "hi"}})) == "hi");
        if (by_signal) bridge.process().signal(SIGTERM);
        else bridge.process().close_stdin();
        CHECK(bridge.process().wait_exit(10s) == 0);
        CHECK(contains(bridge.log(), by_signal ? "reason=SIGTERM" : "reason=\"end of input\""));
        CHECK(contains(bridge.log(), "session_closed"));
        auto next = run_command(client_command(pki, {"echo=" + echo.url()}, {"call", "echo", "echo", "message=next"}));
        CHECK(next.exit_code == 0);
    }
}

// The README's example, as a host would read it: only the install folder differs.
TEST_CASE("the README's mcpServers entry runs the bridge as written", "[bridge][sdk]") {
    const std::string readme = read_text(source_path("README.md"));
    const auto heading = readme.find("## Use it from Claude Desktop, Cursor or VS Code");
    REQUIRE(heading != std::string::npos);
    const auto block = readme.find("```json\n{\n  \"mcpServers\"", heading);
    REQUIRE(block != std::string::npos);
    const auto start = readme.find('\n', block) + 1;
    json entries = json::parse(readme.substr(start, readme.find("```", start) - start))["mcpServers"];

    DemoPki pki;
    ServerProcess weather(pki, "weather");
    ServerProcess echo(pki, "echo");
    write_text(pki.path("client.json"), json{{"servers", {{"weather", weather.url()}, {"echo", echo.url()}}},
                                             {"ca", pki.path("ca-bundle.crt")},
                                             {"cert", pki.path("coordinator.crt")},
                                             {"key", pki.path("coordinator.key")}}
                                            .dump());
    auto installed = [&](std::string text) {
        if (text == "/home/me/mcp-mtls/bin/client") return bin_path("client");
        if (text == "/home/me/mcp-mtls/client.json") return pki.path("client.json");
        return text;
    };
    SdkHost host;
    for (const auto& [name, entry] : entries.items()) {
        std::vector<std::string> command = {installed(entry["command"].get<std::string>())};
        for (const auto& arg : entry["args"]) command.push_back(installed(arg.get<std::string>()));
        const auto r = host.run(plan(command, {{{"op", "list"}}, call_step("get_current_weather", {{"city", "Oslo"}})}));
        INFO(name << ": " << r.all());
        REQUIRE(r.exit_code == 0);
        const auto steps = SdkHost::steps(r.out);
        REQUIRE(steps.size() == 2);
        CHECK(contains(steps[1].value("text", ""), "Oslo"));
    }
}

TEST_CASE("a bridge whose session the server evicted (its identity at --max-sessions-per-client) heals on the next call",
          "[bridge][sessions]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--max-sessions-per-client", "2"});
    BridgeUnderTest bridge(client_command(pki, {"echo=" + echo.url()}, {"bridge", "echo"}));
    REQUIRE(bridge.initialize().contains("result"));
    CHECK(text_of(bridge.call("echo", {{"message", "before"}})) == "before");
    // Two more sessions of the same identity (the coordinator's certificate): the bridge's, the
    // least recently used, is ended by the server and answers 404 from now on.
    for (int i = 0; i < 2; ++i) {
        const auto r = curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"),
                                initialize_body());
        REQUIRE(contains(r.out, "Mcp-Session-Id"));
    }
    CHECK(contains(echo.log(), "sessions_evicted"));
    CHECK(text_of(bridge.call("echo", {{"message", "after"}})) == "after");
    bridge.process().close_stdin();
    CHECK(bridge.process().wait_exit(10s) == 0);
}
