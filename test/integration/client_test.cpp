// The coordinator client against real servers: strict refuses impostors with the right reason,
// relaxed and pinning let demos through, ask routes questions.
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace mcpmtls::testing;

namespace {

CommandResult client(const DemoPki& pki, const std::vector<std::string>& servers, std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("client"), "--ca", pki.path("ca-bundle.crt"), "--cert", pki.path("coordinator.crt"),
                                     "--key", pki.path("coordinator.key")};
    for (const auto& s : servers) argv.insert(argv.end(), {"--server", s});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("strict mode succeeds against the demo PKI", "[client]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto r = client(pki, {"echo=" + echo.url()}, {"call", "echo", "echo", "message=strict"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "strict\n");
    auto by_ip = client(pki, {"echo=" + echo.url("127.0.0.1")}, {"call", "echo", "echo", "message=ip"});
    CHECK(by_ip.exit_code == 0);
}

TEST_CASE("strict mode exits 3 against an impostor server, naming the failed check; relaxed gets through with a WARNING",
          "[client]") {
    DemoPki pki;
    Impostor kind = Impostor::self_signed;
    SECTION("self-signed server certificate") { kind = Impostor::self_signed; }
    SECTION("a server certificate from another CA") { kind = Impostor::other_ca; }
    SECTION("an expired server certificate") { kind = Impostor::expired; }
    SECTION("a server certificate for another host name") { kind = Impostor::other_host; }
    const ImpostorServer impostor(pki, kind);
    const std::string url = impostor.url(), reason = impostor.reason(), skipped = impostor.skipped();

    // openssl s_server does not speak MCP: a short timeout ends that conversation after the handshake.
    auto strict = client(pki, {"impostor=" + url}, {"--timeout", "2", "tools"});
    CHECK(strict.exit_code == 3);
    CHECK(contains(strict.err, "impostor"));
    CHECK(contains(strict.err, reason));

    auto relaxed = client(pki, {"impostor=" + url}, {"--relaxed", "--timeout", "2", "tools"});
    CHECK(contains(relaxed.err, "RELAXED MODE"));
    CHECK(contains(relaxed.err, "skipped_checks=[\"" + skipped + "\"]"));
    CHECK(contains(relaxed.err, "fingerprint_sha256="));
    if (impostor.speaks_mcp()) {
        CHECK(relaxed.exit_code == 0);
        CHECK(contains(relaxed.out, "echo("));
    }
}

TEST_CASE("--pin trusts exactly the pinned server certificate", "[client]") {
    DemoPki pki;
    OpensslCa other;
    other.self_signed("pinned", "serverAuth", "DNS:localhost");
    ServerProcess echo("echo-server", other.path("pinned.crt"), other.path("pinned.key"), pki.path("ca-bundle.crt"));
    auto fingerprint = run_shell("openssl x509 -in '" + other.path("pinned.crt") + "' -noout -fingerprint -sha256 | cut -d= -f2");
    std::string pin = "sha256:" + fingerprint.out.substr(0, fingerprint.out.find('\n'));
    auto right = client(pki, {"echo=" + echo.url()}, {"--pin", pin, "call", "echo", "echo", "message=pinned"});
    CHECK(right.exit_code == 0);
    CHECK(right.out == "pinned\n");
    std::string wrong_pin = "sha256:" + std::string(64, 'a');
    auto wrong = client(pki, {"echo=" + echo.url()}, {"--pin", wrong_pin, "call", "echo", "echo", "message=x"});
    CHECK(wrong.exit_code == 3);
    CHECK(contains(wrong.err, "does not match --pin"));
    auto malformed = client(pki, {"echo=" + echo.url()}, {"--pin", "sha256:1234", "tools"});
    CHECK(malformed.exit_code == 2);
}

TEST_CASE("a server that refuses our client certificate gives a clear error, not a hang", "[client]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--allow-client", "spiffe://demo/somebody-else"});
    auto start = std::chrono::steady_clock::now();
    auto r = client(pki, {"echo=" + echo.url()}, {"--timeout", "5", "tools"});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "refused"));
    CHECK(contains(r.err, "client certificate"));
}

TEST_CASE("plain http is refused unless --allow-http, and an unreachable server is exit 1", "[client]") {
    DemoPki pki;
    auto http = client(pki, {"x=http://127.0.0.1:1/mcp"}, {"tools"});
    CHECK(http.exit_code == 2);
    CHECK(contains(http.err, "--allow-http"));
    auto down = client(pki, {"x=https://127.0.0.1:1/mcp"}, {"tools"});
    CHECK(down.exit_code == 1);
    CHECK(contains(down.err, "cannot connect"));
    auto usage = client(pki, {}, {"frobnicate"});
    CHECK(usage.exit_code == 2);
}

