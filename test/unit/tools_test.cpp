// The three servers' tools, called directly with a fixed clock.
#include "common/strings.hpp"
#include "services/datetime_tools.hpp"
#include "services/echo_tools.hpp"
#include "services/weather_tools.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls;
using mcp::json;

namespace {

const tls::PeerIdentity kNobody;

mcp::ToolResult call(const mcp::ToolRegistry& registry, const std::string& tool, const json& args) {
    const auto* t = registry.find(tool);
    REQUIRE(t != nullptr);
    return t->handler(args, mcp::ToolCallContext{kNobody});
}

services::Clock fixed(const std::string& when) {
    auto t = parse_rfc3339(when);
    return [t] { return t; };
}

}  // namespace

TEST_CASE("echo returns any Unicode message unchanged", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_echo_tools(registry);
    const std::string message = "héllo 👋 世界\n\ttabs and \"quotes\"";
    auto r = call(registry, "echo", {{"message", message}});
    CHECK(r.content[0]["text"] == message);
    CHECK(r.structured["message"] == message);
    CHECK_FALSE(r.is_error);
}

TEST_CASE("get_current_time uses the IANA database: offsets, abbreviations, DST", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_datetime_tools(registry, fixed("2026-07-01T12:00:00Z"));
    auto tokyo = call(registry, "get_current_time", {{"timezone", "Asia/Tokyo"}}).structured;
    CHECK(tokyo["datetime"] == "2026-07-01T21:00:00+09:00");
    CHECK(tokyo["utc_offset"] == "+09:00");
    CHECK(tokyo["is_dst"] == false);
    auto ny = call(registry, "get_current_time", {{"timezone", "America/New_York"}}).structured;
    CHECK(ny["abbreviation"] == "EDT");
    CHECK(ny["utc_offset"] == "-04:00");
    CHECK(ny["is_dst"] == true);
    auto kolkata = call(registry, "get_current_time", {{"timezone", "asia/kolkata"}}).structured;
    CHECK(kolkata["utc_offset"] == "+05:30");
    auto utc = call(registry, "get_current_time", json::object()).structured;
    CHECK(utc["datetime"] == "2026-07-01T12:00:00+00:00");
}

TEST_CASE("convert_time converts HH:MM today and local ISO date-times across zones", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_datetime_tools(registry, fixed("2026-01-15T08:00:00Z"));
    auto winter = call(registry, "convert_time", {{"time", "09:00"}, {"from_timezone", "Europe/London"}, {"to_timezone", "Australia/Sydney"}});
    CHECK(winter.structured["source"]["datetime"] == "2026-01-15T09:00:00+00:00");
    CHECK(winter.structured["target"]["datetime"] == "2026-01-15T20:00:00+11:00");
    CHECK(winter.structured["time_difference"] == "+11h");
    auto summer = call(registry, "convert_time",
                       {{"time", "2026-07-01T09:00"}, {"from_timezone", "Europe/London"}, {"to_timezone", "Australia/Sydney"}});
    CHECK(summer.structured["target"]["datetime"] == "2026-07-01T18:00:00+10:00");
    CHECK(summer.structured["time_difference"] == "+9h");
    auto india = call(registry, "convert_time", {{"time", "12:00"}, {"from_timezone", "UTC"}, {"to_timezone", "Asia/Kolkata"}});
    CHECK(india.structured["time_difference"] == "+5.5h");
}

TEST_CASE("convert_time reports nonexistent and ambiguous local times at DST changes", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_datetime_tools(registry, fixed("2026-01-15T08:00:00Z"));
    auto gap = call(registry, "convert_time", {{"time", "2026-03-29T01:30"}, {"from_timezone", "Europe/London"}, {"to_timezone", "UTC"}});
    CHECK(gap.is_error);
    CHECK(gap.content[0]["text"].get<std::string>().find("does not exist") != std::string::npos);
    auto twice = call(registry, "convert_time", {{"time", "2026-10-25T01:30"}, {"from_timezone", "Europe/London"}, {"to_timezone", "UTC"}});
    CHECK_FALSE(twice.is_error);
    CHECK(twice.structured["target"]["datetime"] == "2026-10-25T00:30:00+00:00");  // the earlier one (BST)
    CHECK(twice.content[0]["text"].get<std::string>().find("happens twice") != std::string::npos);
}

TEST_CASE("an unknown time zone is a tool error naming it, with suggestions", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_datetime_tools(registry, fixed("2026-01-15T08:00:00Z"));
    auto r = call(registry, "get_current_time", {{"timezone", "Europe/Pari"}});
    CHECK(r.is_error);
    const std::string text = r.content[0]["text"];
    CHECK(text.find("unknown time zone 'Europe/Pari'") != std::string::npos);
    CHECK(text.find("Europe/Paris") != std::string::npos);
    auto bad_time = call(registry, "convert_time", {{"time", "25:00"}, {"from_timezone", "UTC"}, {"to_timezone", "UTC"}});
    CHECK(bad_time.is_error);
}

TEST_CASE("weather is deterministic per city and day, differs across cities, and says it is simulated", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_weather_tools(registry, services::make_climate_normals_provider(), fixed("2026-07-01T12:00:00Z"));
    auto a = call(registry, "get_current_weather", {{"city", "Paris"}});
    auto b = call(registry, "get_current_weather", {{"city", "paris, France"}});
    CHECK(a.structured == b.structured);
    CHECK(a.structured["source"].get<std::string>().find("simulated") != std::string::npos);
    CHECK(a.content[0]["text"].get<std::string>().find("(simulated)") != std::string::npos);
    auto oslo = call(registry, "get_current_weather", {{"city", "Oslo"}});
    CHECK(oslo.structured["temperature_c"] != a.structured["temperature_c"]);
    // July in Paris is summer, January in Sydney too: the normals drive the numbers.
    CHECK(a.structured["temperature_c"].get<double>() > 10.0);
    for (const char* field : {"city", "temperature_c", "condition", "source"}) CHECK(a.structured.contains(field));
    auto sao = call(registry, "get_current_weather", {{"city", "sao paulo"}});
    CHECK(sao.structured["city"]["name"] == "São Paulo");
    CHECK(call(registry, "get_current_weather", {{"city", "NYC"}}).structured["city"]["name"] == "New York");
}

TEST_CASE("a forecast has exactly the days asked for, and unknown cities list close matches", "[tools]") {
    mcp::ToolRegistry registry;
    services::add_weather_tools(registry, services::make_climate_normals_provider(), fixed("2026-07-01T12:00:00Z"));
    auto f = call(registry, "get_forecast", {{"city", "Tokyo"}, {"days", 5}});
    REQUIRE(f.structured["days"].size() == 5);
    CHECK(f.structured["days"][0]["date"] == "2026-07-01");
    CHECK(f.structured["days"][4]["date"] == "2026-07-05");
    for (const auto& day : f.structured["days"]) CHECK(day["high_c"].get<double>() >= day["low_c"].get<double>());
    CHECK(call(registry, "get_forecast", {{"city", "Tokyo"}}).structured["days"].size() == 3);
    CHECK(call(registry, "get_forecast", {{"city", "Tokyo"}, {"days", 9}}).is_error);
    auto unknown = call(registry, "get_current_weather", {{"city", "Pariss"}});
    CHECK(unknown.is_error);
    CHECK(unknown.content[0]["text"].get<std::string>().find("did you mean Paris") != std::string::npos);
}
