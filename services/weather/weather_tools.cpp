#include "services/weather_tools.hpp"

#include "mcp/content.hpp"
#include "mcp/json_schema.hpp"

#include "common/strings.hpp"

#include <cmath>
#include <cstdio>
#include <date/date.h>

namespace mcpmtls::services {
namespace {

using mcp::json;
using mcp::ToolResult;
constexpr double kPi = 3.14159265358979323846;

// A small deterministic generator: the same city on the same UTC day gives the same weather.
class SeededRandom {
public:
    explicit SeededRandom(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }  // [0, 1)
    double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }

private:
    uint64_t state_;
};

uint64_t fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
    return h;
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }

date::year_month_day utc_day(std::chrono::system_clock::time_point t) { return date::year_month_day{date::floor<date::days>(t)}; }

std::string iso_date(const date::year_month_day& ymd) { return date::format("%F", ymd); }

// Mean temperature for a day of the year, a cosine through the January and July normals
// (which also puts the southern hemisphere's summer in January).
double normal_temperature(const City& city, const date::year_month_day& ymd) {
    const auto day_of_year = (date::sys_days{ymd} - date::sys_days{ymd.year() / date::January / 15}).count();
    const double phase = 2.0 * kPi * static_cast<double>(day_of_year) / 365.25;
    const double mid = (city.january_mean_c + city.july_mean_c) / 2.0;
    const double half_range = (city.january_mean_c - city.july_mean_c) / 2.0;
    return mid + half_range * std::cos(phase);
}

double monthly_precipitation(const City& city, unsigned month) {
    const double phase = 2.0 * kPi * (static_cast<double>(month) - city.wettest_month) / 12.0;
    return city.annual_precipitation_mm / 12.0 * (1.0 + 0.6 * std::cos(phase));
}

int rain_chance(const City& city, unsigned month) {
    // ~200 mm in a month means rain most days; deserts see it rarely.
    return static_cast<int>(std::round(std::min(0.85, monthly_precipitation(city, month) / 220.0 + 0.05) * 100.0));
}

std::string condition_for(SeededRandom& rng, int chance, double temperature) {
    if (rng.uniform() * 100.0 < chance) {
        if (temperature <= 0.5) return "snow";
        return rng.uniform() < 0.4 ? "light rain" : "rain";
    }
    double cloud = rng.uniform();
    if (cloud < 0.45) return "sunny";
    if (cloud < 0.8) return "partly cloudy";
    return "cloudy";
}

class ClimateNormalsProvider final : public WeatherProvider {
public:
    std::string source() const override { return "simulated from climate normals (offline, not an observation)"; }

    std::optional<City> find_city(const std::string& query) const override { return services::find_city(query); }

    std::vector<std::string> close_matches(const std::string& query, size_t limit) const override {
        return similar_cities(query, limit);
    }

    std::vector<std::string> city_names() const override { return services::city_names(); }

    CurrentWeather current(const City& city, std::chrono::system_clock::time_point now) const override {
        const auto day = utc_day(now);
        SeededRandom rng(fnv1a(city.name + "|" + iso_date(day) + "|now"));
        CurrentWeather w;
        w.temperature_c = round1(normal_temperature(city, day) + rng.between(-4.0, 4.0));
        const int chance = rain_chance(city, static_cast<unsigned>(day.month()));
        w.condition = condition_for(rng, chance, w.temperature_c);
        const bool wet = w.condition.find("rain") != std::string::npos || w.condition == "snow";
        w.humidity = static_cast<int>(std::round(std::min(98.0, 35.0 + chance * 0.4 + (wet ? 25.0 : 0.0) + rng.between(-8.0, 8.0))));
        w.wind_kmh = round1(rng.between(3.0, 28.0) + (wet ? 6.0 : 0.0));
        return w;
    }

    std::vector<DayWeather> forecast(const City& city, std::chrono::system_clock::time_point now, int days) const override {
        std::vector<DayWeather> out;
        const auto first = date::sys_days{utc_day(now)};
        for (int i = 0; i < days; ++i) {
            const date::year_month_day day{first + date::days{i}};
            SeededRandom rng(fnv1a(city.name + "|" + iso_date(day) + "|day"));
            const double mean = normal_temperature(city, day) + rng.between(-3.5, 3.5);
            const double spread = rng.between(3.0, 6.0);
            DayWeather d;
            d.date = iso_date(day);
            d.high_c = round1(mean + spread);
            d.low_c = round1(mean - spread);
            const int base = rain_chance(city, static_cast<unsigned>(day.month()));
            d.precipitation_chance = std::max(0, std::min(100, base + static_cast<int>(rng.between(-15.0, 15.0))));
            d.condition = condition_for(rng, d.precipitation_chance, mean);
            out.push_back(d);
        }
        return out;
    }
};

