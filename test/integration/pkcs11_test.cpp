// Keys that never leave a token: a SoftHSM2 token made in a temporary SOFTHSM2_CONF holds an EC
// P-256 key pair (pkcs11-tool), the token signs a CSR (openssl req through the pkcs11 engine),
// `pki sign` certifies it, and the servers, the client and the bridge use the key by its
// pkcs11: URI. The module is named with --pkcs11-module (and PKCS11_MODULE_PATH for the openssl
// CLI), so no p11-kit configuration of the machine is involved.
#include "test/support/fixtures.hpp"
#include "test/support/sdk_host.hpp"
#include "test/support/softhsm.hpp"
#include "test/support/stdio_process.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

using namespace mcpmtls::testing;
using namespace std::chrono_literals;

namespace {

const std::string& kModule = kSoftHsmModule;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t occurrences(const std::string& text, const std::string& part) {
    size_t count = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
    return count;
}

size_t line_count(const std::string& text) {
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    return lines + (!text.empty() && text.back() != '\n');
}

// A server that cannot start logs one startup_failed event (its log is stderr) and says why
// in one line of its own: the lines that are not log events.
size_t lines_besides_log(const std::string& err) {
    size_t lines = 0;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
        if (!std::regex_search(line, std::regex(R"(^\d{4}-\d\d-\d\dT\S+ error startup_failed )"))) ++lines;
    return lines;
}

// One token key "weather" with a server certificate, a DemoPki to certify it and to give the
// other side its files.
struct TokenServerSetup {
    DemoPki pki;
    SoftHsmToken token;
    std::string cert;
    TokenServerSetup() {
        token.generate_key("weather", "01");
        cert = token.certify(pki, "weather", "server", "hsm-weather", "weather.crt");
    }
    std::vector<std::string> server_args(std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"--cert", cert, "--key", SoftHsmToken::uri("weather"), "--ca", pki.path("ca-bundle.crt")};
        for (const auto& flag : token.flags()) args.push_back(flag);
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
};

CommandResult client_with_file_key(const DemoPki& pki, const std::string& url, std::vector<std::string> command) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key"), "--server", "echo=" + url};
    argv.insert(argv.end(), command.begin(), command.end());
    return run_command(argv);
}

// openssl s_client as a second opinion: the chain to the CA bundle and the host name verified.
CommandResult s_client(const DemoPki& pki, int port) {
    return run_shell("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile '" + pki.path("ca-bundle.crt") +
                     "' -cert '" + pki.path("coordinator.crt") + "' -key '" + pki.path("coordinator.key") +
                     "' -verify_hostname localhost -verify_return_error -showcerts 2>&1");
}

std::string serial_of(const std::string& cert_file) {
    const auto r = run_shell("openssl x509 -noout -serial -in '" + cert_file + "' | cut -d= -f2 | tr A-F a-f");
    return r.out.substr(0, r.out.find('\n'));
}

// The serial of the certificate a server presents, as openssl sees it.
std::string served_serial(const DemoPki& pki, int port) {
    const auto r = run_shell("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile '" +
                             pki.path("ca-bundle.crt") + "' -cert '" + pki.path("coordinator.crt") + "' -key '" +
                             pki.path("coordinator.key") + "' 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2 | tr A-F a-f");
    return r.out.substr(0, r.out.find('\n'));
}

// `client ... bridge echo` with its key in `token` (object "bridge", certificate `cert`).
std::vector<std::string> token_bridge_command(const DemoPki& pki, const SoftHsmToken& token, const std::string& cert,
                                              const std::string& echo_url) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", cert, "--key",
                                     SoftHsmToken::uri("bridge"), "--server", "echo=" + echo_url};
    for (const auto& flag : token.flags()) argv.push_back(flag);
    argv.insert(argv.end(), {"bridge", "echo"});
    return argv;
}

}  // namespace

TEST_CASE("a server whose key is in a token serves a client with a key file, and openssl s_client verifies it", "[pkcs11]") {
    TokenServerSetup setup;
    ServerProcess echo("echo-server", setup.server_args());
    const auto called = client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=signed in the token"});
    INFO(called.all() << echo.log());
    CHECK(called.exit_code == 0);
    CHECK(contains(called.out, "signed in the token"));

    const auto checked = s_client(setup.pki, echo.port());
    INFO(checked.out);
    CHECK(contains(checked.out, "Verify return code: 0 (ok)"));
    CHECK(contains(checked.out, "CN = hsm-weather"));
    // The key never was a file: nothing in the token's folder or the CA's is a PEM private key
    // but the demo PKI's own file keys.
    CHECK(run_shell("grep -rl 'PRIVATE KEY' '" + setup.token.path("") + "'").out.empty());
    CHECK(!contains(echo.log(), "4711"));
    CHECK(echo.process().stop() == 0);  // SIGTERM: a clean exit with the engine's key in use
}

