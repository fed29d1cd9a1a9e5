#pragma once
// Weather tools over a provider interface. The built-in provider works offline: it derives a
// deterministic, plausible report from climate normals (and says it is simulated).
#include "mcp/prompts.hpp"
#include "mcp/resources.hpp"
#include "mcp/tool.hpp"
#include "server/server_settings.hpp"
#include "services/places.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::services {

struct DayWeather {
    std::string date;  // YYYY-MM-DD
    double high_c, low_c;
    std::string condition;
    int precipitation_chance;  // percent
};

struct CurrentWeather {
    double temperature_c;
    std::string condition;
    int humidity;       // percent
    double wind_kmh;
};

class WeatherProvider {
public:
    virtual ~WeatherProvider() = default;
    virtual std::string source() const = 0;  // e.g. "simulated from climate normals"
    // The city for a user's words, or nullopt (then close_matches helps the user).
    virtual std::optional<City> find_city(const std::string& query) const = 0;
    virtual std::vector<std::string> close_matches(const std::string& query, size_t limit) const = 0;
    virtual std::vector<std::string> city_names() const = 0;
    virtual CurrentWeather current(const City& city, std::chrono::system_clock::time_point now) const = 0;
    virtual std::vector<DayWeather> forecast(const City& city, std::chrono::system_clock::time_point now, int days) const = 0;
};

// Offline provider over the built-in table (about 90 world cities).
std::unique_ptr<WeatherProvider> make_climate_normals_provider();

void add_weather_tools(mcp::ToolRegistry& registry, std::shared_ptr<const WeatherProvider> provider,
                       std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); });

// The resource weather://cities (every known city), the resource template
// weather://current/{city} and the prompt weather_report, whose city argument completes
// (completion/complete) from the provider's cities.
void add_weather_content(mcp::ResourceRegistry& resources, mcp::PromptRegistry& prompts,
                         std::shared_ptr<const WeatherProvider> provider,
                         std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); });

// bin/weather-server: its name, default port, MCP instructions and tools.
server::ServerDescription weather_server();

}  // namespace mcpmtls::services
