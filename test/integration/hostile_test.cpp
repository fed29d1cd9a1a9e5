// Hostile input against a real server: after each, the server still answers a valid client.
#include "client/mcp_session.hpp"
#include "common/strings.hpp"
#include "pki/certificate.hpp"
#include "test/support/fixtures.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

// Sends raw bytes over plain TCP and returns whatever comes back before the peer closes or
// `wait` passes.
std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) {
    try {
        TcpConnection connection(port);
        if (!bytes.empty() && !connection.send(bytes)) return "<send failed>";
        return connection.receive(wait);
    } catch (const std::runtime_error&) {
        return "<connect failed>";
    }
}

std::shared_ptr<const tls::ClientTlsContext> coordinator(const DemoPki& pki) {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("coordinator.crt");
    settings.key_path = pki.path("coordinator.key");
    return std::make_shared<const tls::ClientTlsContext>(settings);
}

bool valid_client_served(const DemoPki& pki, const ServerProcess& server) {
    try {
        client::McpSession session("echo", client::Url::parse(server.url()), coordinator(pki));
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        auto r = session.call_tool("echo", {{"message", "still here"}});
        return r["content"][0]["text"] == "still here";
    } catch (const std::exception&) {
        return false;
    }
}

// POSTs `body` on an initialized session with raw JSON (no client-side validation).
client::HttpResponse post_raw(client::McpSession& session, const std::string& body) {
    return session.connection().request("POST",
                                        {{"Content-Type", "application/json"},
                                         {"Accept", "application/json"},
                                         {"Mcp-Session-Id", session.session_id()},
                                         {"MCP-Protocol-Version", "2025-06-18"}},
                                        body);
}

}  // namespace

TEST_CASE("plain HTTP, random bytes and a truncated ClientHello on the TLS port are refused harmlessly", "[hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto http = raw_exchange(echo.port(), "GET /mcp HTTP/1.1\r\nHost: localhost\r\n\r\n");
    CHECK(http.find("HTTP/1.1 200") == std::string::npos);
    std::mt19937 rng(42);
    std::string noise(4096, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    raw_exchange(echo.port(), noise);
    // The first bytes of a TLS 1.2 ClientHello, then silence.
    raw_exchange(echo.port(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), std::chrono::milliseconds(300));
    CHECK(valid_client_served(pki, echo));
    CHECK(echo.process().running());
}

TEST_CASE("malformed and oversized JSON-RPC bodies get errors and change nothing", "[hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    client::McpSession session("echo", client::Url::parse(echo.url()), coordinator(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();
    CHECK(post_raw(session, "{\"jsonrpc\":").status == 400);
    CHECK(post_raw(session, std::string(100000, '[')).status == 400);  // 100,000 levels: no stack overflow
    CHECK(post_raw(session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"\xc3\x28\"}}}").status == 400);
    CHECK(post_raw(session, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":42}}})")
              .body.find("-32602") != std::string::npos);
    CHECK(post_raw(session, R"({"jsonrpc":"2.0","id":[1],"method":"ping"})").status == 400);
    auto big = post_raw(session, "{\"x\":\"" + std::string(2 * 1024 * 1024, 'a') + "\"}");
    CHECK(big.status == 413);
    CHECK(valid_client_served(pki, echo));
}

TEST_CASE("10,000 tiny requests on one connection all succeed", "[hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    client::McpSession session("echo", client::Url::parse(echo.url()), coordinator(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    session.initialize();
    int ok = 0;
    for (int i = 0; i < 10000; ++i) ok += session.request("ping", nlohmann::json::object()).is_object();
    CHECK(ok == 10000);
    CHECK(session.connection().handshakes() == 1);  // one connection the whole time
}

TEST_CASE("clients that stall mid-handshake do not hold workers forever", "[hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--threads", "2"});
    std::vector<std::thread> stallers;
    for (int i = 0; i < 3; ++i)
        stallers.emplace_back([&] { raw_exchange(echo.port(), std::string("\x16\x03\x01", 3), std::chrono::milliseconds(12000)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    CHECK(valid_client_served(pki, echo));  // waits for a worker that the read timeout frees
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(25));
    for (auto& t : stallers) t.join();
    CHECK(echo.process().running());
}

TEST_CASE("a flood of headers is refused without harm", "[hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    std::vector<std::string> extra;
    for (int i = 0; i < 2000; ++i) extra.insert(extra.end(), {"-H", "X-Flood-" + std::to_string(i) + ": " + std::string(100, 'x')});
    curl_mcp(echo.url(), pki.path("ca.crt"), pki.path("coordinator.crt"), pki.path("coordinator.key"), initialize_body(), extra);
    CHECK(valid_client_served(pki, echo));
    CHECK(echo.process().running());
}

TEST_CASE("after a round of hostile input the server's memory returns near its baseline", "[hostile][rss]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    auto round = [&] {
        client::McpSession session("echo", client::Url::parse(echo.url()), coordinator(pki));
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        session.initialize();
        post_raw(session, std::string(100000, '['));
        post_raw(session, "{\"x\":\"" + std::string(900 * 1024, 'a') + "\"}");  // under the 1 MiB limit: read whole
        post_raw(session, "{\"x\":\"" + std::string(2 * 1024 * 1024, 'a') + "\"}");
        for (int i = 0; i < 500; ++i) session.request("ping", nlohmann::json::object());
        raw_exchange(echo.port(), std::string(4096, 'x'), std::chrono::milliseconds(200));
    };
    // The first round warms what a server keeps for good (allocator arenas of the threads that
    // ran, caches); later rounds must not add to it.
    round();
    round();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long baseline = rss_kib(echo.process().pid());
    REQUIRE(baseline > 0);
    for (int i = 0; i < 5; ++i) round();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long after = rss_kib(echo.process().pid());
    INFO("RSS baseline " << baseline << " KiB, after 5 more rounds " << after << " KiB");
    CHECK(after < baseline + 4 * 1024);  // leaking the 900 KiB body each round would add 4.5 MiB
    CHECK(valid_client_served(pki, echo));
}

// Found by the certificate fuzz target: Botan 2 throws when converting a time before 1970 or
// after 2400, and an exception must never reach OpenSSL's C frames in the verify callback.
TEST_CASE("client certificates dated 1950 to 2270 get a verdict, not a crash", "[hostile][x509]") {
    DemoPki pki;
    OpensslCa::issue_with(pki.path("ca.crt"), pki.path("ca.key"), pki.dir(), "ancient", "clientAuth",
                          "URI:spiffe://demo/ancient", "19500101000000Z", "22700101000000Z");
    const auto cert = pki::Certificate::load(pki.path("ancient.crt"));
    CHECK(format_rfc3339(cert.not_before()) == "1950-01-01T00:00:00Z");
    CHECK(cert.not_after() == pki::TimePoint::max());  // past what a time point holds (2262): clamped
    CHECK(run_command({bin_path("pki"), "inspect", pki.path("ancient.crt")}).exit_code == 0);
    CHECK(run_command({bin_path("pki"), "verify", "--ca", pki.path("ca.crt"), "--purpose", "client", pki.path("ancient.crt")})
              .exit_code == 0);

    ServerProcess echo(pki, "echo");
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("ancient.crt");
    settings.key_path = pki.path("ancient.key");
    client::McpSession session("echo", client::Url::parse(echo.url()), std::make_shared<const tls::ClientTlsContext>(settings));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    CHECK(session.call_tool("echo", {{"message", "old but valid"}})["content"][0]["text"] == "old but valid");
    CHECK(echo.process().running());
    CHECK(valid_client_served(pki, echo));
}
