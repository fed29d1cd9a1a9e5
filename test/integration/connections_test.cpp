// The connection layer on a real server: handshakes that never finish are closed, whatever the
// client does with its socket.
#include "client/mcp_session.hpp"
#include "test/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

bool served(const DemoPki& pki, const ServerProcess& server) {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path("coordinator.crt");
    settings.key_path = pki.path("coordinator.key");
    client::McpSession session("echo", client::Url::parse(server.url()), std::make_shared<const tls::ClientTlsContext>(settings));
    return session.call_tool("echo", {{"message", "x"}})["content"][0]["text"] == "x";
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
