#include "services/datetime_tools.hpp"
#include "server/server_main.hpp"

int main(int argc, char** argv) {
    mcpmtls::server::ServerDescription description;
    description.binary = "datetime-server";
    description.short_name = "datetime";
    description.title = "Date and time";
    description.default_port = 8444;
    description.instructions =
        "Current time in any IANA time zone and conversions between zones, using the IANA time-zone database.";
    description.register_tools = [](mcpmtls::mcp::ToolRegistry& registry) { mcpmtls::services::add_datetime_tools(registry); };
    return mcpmtls::server::run_server_main(description, argc, argv);
}