double to_f(double c) { return round1(c * 9.0 / 5.0 + 32.0); }

std::string format_temperature(double c) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f°C (%.1f°F)", c, to_f(c));
    return buf;
}

ToolResult unknown_city(const WeatherProvider& provider, const std::string& query) {
    std::string message = "unknown city '" + query + "'";
    auto matches = provider.close_matches(query, 3);
    if (!matches.empty()) {
        message += "; did you mean ";
        for (size_t i = 0; i < matches.size(); ++i) message += (i ? (i + 1 == matches.size() ? " or " : ", ") : "") + matches[i];
        message += "?";
    } else {
        message += "; the built-in table knows " + std::to_string(provider.city_names().size()) + " world cities";
    }
    return ToolResult::error(message);
}

json city_json(const City& city) {
    return {{"name", city.name}, {"country", city.country}, {"latitude", city.latitude}, {"longitude", city.longitude}};
}

}  // namespace

std::unique_ptr<WeatherProvider> make_climate_normals_provider() { return std::make_unique<ClimateNormalsProvider>(); }

void add_weather_tools(mcp::ToolRegistry& registry, std::shared_ptr<const WeatherProvider> provider,
                       std::function<std::chrono::system_clock::time_point()> clock) {
    const json city_property = {{"type", "string"}, {"description", "City name, e.g. Paris or \"New York\" (optionally \"City, Country\")"}};
    const json city_schema = mcp::object_schema({{"name", {{"type", "string"}}}, {"country", {{"type", "string"}}},
                                                 {"latitude", {{"type", "number"}}}, {"longitude", {{"type", "number"}}}},
                                                {"name", "country"}, false);

    registry.add(mcp::Tool{
        "get_current_weather",
        "Current weather",
        "Current weather for a city: temperature, conditions, humidity and wind. The built-in provider "
        "simulates plausible weather from climate normals (offline).",
        mcp::object_schema({{"city", city_property}}, {"city"}),
        mcp::object_schema({{"city", city_schema}, {"date", {{"type", "string"}}}, {"temperature_c", {{"type", "number"}}},
                            {"temperature_f", {{"type", "number"}}}, {"condition", {{"type", "string"}}},
                            {"humidity_percent", {{"type", "integer"}}}, {"wind_kmh", {{"type", "number"}}},
                            {"source", {{"type", "string"}}}},
                           {"city", "temperature_c", "condition", "source"}, false),
        [provider, clock](const json& arguments, const mcp::ToolCallContext&) {
            const std::string query = arguments.at("city").get<std::string>();
            auto city = provider->find_city(query);
            if (!city) return unknown_city(*provider, query);
            const auto now = clock();
            CurrentWeather w = provider->current(*city, now);
            json data = {{"city", city_json(*city)},           {"date", iso_date(utc_day(now))},
                         {"temperature_c", w.temperature_c},    {"temperature_f", to_f(w.temperature_c)},
                         {"condition", w.condition},            {"humidity_percent", w.humidity},
                         {"wind_kmh", w.wind_kmh},              {"source", provider->source()}};
            char wind[32];
            std::snprintf(wind, sizeof wind, "%.0f km/h", w.wind_kmh);
            std::string text = "Weather in " + city->name + ", " + city->country + ": " + w.condition + ", " +
                               format_temperature(w.temperature_c) + ", humidity " + std::to_string(w.humidity) +
                               "%, wind " + wind + " (simulated)";
            return ToolResult::structured_result(data, text);
        }});

    registry.add(mcp::Tool{
        "get_forecast",
        "Weather forecast",
        "Daily weather forecast for a city for the next 1 to 7 days: high, low, conditions and chance of "
        "precipitation. The built-in provider simulates it from climate normals (offline).",
        mcp::object_schema({{"city", city_property},
                            {"days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}, {"default", 3},
                                      {"description", "Number of days (1-7, default 3)"}}}},
                           {"city"}),
        mcp::object_schema(
            {{"city", city_schema},
             {"days", {{"type", "array"},
                       {"items", mcp::object_schema({{"date", {{"type", "string"}}}, {"high_c", {{"type", "number"}}},
                                                     {"low_c", {{"type", "number"}}}, {"condition", {{"type", "string"}}},
                                                     {"precipitation_chance_percent", {{"type", "integer"}}}},
                                                    {"date", "high_c", "low_c", "condition"}, false)}}},
             {"source", {{"type", "string"}}}},
            {"city", "days", "source"}, false),
        [provider, clock](const json& arguments, const mcp::ToolCallContext& ctx) {
            const std::string query = arguments.at("city").get<std::string>();
            const long days = arguments.value("days", 3L);
            if (days < 1 || days > 7) return ToolResult::error("days must be between 1 and 7");
            auto city = provider->find_city(query);
            if (!city) return unknown_city(*provider, query);
            auto forecast = provider->forecast(*city, clock(), static_cast<int>(days));
            json list = json::array();
            std::string text = std::to_string(days) + "-day forecast for " + city->name + ", " + city->country + " (simulated):";
            for (const auto& d : forecast) {
                // One step per day, for a client that asked for progress (_meta.progressToken).
                ctx.progress(static_cast<double>(list.size() + 1), static_cast<double>(days), d.date);
                list.push_back({{"date", d.date}, {"high_c", d.high_c}, {"low_c", d.low_c}, {"condition", d.condition},
                                {"precipitation_chance_percent", d.precipitation_chance}});
                char line[160];
                std::snprintf(line, sizeof line, "\n  %s: %s, high %.1f°C, low %.1f°C, %d%% chance of precipitation", d.date.c_str(),
                              d.condition.c_str(), d.high_c, d.low_c, d.precipitation_chance);
                text += line;
            }
            json data = {{"city", city_json(*city)}, {"days", list}, {"source", provider->source()}};
            return ToolResult::structured_result(data, text);
        }});
}

