#include "services/echo_tools.hpp"
#include "server/server_main.hpp"

int main(int argc, char** argv) {
    mcpmtls::server::ServerDescription description;
    description.binary = "echo-server";
    description.short_name = "echo";
    description.title = "Echo";
    description.default_port = 8445;
    description.instructions = "Echoes messages back unchanged. Use it to check connectivity and mutual TLS.";
    description.register_tools = [](mcpmtls::mcp::ToolRegistry& registry) { mcpmtls::services::add_echo_tools(registry); };
    return mcpmtls::server::run_server_main(description, argc, argv);
}
