#include "server/server_main.hpp"
#include "services/weather_tools.hpp"

int main(int argc, char** argv) {
    mcpmtls::server::ServerDescription description;
    description.binary = "weather-server";
    description.short_name = "weather";
    description.title = "Weather";
    description.default_port = 8443;
    description.instructions =
        "Current weather and forecasts for world cities. The built-in provider works offline and simulates "
        "plausible weather from climate normals; results are labelled as simulated.";
    description.register_tools = [](mcpmtls::mcp::ToolRegistry& registry) {
        mcpmtls::services::add_weather_tools(registry, mcpmtls::services::make_climate_normals_provider());
    };
    return mcpmtls::server::run_server_main(description, argc, argv);
}
