// The connection layer on a real server: handshakes that never finish are closed, whatever the
// client does with its socket.
#include "client/mcp_session.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/raw_tls.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <regex>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

std::shared_ptr<const tls::ClientTlsContext> context(const DemoPki& pki, const std::string& name = "coordinator") {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path(name + ".crt");
    settings.key_path = pki.path(name + ".key");
    return std::make_shared<const tls::ClientTlsContext>(settings);
}

// A valid client's call, with a 10 s limit on connecting and answering.
bool served(const DemoPki& pki, const ServerProcess& server) {
    client::Timeouts timeouts;
    timeouts.io = std::chrono::seconds(10);
    client::McpSession session("echo", client::Url::parse(server.url()), context(pki), timeouts);
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    try {
        return session.call_tool("echo", {{"message", "x"}})["content"][0]["text"] == "x";
    } catch (const std::exception& e) {
        WARN(e.what());
        return false;
    }
}

size_t count(const std::string& text, const std::regex& pattern) {
    return static_cast<size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator()));
}

// The first bytes of a TLS 1.2 ClientHello record: the server waits for the rest.
const std::string kClientHelloStart = std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(32, 'r');

}  // namespace

TEST_CASE("a TLS handshake that does not finish within --handshake-timeout is closed", "[connections]") {
    DemoPki pki;
    // The per-read timeout stays 10 s: only the handshake deadline can close these in time.
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--handshake-timeout", "1"});
    SECTION("a connection that never sends a ClientHello") {
        TcpConnection silent(echo.port());
        CHECK(silent.closed_by_server_within(std::chrono::seconds(5)));
    }
    SECTION("a ClientHello trickling in a byte at a time") {
        TcpConnection slow(echo.port());
        bool closed = false;
        for (size_t i = 0; i < kClientHelloStart.size() && !closed; ++i)
            closed = !slow.send(kClientHelloStart.substr(i, 1)) || slow.closed_by_server_within(std::chrono::milliseconds(250));
        CHECK(closed);
    }
    CHECK(served(pki, echo));
    CHECK(echo.process().running());
}

TEST_CASE("connections stuck before their handshake never keep a verified client waiting", "[connections]") {
    DemoPki pki;
    // Four workers, a handshake timeout longer than the client waits: only closing unfinished
    // handshakes first can serve the valid client.
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--max-connections", "4", "--handshake-timeout", "60", "--max-handshakes-per-source", "1000"});
    std::vector<std::unique_ptr<TcpConnection>> stalled;
    for (int i = 0; i < 20; ++i) stalled.push_back(std::make_unique<TcpConnection>(echo.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(served(pki, echo));
    CHECK(echo.process().running());
}

TEST_CASE("one address holds at most --max-handshakes-per-source unfinished handshakes; the oldest go first", "[connections]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--max-handshakes-per-source", "3", "--handshake-timeout", "60"});
    std::vector<std::unique_ptr<TcpConnection>> stalled;
    for (int i = 0; i < 10; ++i) {
        stalled.push_back(std::make_unique<TcpConnection>(echo.port()));
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // in order, each handshake started
    }
    size_t closed_oldest = 0, closed_newest = 0;
    for (size_t i = 0; i < 7; ++i) closed_oldest += stalled[i]->closed_by_server_within(std::chrono::seconds(3));
    for (size_t i = 7; i < 10; ++i) closed_newest += stalled[i]->closed_by_server_within(std::chrono::milliseconds(300));
    CHECK(closed_oldest == 7);
    CHECK(closed_newest == 0);
    // A verified client from the same address still gets in: its handshake is the newest.
    CHECK(served(pki, echo));
}