TEST_CASE("ask answers the example questions from the servers' own tools", "[client]") {
    DemoPki pki;
    ServerProcess weather(pki, "weather");
    ServerProcess datetime(pki, "datetime");
    ServerProcess echo(pki, "echo");
    const std::vector<std::string> all = {"weather=" + weather.url(), "datetime=" + datetime.url(), "echo=" + echo.url()};
    auto ask = [&](const std::string& question) { return client(pki, all, {"ask", question}); };

    auto r = ask("What's the weather in Paris?");
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Weather in Paris, France"));
    r = ask("forecast for Tokyo for 3 days");
    CHECK(contains(r.out, "3-day forecast for Tokyo"));
    r = ask("what time is it in New York?");
    CHECK(contains(r.out, "America/New_York"));
    r = ask("convert 09:00 from London to Sydney");
    CHECK(contains(r.out, "T09:00:00"));
    CHECK(contains(r.out, "Europe/London"));
    CHECK(contains(r.out, "Australia/Sydney"));
    r = ask("echo hello");
    CHECK(r.out == "hello\n");
    r = ask("weather in Oslo and the time in Tokyo");
    CHECK(contains(r.out, "[weather] Weather in Oslo"));
    CHECK(contains(r.out, "[datetime] It is"));
    CHECK(contains(r.out, "Asia/Tokyo"));
    // A place the time-zone database does not name: the datetime server knows the city.
    r = ask("what time is it in Mumbai?");
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Asia/Kolkata"));
    r = ask("what is the meaning of life?");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "I can answer questions for these tools"));
}

TEST_CASE("check reports TLS and certificate details and passes only when every server does", "[client]") {
    DemoPki pki;
    OpensslCa other;
    other.self_signed("selfsigned", "serverAuth", "DNS:localhost");
    ServerProcess good(pki, "echo");
    ServerProcess bad("echo-server", other.path("selfsigned.crt"), other.path("selfsigned.key"), pki.path("ca-bundle.crt"));
    auto ok = client(pki, {"good=" + good.url()}, {"check"});
    CHECK(ok.exit_code == 0);
    CHECK(contains(ok.out, "PASS good"));
    CHECK(contains(ok.out, "tls_version: TLSv1.3"));
    CHECK(contains(ok.out, "client_certificate: accepted"));
    auto mixed = client(pki, {"good=" + good.url(), "bad=" + bad.url()}, {"check"});
    CHECK(mixed.exit_code != 0);
    CHECK(contains(mixed.out, "FAIL bad"));
    CHECK(contains(mixed.out, "strict_verdict: self-signed certificate is not trusted"));
}

// The TypeScript SDK's server may buffer a whole answer and send its event stream with a
// Content-Length: the client must still read the events (it once waited for a stream's end that
// had come, and said the server "ended its event streams without answering initialize").
TEST_CASE("an event stream sent with a Content-Length is read event by event", "[client]") {
    TempDir dir;
    const int port = free_tcp_port();
    const std::string server = R"PY(
import http.server, json, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_POST(self):
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method = message.get("method")
        if "id" not in message:
            self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers(); return
        if method == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "buffered", "version": "1"}}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": message["params"]["arguments"]["message"]}]}
        else:
            result = {"tools": [{"name": "echo", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}}]}
        body = ("event: message\ndata: " + json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        if method == "initialize": self.send_header("Mcp-Session-Id", "s1")
        self.end_headers()
        self.wfile.write(body)
    def do_DELETE(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
)PY";
    write_text(dir.file("server.py"), server);
    BackgroundProcess python({"python3", dir.file("server.py"), std::to_string(port)}, dir.file("server.log"));
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
    CommandResult r;
    for (int attempt = 0; attempt < 50; ++attempt) {  // until the script listens
        r = run_command({bin_path("client"), "--allow-http", "--protocol-version", "2025-11-25", "--server", "buffered=" + url, "call",
                         "buffered", "echo", "message=buffered answer"});
        if (!contains(r.err, "cannot connect")) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(r.exit_code == 0);
    CHECK(r.out == "buffered answer\n");
    CHECK(r.err.find("without answering") == std::string::npos);
}
