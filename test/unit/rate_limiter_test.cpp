// Per-identity token buckets, with the clock passed in so the arithmetic is checked exactly.
#include "mcp/rate_limiter.hpp"
#include "mcp/streamable_http.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using namespace std::chrono_literals;

TEST_CASE("a client gets its burst, then one request per 1/rate seconds", "[rate]") {
    mcp::RateLimiter limiter(10, 3);
    const auto t0 = mcp::RateLimiter::Clock::now();
    for (int i = 0; i < 3; ++i) CHECK(limiter.acquire("alice", t0).allowed);
    auto refused = limiter.acquire("alice", t0);
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after == 100ms);
    CHECK(refused.first_refusal);
    CHECK_FALSE(limiter.acquire("alice", t0 + 50ms).first_refusal);  // one audit line per burst of refusals
    CHECK(limiter.acquire("alice", t0 + 100ms).allowed);             // 0.5 + 0.5 tokens refilled
    CHECK_FALSE(limiter.acquire("alice", t0 + 100ms).allowed);
    CHECK(limiter.acquire("alice", t0 + 10s).allowed);  // refills up to the burst, no further
    CHECK(limiter.acquire("alice", t0 + 10s).allowed);
    CHECK(limiter.acquire("alice", t0 + 10s).allowed);
    CHECK_FALSE(limiter.acquire("alice", t0 + 10s).allowed);
}

TEST_CASE("one client's flood does not touch another client's budget", "[rate]") {
    mcp::RateLimiter limiter(1, 1);
    const auto t0 = mcp::RateLimiter::Clock::now();
    CHECK(limiter.acquire("flooder", t0).allowed);
    for (int i = 0; i < 100; ++i) CHECK_FALSE(limiter.acquire("flooder", t0).allowed);
    CHECK(limiter.acquire("bystander", t0).allowed);
}

TEST_CASE("the limiter forgets refilled clients instead of growing without bound", "[rate]") {
    mcp::RateLimiter limiter(100, 1, 16);  // one bucket per shard
    const auto t0 = mcp::RateLimiter::Clock::now();
    for (int i = 0; i < 1000; ++i) limiter.acquire("client-" + std::to_string(i), t0 + std::chrono::seconds(i));
    CHECK(limiter.tracked() <= 16);
}

TEST_CASE("rate 0 disables limiting", "[rate]") {
    mcp::RateLimiter limiter(0, 0);
    for (int i = 0; i < 1000; ++i) REQUIRE(limiter.acquire("x").allowed);
}

TEST_CASE("the MCP server answers 429 with Retry-After once a client is over its rate", "[rate][mcp]") {
    mcp::ServerOptions options;
    options.rate_limit = 1;
    options.rate_burst = 2;
    mcp::StreamableHttpServer server(options, mcp::ToolRegistry{});
    tls::PeerIdentity alice;
    alice.common_name = "alice";
    alice.fingerprint_sha256 = "aa";
    tls::PeerIdentity bob = alice;
    bob.common_name = "bob";
    bob.fingerprint_sha256 = "bb";
    mcp::HttpRequest ping;
    ping.method = "POST";
    ping.body = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
    ping.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    // A sessionless ping is refused with 400 by the session rule; what matters is that it is not 429.
    CHECK(server.handle(ping, alice).status != 429);
    CHECK(server.handle(ping, alice).status != 429);
    auto limited = server.handle(ping, alice);
    CHECK(limited.status == 429);
    bool has_retry_after = false;
    for (const auto& [name, value] : limited.headers)
        if (name == "Retry-After") has_retry_after = std::stoi(value) >= 1;
    CHECK(has_retry_after);
    CHECK(mcp::json::parse(limited.body)["error"]["message"].get<std::string>().find("too many requests") != std::string::npos);
    CHECK(server.handle(ping, bob).status != 429);
}