TEST_CASE("an RSA key in a token signs TLS 1.3's RSA-PSS handshakes", "[pkcs11]") {
    DemoPki pki;
    SoftHsmToken token;
    token.generate_key("rsa", "09", "rsa:2048");
    const std::string cert = token.certify(pki, "rsa", "server", "hsm-rsa", "rsa.crt");
    std::vector<std::string> args = {"--cert", cert, "--key", SoftHsmToken::uri("rsa"), "--ca", pki.path("ca-bundle.crt")};
    for (const auto& flag : token.flags()) args.push_back(flag);
    ServerProcess echo("echo-server", args);
    const auto checked = s_client(pki, echo.port());
    INFO(checked.out << echo.log());
    CHECK(contains(checked.out, "Verify return code: 0 (ok)"));
    CHECK(contains(checked.out, "Peer signature type: RSA-PSS"));
    CHECK(contains(client_with_file_key(pki, echo.url(), {"call", "echo", "echo", "message=rsa"}).out, "rsa"));
}

TEST_CASE("a client whose key is in a token calls a server with a key file; the PIN may come from pin-source in the URI",
          "[pkcs11]") {
    DemoPki pki;
    SoftHsmToken token;
    token.generate_key("agent", "02");
    const std::string cert = token.certify(pki, "agent", "client", "hsm-agent", "agent.crt");
    ServerProcess echo(pki, "echo");
    auto call = [&](std::vector<std::string> key_args) {
        std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", cert, "--pkcs11-module", kModule,
                                         "--server", "echo=" + echo.url()};
        argv.insert(argv.end(), key_args.begin(), key_args.end());
        argv.insert(argv.end(), {"call", "echo", "echo", "message=from a token"});
        return run_command(argv);
    };
    const auto with_pin_file = call({"--key", SoftHsmToken::uri("agent"), "--pin-file", token.pin_file()});
    INFO(with_pin_file.all());
    CHECK(with_pin_file.exit_code == 0);
    CHECK(contains(with_pin_file.out, "from a token"));
    const auto with_pin_source = call({"--key", SoftHsmToken::uri("agent") + "?pin-source=file:" + token.pin_file()});
    INFO(with_pin_source.all());
    CHECK(with_pin_source.exit_code == 0);
    CHECK(contains(with_pin_source.out, "from a token"));
    // By the key's CKA_ID instead of its label, percent-encoded as RFC 7512 writes bytes.
    const auto by_id = call({"--key", "pkcs11:token=mcp;id=%02;type=private", "--pin-file", token.pin_file()});
    INFO(by_id.all());
    CHECK(by_id.exit_code == 0);
    CHECK(contains(by_id.out, "from a token"));
    // The server saw the token's certificate.
    CHECK(echo.process().wait_for_log("hsm-agent"));
}

TEST_CASE("mutual TLS with both keys in tokens: our client, and curl through OpenSSL's pkcs11 engine", "[pkcs11]") {
    TokenServerSetup setup;
    setup.token.generate_key("agent", "02");
    const std::string agent = setup.token.certify(setup.pki, "agent", "client", "hsm-agent", "agent.crt");
    ServerProcess echo("echo-server", setup.server_args());

    std::vector<std::string> argv = {bin_path("client"), "--ca", setup.pki.path("ca-bundle.crt"), "--cert", agent, "--key",
                                     SoftHsmToken::uri("agent"), "--server", "echo=" + echo.url()};
    for (const auto& flag : setup.token.flags()) argv.push_back(flag);
    argv.insert(argv.end(), {"call", "echo", "echo", "message=token to token"});
    const auto called = run_command(argv);
    INFO(called.all() << echo.log());
    CHECK(called.exit_code == 0);
    CHECK(contains(called.out, "token to token"));

    // curl takes the key by its URI through the same engine; the PIN is its --pass.
    const auto curled = run_shell("PKCS11_MODULE_PATH='" + kModule + "' curl -sS --max-time 10 --cacert '" +
                                  setup.pki.path("ca-bundle.crt") + "' --cert '" + agent + "' --engine pkcs11 --key-type ENG --key '" +
                                  SoftHsmToken::uri("agent") + "' --pass 4711 -H 'Content-Type: application/json' " +
                                  "-H 'Accept: application/json, text/event-stream' '" + echo.url() + "' -d '" + initialize_body() +
                                  "' 2>&1");
    INFO(curled.out);
    CHECK(contains(curled.out, "\"serverInfo\""));
}

