// The session table's limits: one identity's sessions never crowd out another's.
#include "mcp/session_table.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace mcpmtls;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<mcp::Session> session_of(const std::string& fingerprint) {
    return std::make_shared<mcp::Session>(fingerprint, "2025-11-25", nlohmann::json::object(), 8);
}

size_t held_by(const mcp::SessionTable::Census& census, const std::string& client) {
    for (const auto& [name, count] : census.by_client)
        if (name == client) return count;
    return 0;
}

uint64_t evicted(const mcp::SessionTable::Census& census, mcp::EvictionReason reason) {
    return census.evicted[static_cast<size_t>(reason)];
}

}  // namespace

TEST_CASE("an identity at its cap loses its least recently used session, never another identity's", "[sessions]") {
    mcp::SessionTable table({/*max_sessions=*/100, /*max_sessions_per_client=*/3, 1800s});
    const std::string bystander = table.open(session_of("bb"), "bystander");
    std::vector<std::string> ids;
    std::vector<std::shared_ptr<mcp::Session>> sessions;
    for (int i = 0; i < 30; ++i) {  // ten times the cap
        sessions.push_back(session_of("aa"));
        ids.push_back(table.open(sessions.back(), "hoarder"));
        REQUIRE_FALSE(ids.back().empty());
    }
    CHECK(table.size() == 4);
    for (int i = 0; i < 27; ++i) {
        CHECK(table.find(ids[i], "aa") == nullptr);
        CHECK(sessions[i]->closed());  // its running calls were cancelled, its streams ended
    }
    for (int i = 27; i < 30; ++i) CHECK(table.find(ids[i], "aa") != nullptr);
    CHECK(table.find(bystander, "bb") != nullptr);
    const auto census = table.census();
    CHECK(held_by(census, "hoarder") == 3);
    CHECK(held_by(census, "bystander") == 1);
    CHECK(evicted(census, mcp::EvictionReason::client_cap) == 27);
}

TEST_CASE("the session used least recently goes first, not the one opened first", "[sessions]") {
    mcp::SessionTable table({100, 3, 1800s});
    const std::string first = table.open(session_of("aa"), "a");
    std::this_thread::sleep_for(5ms);
    const std::string second = table.open(session_of("aa"), "a");
    std::this_thread::sleep_for(5ms);
    const std::string third = table.open(session_of("aa"), "a");
    std::this_thread::sleep_for(5ms);
    REQUIRE(table.find(first, "aa") != nullptr);  // used now: the second is the least recent
    table.open(session_of("aa"), "a");
    CHECK(table.find(first, "aa") != nullptr);
    CHECK(table.find(second, "aa") == nullptr);
    CHECK(table.find(third, "aa") != nullptr);
}

TEST_CASE("a full table: the largest holder gives way to a smaller one; between equals the newcomer gets 503", "[sessions]") {
    mcp::SessionTable table({/*max_sessions=*/6, /*max_sessions_per_client=*/10, 1800s});
    for (int i = 0; i < 4; ++i) REQUIRE_FALSE(table.open(session_of("aa"), "big").empty());
    REQUIRE_FALSE(table.open(session_of("bb"), "small").empty());
    REQUIRE_FALSE(table.open(session_of("cc"), "other").empty());
    REQUIRE(table.size() == 6);
    // "small" holds 1, "big" 4: big gives up one.
    CHECK_FALSE(table.open(session_of("bb"), "small").empty());
    auto census = table.census();
    CHECK(held_by(census, "big") == 3);
    CHECK(held_by(census, "small") == 2);
    CHECK(evicted(census, mcp::EvictionReason::table_full) == 1);
    CHECK_FALSE(table.open(session_of("dd"), "newcomer").empty());  // big (3) gives way again
    // Now big 2, small 2, other 1, newcomer 1: nobody holds more than a newcomer would once
    // served (2), so the table refuses.
    CHECK(table.open(session_of("bb"), "small").empty());
    CHECK(table.open(session_of("aa"), "big").empty());
    CHECK(table.size() == 6);
}

TEST_CASE("sessions idle longer than the timeout are not found, and are swept when room is needed", "[sessions]") {
    mcp::SessionTable table({/*max_sessions=*/2, 10, 50ms});
    const std::string a = table.open(session_of("aa"), "a");
    const std::string b = table.open(session_of("bb"), "b");
    std::this_thread::sleep_for(120ms);
    CHECK(table.find(a, "aa") == nullptr);
    CHECK_FALSE(table.open(session_of("cc"), "c").empty());  // the full table sweeps first
    CHECK(table.size() == 1);
    CHECK(evicted(table.census(), mcp::EvictionReason::idle_timeout) == 2);
    CHECK(table.find(b, "bb") == nullptr);
}

TEST_CASE("a session is found only by the certificate that opened it, and ended only by it", "[sessions]") {
    mcp::SessionTable table({10, 10, 1800s});
    const std::string id = table.open(session_of("aa"), "a");
    CHECK(table.find(id, "bb") == nullptr);
    CHECK_FALSE(table.end(id, "bb"));
    CHECK(table.end(id, "aa"));
    CHECK(table.find(id, "aa") == nullptr);
    CHECK(table.size() == 0);
}

TEST_CASE("the census names the largest holders and sums the rest as other", "[sessions]") {
    mcp::SessionTable table({1000, 100, 1800s});
    for (int client = 0; client < 20; ++client)
        for (int i = 0; i <= client; ++i) table.open(session_of("f" + std::to_string(client)), "client-" + std::to_string(client));
    const auto census = table.census(3);
    REQUIRE(census.by_client.size() == 4);
    CHECK(census.by_client[0] == std::make_pair(std::string("client-19"), size_t{20}));
    CHECK(census.by_client[1] == std::make_pair(std::string("client-18"), size_t{19}));
    CHECK(census.by_client[2] == std::make_pair(std::string("client-17"), size_t{18}));
    CHECK(census.by_client[3].first == "other");
    CHECK(census.by_client[3].second == 210 - 20 - 19 - 18);
}
