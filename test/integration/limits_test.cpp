// Resource limits on a real server: worker pool pressure, per-identity rate limits.
#include "client/mcp_session.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/raw_tls.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace mcpmtls;
using namespace mcpmtls::testing;

namespace {

std::shared_ptr<const tls::ClientTlsContext> client_context(const DemoPki& pki, const std::string& name) {
    tls::ClientTlsSettings settings;
    settings.ca_path = pki.path("ca-bundle.crt");
    settings.cert_path = pki.path(name + ".crt");
    settings.key_path = pki.path(name + ".key");
    return std::make_shared<const tls::ClientTlsContext>(settings);
}

client::HttpResponse ping(client::McpSession& session) {
    return session.connection().request("POST",
                                        {{"Content-Type", "application/json"},
                                         {"Accept", "application/json"},
                                         {"Mcp-Session-Id", session.session_id()},
                                         {"MCP-Protocol-Version", "2025-06-18"}},
                                        R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
}

std::string header(const client::HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers)
        if (key.size() == name.size() && strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    return "";
}

}  // namespace

TEST_CASE("a client beyond the workers gets one by closing the longest-idle keep-alive connection", "[limits]") {
    DemoPki pki;
    // Without the governor the third client would wait for the 120 s keep-alive timeout.
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--max-connections", "2", "--keep-alive-timeout", "120"});
    client::McpSession first("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
    first.set_protocol(client::VersionChoice{"2025-11-25"});
    client::McpSession second("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
    second.set_protocol(client::VersionChoice{"2025-11-25"});
    first.initialize();
    second.initialize();  // both workers now hold idle keep-alive connections

    const auto start = std::chrono::steady_clock::now();
    client::McpSession third("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
    third.set_protocol(client::VersionChoice{"2025-11-25"});
    auto reply = third.call_tool("echo", {{"message", "room for me"}});
    CHECK(reply["content"][0]["text"] == "room for me");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));

    // The closed connection was the idle one; its client reconnects transparently.
    CHECK(first.call_tool("echo", {{"message", "a"}})["content"][0]["text"] == "a");
    CHECK(second.call_tool("echo", {{"message", "b"}})["content"][0]["text"] == "b");
    CHECK(first.connection().handshakes() + second.connection().handshakes() >= 3);
    CHECK(echo.process().running());
}

TEST_CASE("ten times more busy clients than workers all get served, no deadlock", "[limits]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--max-connections", "2"});
    auto context = client_context(pki, "coordinator");
    std::atomic<int> answered{0}, failed{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 20; ++c)
        clients.emplace_back([&, c] {
            try {
                client::McpSession session("echo", client::Url::parse(echo.url()), context);
                session.set_protocol(client::VersionChoice{"2025-11-25"});
                for (int i = 0; i < 20; ++i) {
                    const std::string message = std::to_string(c) + "/" + std::to_string(i);
                    if (session.call_tool("echo", {{"message", message}})["content"][0]["text"] == message) ++answered;
                    else ++failed;
                }
            } catch (const std::exception& e) {
                ++failed;
                UNSCOPED_INFO("client " << c << ": " << e.what());
            }
        });
    for (auto& t : clients) t.join();
    if (failed) WARN(echo.log().substr(0, 20000));
    CHECK(failed == 0);
    CHECK(answered == 400);
}

TEST_CASE("a client over its request rate gets 429 with Retry-After; others are unaffected", "[limits]") {
    DemoPki pki;
    REQUIRE(pki.pki({"issue", "client", "bystander"}).exit_code == 0);
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--rate-limit", "5", "--rate-burst", "10"});
    client::McpSession flooder("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
    flooder.set_protocol(client::VersionChoice{"2025-11-25"});
    flooder.initialize();  // one request of the burst
    int ok = 0, limited = 0;
    std::string retry_after;
    for (int i = 0; i < 60; ++i) {
        auto response = ping(flooder);
        if (response.status == 200) ++ok;
        else if (response.status == 429) {
            ++limited;
            retry_after = header(response, "Retry-After");
        }
    }
    // The burst, plus whatever trickled in at 5/s while the loop ran.
    CHECK(ok >= 8);  // initialize took two of the ten
    CHECK(ok < 40);
    CHECK(limited == 60 - ok);
    CHECK(retry_after == "1");
    CHECK(echo.process().wait_for_log("rate_limited"));

    client::McpSession bystander("echo", client::Url::parse(echo.url()), client_context(pki, "bystander"));
    bystander.set_protocol(client::VersionChoice{"2025-11-25"});
    CHECK(bystander.call_tool("echo", {{"message", "mine"}})["content"][0]["text"] == "mine");

    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the bucket refills
    CHECK(ping(flooder).status == 200);
}

TEST_CASE("limit flags are checked: conflicting or out-of-range values exit 2", "[limits]") {
    DemoPki pki;
    auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"bin/echo-server", "--port", "0", "--cert", pki.path("echo.crt"), "--key",
                                         pki.path("echo.key"), "--ca", pki.path("ca-bundle.crt")};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_command(args);
    };
    CHECK(run({"--max-connections", "4", "--threads", "4"}).exit_code == 2);
    CHECK(run({"--max-connections", "0"}).exit_code == 2);
    CHECK(run({"--rate-limit", "-1"}).exit_code == 2);
    CHECK(run({"--rate-burst", "5"}).exit_code == 2);
}