TEST_CASE("the key entry of --config may name a token key, with pkcs11_module and pin_file beside it", "[pkcs11]") {
    TokenServerSetup setup;
    const std::string config = setup.token.path("echo.json");
    write_text(config, nlohmann::json{{"cert", setup.cert},
                                      {"key", SoftHsmToken::uri("weather")},
                                      {"ca", setup.pki.path("ca-bundle.crt")},
                                      {"pkcs11_module", kModule},
                                      {"pin_file", setup.token.pin_file()}}
                           .dump());
    ServerProcess echo("echo-server", {"--config", config});
    const auto called = client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=configured"});
    INFO(called.all() << echo.log());
    CHECK(called.exit_code == 0);
    CHECK(contains(called.out, "configured"));
}

TEST_CASE("`client bridge` with its key in a token serves an MCP host on the official SDK", "[pkcs11][sdk]") {
    DemoPki pki;
    SoftHsmToken token;
    token.generate_key("bridge", "03");
    const std::string cert = token.certify(pki, "bridge", "client", "hsm-bridge", "bridge.crt");
    ServerProcess echo(pki, "echo");
    SdkHost host;
    const std::vector<std::string> command = token_bridge_command(pki, token, cert, echo.url());
    const nlohmann::json plan = {
        {"command", command.front()},
        {"args", std::vector<std::string>(command.begin() + 1, command.end())},
        {"env", {{"SOFTHSM2_CONF", std::getenv("SOFTHSM2_CONF")}}},  // the SDK passes a host's env, not ours
        {"steps", {{{"op", "list"}}, {{"op", "call"}, {"name", "echo"}, {"arguments", {{"message", "bridged from a token"}}}}}}};
    const auto r = host.run(plan);
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    const auto steps = SdkHost::steps(r.out);
    REQUIRE(steps.size() == 2);
    CHECK(steps[1]["text"] == "bridged from a token");
    CHECK(echo.process().wait_for_log("hsm-bridge"));
}

TEST_CASE("the bridge with a token key presents a new certificate for the same key object without a restart", "[pkcs11]") {
    DemoPki pki;
    SoftHsmToken token;
    token.generate_key("bridge", "03");
    const std::string cert = token.certify(pki, "bridge", "client", "hsm-bridge", "bridge.crt");
    ServerProcess echo(pki, "echo");
    TempDir logs;
    StdioProcess bridge(token_bridge_command(pki, token, cert, echo.url()), logs.file("bridge.log"));
    long next_id = 1;
    // One request on the bridge's stdin, its answer from stdout (other messages skipped).
    auto request = [&](const std::string& method, nlohmann::json params) {
        const long id = next_id++;
        bridge.write_line(nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}}.dump());
        while (auto line = bridge.read_line(30s)) {
            const auto message = nlohmann::json::parse(*line, nullptr, false);
            if (message.is_object() && message.value("id", nlohmann::json()) == id) return message;
        }
        return nlohmann::json();
    };
    auto echoed = [&](const std::string& text) {
        const auto answer = request("tools/call", {{"name", "echo"}, {"arguments", {{"message", text}}}});
        return answer.contains("result") ? answer["result"]["content"][0].value("text", "") : answer.dump();
    };
    REQUIRE(request("initialize", {{"protocolVersion", "2025-06-18"},
                                   {"capabilities", nlohmann::json::object()},
                                   {"clientInfo", {{"name", "pkcs11-test"}, {"version", "1"}}}})
                .contains("result"));
    bridge.write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    CHECK(echoed("before") == "before");
    CHECK(echo.process().wait_for_log("serial=" + serial_of(cert)));

    token.certify(pki, "bridge", "client", "hsm-bridge-2", "bridge.crt");
    const std::string renewed = serial_of(cert);
    std::this_thread::sleep_for(300ms);  // past the client's check interval
    CHECK(echoed("after") == "after");
    INFO(bridge.log());
    CHECK(bridge.wait_for_log("client_credentials_reloaded"));
    CHECK(echo.process().wait_for_log("serial=" + renewed));
    CHECK(bridge.wait_exit(100ms) == -1);  // the same bridge
}