void add_weather_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts,
                         std::shared_ptr<const WeatherProvider> provider,
                         std::function<std::chrono::system_clock::time_point()> clock) {
    const mcp::Completer cities = [provider](const std::string& partial, const json&) {
        return mcp::complete_from(provider->city_names(), partial);
    };
    resources.add(mcp::Resource{"weather://cities", "cities", "Known cities",
                                "Every city the weather tools know, with its country", "application/json",
                                [provider](const std::string& uri) {
                                    json list = json::array();
                                    for (const auto& name : provider->city_names())
                                        if (auto city = provider->find_city(name)) list.push_back(city_json(*city));
                                    return json::array({mcp::text_resource_contents(uri, "application/json", list.dump())});
                                }});
    resources.add(mcp::ResourceTemplate{
        "weather://current/{city}", "current-weather", "Current weather in a city", "The current (simulated) weather, as JSON",
        "application/json",
        [provider, clock](const std::string& uri, const std::map<std::string, std::string>& variables) {
            auto city = provider->find_city(variables.at("city"));
            if (!city) throw mcp::ResourceNotFound("unknown city '" + variables.at("city") + "'");
            const CurrentWeather w = provider->current(*city, clock());
            const json data = {{"city", city_json(*city)}, {"temperature_c", w.temperature_c}, {"condition", w.condition},
                               {"humidity_percent", w.humidity}, {"wind_kmh", w.wind_kmh}, {"source", provider->source()}};
            return json::array({mcp::text_resource_contents(uri, "application/json", data.dump())});
        },
        {{"city", cities}}});
    prompts.add(mcp::Prompt{"weather_report", "Weather report", "Asks for the weather and forecast of a city",
                            {{"city", "City name, e.g. Paris", true, cities}, {"days", "Days of forecast (1-7)", false, nullptr}},
                            [](const std::map<std::string, std::string>& args) {
                                const auto days = args.find("days");
                                return json{{"messages", {mcp::prompt_message("user", mcp::text_content(
                                                              "What is the weather in " + args.at("city") + ", and the forecast for the next " +
                                                              (days == args.end() ? std::string("3") : days->second) +
                                                              " days? Use the get_current_weather and get_forecast tools."))}}};
                            }});
}

server::ServerDescription weather_server() {
    std::shared_ptr<const WeatherProvider> provider = make_climate_normals_provider();
    return {"weather-server", "weather", "Weather", 8443,
            "Current weather and forecasts for world cities. The built-in provider works offline and simulates "
            "plausible weather from climate normals; results are labelled as simulated.",
            [provider](mcp::ToolRegistry& registry) { add_weather_tools(registry, provider); },
            [provider](mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts) {
                add_weather_content(resources, prompts, provider);
            }};
}

}  // namespace mcpmtls::services
