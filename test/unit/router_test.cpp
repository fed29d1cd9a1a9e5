// The ask router on tool lists shaped like the real servers', plus a tool it has never seen.
#include "client/router.hpp"

#include <catch2/catch.hpp>

using namespace mcpmtls::client;
using nlohmann::json;

namespace {

std::vector<ToolInfo> demo_tools() {
    auto tool = [](const char* name, const char* description, json properties, json required) {
        return json{{"name", name}, {"description", description},
                    {"inputSchema", {{"type", "object"}, {"properties", properties}, {"required", required}}}};
    };
    return {
        {"weather", tool("get_current_weather", "Current weather for a city: temperature, conditions, humidity and wind.",
                         {{"city", {{"type", "string"}, {"description", "City name"}}}}, {"city"})},
        {"weather", tool("get_forecast", "Daily weather forecast for a city for the next 1 to 7 days.",
                         {{"city", {{"type", "string"}}}, {"days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}}}}, {"city"})},
        {"datetime", tool("get_current_time", "Current local time in an IANA time zone.",
                          {{"timezone", {{"type", "string"}, {"description", "IANA time zone name"}}}}, json::array())},
        {"datetime", tool("convert_time", "Converts a local time from one IANA time zone to another.",
                          {{"time", {{"type", "string"}, {"description", "HH:MM"}}},
                           {"from_timezone", {{"type", "string"}}},
                           {"to_timezone", {{"type", "string"}}}},
                          {"time", "from_timezone", "to_timezone"})},
        {"echo", tool("echo", "Returns the message unchanged.", {{"message", {{"type", "string"}}}}, {"message"})},
    };
}

PlannedCall only(const RoutePlan& plan) {
    REQUIRE(plan.calls.size() == 1);
    return plan.calls.front();
}

}  // namespace

TEST_CASE("the example questions route to the right tool with the right arguments", "[router]") {
    const auto tools = demo_tools();
    auto weather = only(route_question("What's the weather in Paris?", tools));
    CHECK(weather.tool == "get_current_weather");
    CHECK(weather.arguments == json{{"city", "Paris"}});
    auto forecast = only(route_question("forecast for Tokyo for 3 days", tools));
    CHECK(forecast.tool == "get_forecast");
    CHECK(forecast.arguments == json{{"city", "Tokyo"}, {"days", 3}});
    auto time = only(route_question("what time is it in New York?", tools));
    CHECK(time.tool == "get_current_time");
    CHECK(time.arguments == json{{"timezone", "America/New_York"}});
    auto convert = only(route_question("convert 09:00 from London to Sydney", tools));
    CHECK(convert.server == "datetime");
    CHECK(convert.arguments == json{{"time", "09:00"}, {"from_timezone", "Europe/London"}, {"to_timezone", "Australia/Sydney"}});
    auto echo = only(route_question("echo hello", tools));
    CHECK(echo.arguments == json{{"message", "hello"}});
}

TEST_CASE("a compound question fans out; an echo keeps its whole message", "[router]") {
    const auto tools = demo_tools();
    auto plan = route_question("weather in Oslo and the time in Tokyo", tools);
    REQUIRE(plan.calls.size() == 2);
    CHECK(plan.calls[0].server == "weather");
    CHECK(plan.calls[0].arguments == json{{"city", "Oslo"}});
    CHECK(plan.calls[1].server == "datetime");
    CHECK(plan.calls[1].arguments == json{{"timezone", "Asia/Tokyo"}});
    auto there = route_question("What's the weather in Tokyo and what time is it there?", tools);
    REQUIRE(there.calls.size() == 2);
    CHECK(there.calls[0].arguments == json{{"city", "Tokyo"}});
    CHECK(there.calls[1].arguments == json{{"timezone", "Asia/Tokyo"}});  // "there": the place named before
    auto echo = only(route_question("echo salt and pepper", tools));
    CHECK(echo.arguments["message"] == "salt and pepper");
    CHECK(only(route_question("convert 9pm from Paris to Tokyo", tools)).arguments["time"] == "21:00");
}

TEST_CASE("a new tool becomes routable from its own schema", "[router]") {
    auto tools = demo_tools();
    tools.push_back({"stocks", {{"name", "get_stock_price"}, {"description", "Latest price for a stock ticker symbol"},
                                {"inputSchema", {{"type", "object"}, {"properties", {{"symbol", {{"type", "string"}}}}}, {"required", {"symbol"}}}}}});
    auto call = only(route_question("stock price of ACME", tools));
    CHECK(call.server == "stocks");
    CHECK(call.arguments == json{{"symbol", "ACME"}});
}

TEST_CASE("unroutable questions produce no call and a helpful description", "[router]") {
    const auto tools = demo_tools();
    CHECK(route_question("what is the meaning of life?", tools).calls.empty());
    CHECK(route_question("", tools).calls.empty());
    CHECK(route_question("weather", tools).calls.empty());  // no city: the required argument is missing
    auto text = describe_capabilities(tools);
    CHECK(text.find("weather/get_current_weather(city)") != std::string::npos);
}

// Found by the router fuzz target: a run of digits longer than a long made std::stol throw.
TEST_CASE("absurd numbers in a question are ignored, not thrown on", "[router]") {
    const auto tools = demo_tools();
    RoutePlan plan;
    REQUIRE_NOTHROW(plan = route_question("forecast for Tokyo for 99999999999999999999999999 days", tools));
    for (const auto& call : plan.calls)
        if (call.arguments.contains("days")) CHECK(call.arguments["days"].get<long>() <= 999999);
    REQUIRE_NOTHROW(route_question("weather in T11111111111111111111111111111111111dayW111 What's the weather", tools));
    auto sane = only(route_question("forecast for Tokyo for 3 days", tools));
    CHECK(sane.arguments == json{{"city", "Tokyo"}, {"days", 3}});
}

TEST_CASE("a place the time-zone database does not name goes to a zone argument that takes cities", "[router]") {
    auto tools = demo_tools();
    // As the datetime server describes it: the server resolves cities itself.
    tools[2].tool["inputSchema"]["properties"]["timezone"]["description"] = "IANA time zone name or a city, e.g. Asia/Tokyo";
    CHECK(only(route_question("what time is it in Mumbai?", tools)).arguments == json{{"timezone", "Mumbai"}});
    CHECK(only(route_question("what time is it in Tokyo?", tools)).arguments == json{{"timezone", "Asia/Tokyo"}});
    // A schema that asks for IANA names only gets none it cannot name.
    CHECK(only(route_question("what time is it in Mumbai?", demo_tools())).arguments == json::object());
}