TEST_CASE("token keys refused with one line, exit 2: wrong PIN, unknown token or object, PIN as an argument, no module",
          "[pkcs11]") {
    TokenServerSetup setup;
    write_text(setup.token.path("wrong-pin"), "0000\n");
    struct Case {
        std::string what;
        std::vector<std::string> args;  // replacing the setup's
        std::string says;
    };
    const std::string ca = setup.pki.path("ca-bundle.crt");
    const std::vector<Case> cases = {
        {"wrong PIN",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("weather"), "--pkcs11-module", kModule, "--pin-file", setup.token.path("wrong-pin")},
         "wrong PIN for token 'mcp'"},
        {"unknown object",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("nowhere"), "--pkcs11-module", kModule, "--pin-file", setup.token.pin_file()},
         "no private key pkcs11:token=mcp;object=nowhere in token 'mcp'"},
        {"unknown token",
         {"--cert", setup.cert, "--key", "pkcs11:token=other;object=weather", "--pkcs11-module", kModule, "--pin-file", setup.token.pin_file()},
         "no token matches pkcs11:token=other;object=weather"},
        {"PIN on the command line",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("weather") + ";pin-value=4711", "--pkcs11-module", kModule},
         "a PIN in the URI (pin-value) is refused"},
        {"PIN given twice",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("weather") + "?pin-source=" + setup.token.pin_file(), "--pkcs11-module", kModule,
          "--pin-file", setup.token.pin_file()},
         "the PIN is given twice"},
        {"no PIN",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("weather"), "--pkcs11-module", kModule},
         "token 'mcp' needs a PIN"},
        {"missing module",
         {"--cert", setup.cert, "--key", SoftHsmToken::uri("weather"), "--pkcs11-module", setup.token.path("no-such-module.so"),
          "--pin-file", setup.token.pin_file()},
         "no-such-module.so does not exist"},
        {"certificate for another key",
         {"--cert", setup.pki.path("echo.crt"), "--key", SoftHsmToken::uri("weather"), "--pkcs11-module", kModule, "--pin-file",
          setup.token.pin_file()},
         "is not for the key pkcs11:token=mcp;object=weather"},
        {"--pin-file with a key file",
         {"--cert", setup.pki.path("echo.crt"), "--key", setup.pki.path("echo.key"), "--pin-file", setup.token.pin_file()},
         "--pin-file is for a key in a token"},
    };
    for (const auto& c : cases) {
        SECTION(c.what) {
            std::vector<std::string> server = {bin_path("echo-server"), "--port", "0", "--ca", ca};
            server.insert(server.end(), c.args.begin(), c.args.end());
            const auto refused = run_command(server, {}, 20s);
            INFO(refused.all());
            CHECK(refused.exit_code == 2);
            CHECK(lines_besides_log(refused.err) == 1);
            CHECK(line_count(refused.err) <= 2);
            CHECK(contains(refused.err, c.says));
            CHECK(!contains(refused.all(), "4711"));

            std::vector<std::string> client = {bin_path("client"), "--ca", ca};
            client.insert(client.end(), c.args.begin(), c.args.end());
            client.insert(client.end(), {"--server", "echo=https://127.0.0.1:9/mcp", "tools"});
            const auto client_refused = run_command(client, {}, 20s);
            INFO(client_refused.all());
            CHECK(client_refused.exit_code == 2);
            CHECK(line_count(client_refused.err) == 1);
            CHECK(contains(client_refused.err, c.says));
        }
    }
}

TEST_CASE("a new certificate for the same key object is picked up on reload, and --renew-from is refused with a token key",
          "[pkcs11]") {
    TokenServerSetup setup;
    ServerProcess echo("echo-server", setup.server_args({"--reload-interval", "1"}));
    const std::string first = serial_of(setup.cert);
    REQUIRE(served_serial(setup.pki, echo.port()) == first);

    // Rotation by file: the reload-interval poll notices the new file.
    setup.token.certify(setup.pki, "weather", "server", "hsm-weather-2", "weather.crt");
    const std::string second = serial_of(setup.cert);
    REQUIRE(second != first);
    bool served = false;
    for (int i = 0; i < 100 && !served; ++i) {
        served = served_serial(setup.pki, echo.port()) == second;
        if (!served) std::this_thread::sleep_for(100ms);
    }
    INFO(echo.log());
    CHECK(served);

    // And by SIGHUP.
    setup.token.certify(setup.pki, "weather", "server", "hsm-weather-3", "weather.crt");
    echo.process().signal(SIGHUP);
    const std::string third = serial_of(setup.cert);
    served = false;
    for (int i = 0; i < 100 && !served; ++i) {
        served = served_serial(setup.pki, echo.port()) == third;
        if (!served) std::this_thread::sleep_for(100ms);
    }
    CHECK(served);
    const auto called = client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=after two rotations"});
    CHECK(contains(called.out, "after two rotations"));

    std::vector<std::string> renewing = {bin_path("echo-server"), "--port", "0"};
    for (const auto& arg : setup.server_args({"--renew-from", "https://localhost:9443"})) renewing.push_back(arg);
    const auto refused = run_command(renewing, {}, 20s);
    CHECK(refused.exit_code == 2);
    CHECK(line_count(refused.err) == 1);
    CHECK(contains(refused.err, "a key in a token cannot be replaced by a renewal"));
}