TEST_CASE("a body larger than --max-body gets 413 and Connection: close before any of it is read", "[connections]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo", {"--max-body", "4096"});
    const std::string head = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             "Accept: application/json\r\nContent-Length: 4194304\r\n";
    SECTION("without Expect: 100-continue, the body withheld") {
        RawTlsClient client(pki, echo.port(), "coordinator", head + "\r\n");
        const std::string answer = client.read_all(std::chrono::seconds(5));
        CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(answer.find("Connection: close") != std::string::npos);
        CHECK(answer.find("request body larger than 4096 bytes") != std::string::npos);
    }
    SECTION("with Expect: 100-continue") {
        RawTlsClient client(pki, echo.port(), "coordinator", head + "Expect: 100-continue\r\n\r\n");
        CHECK(client.read_all(std::chrono::seconds(5)).rfind("HTTP/1.1 413", 0) == 0);
    }
    SECTION("the body streamed: the bytes after the headers are never taken for a next request") {
        RawTlsClient client(pki, echo.port(), "coordinator", head + "\r\n");
        const std::string chunk(16384, ' ');
        for (int i = 0; i < 8 && client.write(chunk); ++i) {
        }
        const std::string answer = client.read_all(std::chrono::seconds(5));
        CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(answer.find("HTTP/1.1 400") == std::string::npos);
    }
    CHECK(echo.process().wait_for_log("closed after its answer"));
    CHECK(served(pki, echo));
}

TEST_CASE("handshakes, requests and closes are logged as what they are", "[connections]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--handshake-timeout", "1"});
    {
        RawTlsClient cut(pki, echo.port(), "coordinator", "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\n{");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        cut.abort();
    }
    REQUIRE(echo.process().wait_for_log("connection_closed"));
    const std::string log = echo.log();
    CHECK(std::regex_search(log, std::regex(R"(connection_closed client=spiffe://demo/coordinator peer=127\.0\.0\.1:\d+ )"
                                            R"(reason="the connection ended in the middle of a request" requests=0)")));
    CHECK(log.find("TLS handshake failed") == std::string::npos);
    CHECK(log.find("peer=unknown") == std::string::npos);

    TcpConnection silent(echo.port());
    CHECK(silent.closed_by_server_within(std::chrono::seconds(5)));
    // Unauthenticated connections are summed up by their true reason, not logged one by one.
    CHECK(echo.process().wait_for_log("reason=\"the client sent nothing within --handshake-timeout\""));
    CHECK(echo.log().find("handshakes_failed code=silent_timeout count=1") != std::string::npos);
}

TEST_CASE("many handshakes presenting the same new chain at once cost one path validation", "[connections]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "fleet", "--uri", "spiffe://demo/fleet"}).exit_code == 0);
    ServerProcess echo(pki, "echo", {"--verbose"});
    const auto tls = context(pki, "fleet");
    constexpr int kClients = 24;
    std::atomic<int> ready{0}, ok{0};
    std::mutex errors_mutex;
    std::vector<std::string> errors;
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i)
        clients.emplace_back([&] {
            client::HttpConnection connection(client::Url::parse(echo.url()), tls);
            ++ready;
            while (ready.load() < kClients) std::this_thread::yield();
            try {
                connection.connect();
                ++ok;
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errors_mutex);
                errors.push_back(e.what());
            }
        });
    for (auto& t : clients) t.join();
    for (const auto& error : errors) WARN(error);
    CHECK(ok == kClients);
    REQUIRE(echo.process().wait_for_log("sans=[\"URI:spiffe://demo/fleet\"]", std::chrono::milliseconds(5000), kClients));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the asynchronous log catches up
    const std::string log = echo.log();
    CHECK(count(log, std::regex("client_chain_validated .*CN=fleet")) == 1);
    CHECK(count(log, std::regex("cached=true")) == kClients - 1);
}

TEST_CASE("a client the server closed after the keep-alive timeout reconnects by resuming its TLS session", "[connections]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--keep-alive-timeout", "1", "--verbose"});
    client::McpSession session("echo", client::Url::parse(echo.url()), context(pki));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    CHECK(session.call_tool("echo", {{"message", "before"}})["content"][0]["text"] == "before");
    REQUIRE(echo.process().wait_for_log("idle for the keep-alive timeout", std::chrono::milliseconds(5000)));
    CHECK(session.call_tool("echo", {{"message", "after"}})["content"][0]["text"] == "after");
    CHECK(session.connection().handshakes() == 2);
    CHECK(session.connection().resumed_handshakes() == 1);
}