TEST_CASE("verified clients that stall before or in the middle of a request do not keep others out", "[limits][hostile]") {
    DemoPki pki;
    ServerProcess echo("echo-server", pki.path("echo.crt"), pki.path("echo.key"), pki.path("ca-bundle.crt"),
                       {"--max-connections", "1", "--keep-alive-timeout", "120"});
    auto served_within = [&](std::chrono::seconds limit) {
        const auto start = std::chrono::steady_clock::now();
        client::McpSession session("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
        session.set_protocol(client::VersionChoice{"2025-11-25"});
        const bool ok = session.call_tool("echo", {{"message", "x"}})["content"][0]["text"] == "x";
        return ok && std::chrono::steady_clock::now() - start < limit;
    };
    SECTION("silent after the handshake: closed to make room after a grace second") {
        RawTlsClient silent(pki, echo.port(), "coordinator", "");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK(served_within(std::chrono::seconds(8)));
    }
    SECTION("half a request line: the same") {
        RawTlsClient slow(pki, echo.port(), "coordinator", "POST /mcp HTTP/1.1\r\nHost: local");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK(served_within(std::chrono::seconds(8)));
    }
    SECTION("headers sent, body withheld: the 10 s read timeout answers 400, then the connection is idle") {
        RawTlsClient slow(pki, echo.port(), "coordinator", "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                             "Content-Length: 100\r\n\r\n{\"jsonrpc\":");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK(served_within(std::chrono::seconds(25)));
    }
    if (!echo.process().running()) WARN(echo.log());
    CHECK(echo.process().running());
}

TEST_CASE("an endless stream of headers is cut off after 64 KiB, not buffered", "[limits][hostile]") {
    DemoPki pki;
    ServerProcess echo(pki, "echo");
    const long before = rss_kib(echo.process().pid());

    auto flooder = std::make_unique<RawTlsClient>(pki, echo.port());
    REQUIRE(flooder->write("POST /mcp HTTP/1.1\r\nHost: localhost\r\n"));
    // 64 MiB of headers if nobody stops us; each line is well under httplib's 8 KiB line limit.
    const std::string block = [] {
        std::string lines;
        for (int i = 0; i < 400; ++i) lines += "X-Flood-" + std::to_string(i) + ": " + std::string(24, 'x') + "\r\n";
        return lines;
    }();
    size_t sent = 0;
    while (sent < 64u * 1024 * 1024 && flooder->write(block)) sent += block.size();
    INFO("sent " << sent << " bytes of headers before the server closed");
    CHECK(sent < 8u * 1024 * 1024);
    flooder.reset();
    if (rss_is_meaningful()) CHECK(rss_kib(echo.process().pid()) < before + 8 * 1024);

    client::McpSession session("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
    session.set_protocol(client::VersionChoice{"2025-11-25"});
    CHECK(session.call_tool("echo", {{"message", "fine"}})["content"][0]["text"] == "fine");
    CHECK(echo.process().running());
}

TEST_CASE("a server runs with glibc's per-thread cache of freed blocks raised, unless its user chose a size", "[limits]") {
    DemoPki pki;
    {
        ServerProcess echo(pki, "echo");
        const std::string log = echo.log();
        INFO(log);
        if (binaries_are_sanitized()) {
            CHECK(log.find("glibc_tunables=\"\"") != std::string::npos);  // the sanitizer's allocator is not glibc's
        } else {
            CHECK(log.find("glibc_tunables=\"glibc.malloc.tcache_count=64\"") != std::string::npos);
        }
        // Same process (it executed itself once), same arguments: it answers as any server does.
        client::McpSession session("echo", client::Url::parse(echo.url()), client_context(pki, "coordinator"));
        session.initialize();
        CHECK(session.call_tool("echo", {{"message", "tuned"}})["structuredContent"]["message"] == "tuned");
    }
    // The user's choice (another tunable kept, the cache size kept): no exec, no change.
    ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=0:glibc.malloc.tcache_count=7", 1);
    ServerProcess chosen(pki, "echo");
    ::unsetenv("GLIBC_TUNABLES");
    const std::string log = chosen.log();
    INFO(log);
    CHECK(log.find("glibc_tunables=\"glibc.malloc.check=0:glibc.malloc.tcache_count=7\"") != std::string::npos);
    CHECK(log.find("tcache_count=64") == std::string::npos);
}