// SoftHSM2 cannot bring a token back to a process that saw it go: once its folder fails the
// integrity check, the module marks the token invalid until it is finalized (OSToken::index
// returns early while !valid), so a token module that reports re-insertion is what recovery
// needs. The server tries the key again at every poll (debug tls_key_still_unavailable); this
// test checks the outage side, which any module shows.
TEST_CASE("a token taken out while a server runs: established connections carry on, new handshakes fail, and the reason is "
          "logged once",
          "[pkcs11]") {
    TokenServerSetup setup;
    ServerProcess echo("echo-server", setup.server_args({"--reload-interval", "1"}));
    REQUIRE(client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=before"}).exit_code == 0);

    // One keep-alive connection, made before the token goes and used all through its absence.
    CommandResult kept;
    std::thread keep_alive([&] {
        kept = run_command({bin_path("client"), "--ca", setup.pki.path("ca-bundle.crt"), "--cert", setup.pki.path("coordinator.crt"),
                            "--key", setup.pki.path("coordinator.key"), "bench", "--server", echo.url(), "--quiet", "--json",
                            "--connections", "1", "--duration", "5"},
                           {}, 30s);
    });
    std::this_thread::sleep_for(1s);
    setup.token.unplug();
    const auto refused = client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=while away"});
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "internal error"));
    const bool logged = echo.process().wait_for_log("tls_key_unavailable", 10s);
    CHECK(client_with_file_key(setup.pki, echo.url(), {"call", "echo", "echo", "message=still away"}).exit_code != 0);
    keep_alive.join();
    REQUIRE(kept.exit_code == 0);
    const auto run = nlohmann::json::parse(kept.out);
    CHECK(run["ok"].get<int>() > 0);
    CHECK(run["failed"].get<int>() == 0);
    CHECK(run["handshakes"].get<int>() == 1);

    const std::string log = echo.log();
    CHECK(logged);
    CHECK(contains(log, "TLS handshake failed on our side"));
    CHECK(contains(log, "Object handle invalid"));  // the token's own reason, in tls_key_unavailable
    const size_t outages = occurrences(log, "tls_key_unavailable");
    CHECK(outages == 1);  // once per outage, however many handshakes failed in it
    CHECK(!contains(log, "4711"));
    CHECK(echo.process().running());
    setup.token.plug_in();  // for the token's own clean-up
}

// What the server does when a token comes back, shown with what SoftHSM2 can bring back to a
// running process: the key deleted from the token (the engine's handle dies, as with a token
// taken out) and written back under the same label.
TEST_CASE("a key that leaves the token and comes back: new handshakes fail meanwhile, and the server recovers without a restart",
          "[pkcs11]") {
    DemoPki pki;
    SoftHsmToken token;
    const std::string key = token.path("outside.key");
    REQUIRE(run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key}).exit_code == 0);
    token.import_key("weather", "01", key);
    const std::string cert = token.certify(pki, "weather", "server", "hsm-weather", "weather.crt");
    std::vector<std::string> args = {"--cert", cert, "--key", SoftHsmToken::uri("weather"), "--ca", pki.path("ca-bundle.crt"),
                                     "--reload-interval", "1"};
    for (const auto& flag : token.flags()) args.push_back(flag);
    ServerProcess echo("echo-server", args);
    REQUIRE(client_with_file_key(pki, echo.url(), {"call", "echo", "echo", "message=before"}).exit_code == 0);

    token.delete_key("weather");
    CHECK(client_with_file_key(pki, echo.url(), {"call", "echo", "echo", "message=while away"}).exit_code != 0);
    CHECK(echo.process().wait_for_log("tls_key_unavailable", 10s));
    std::this_thread::sleep_for(2s);  // polls that find no key: tried again, not logged again
    CHECK(client_with_file_key(pki, echo.url(), {"call", "echo", "echo", "message=still away"}).exit_code != 0);

    token.import_key("weather", "01", key);
    const bool recovered = echo.process().wait_for_log("tls_key_recovered", 10s);
    INFO(echo.log());
    CHECK(recovered);
    const auto back = client_with_file_key(pki, echo.url(), {"call", "echo", "echo", "message=back again"});
    CHECK(back.exit_code == 0);
    CHECK(contains(back.out, "back again"));
    const std::string log = echo.log();
    const size_t outages = occurrences(log, "tls_key_unavailable");
    CHECK(outages == 1);
}
