// The `ask` router: any question against the three servers' real tool lists must give a plan
// (possibly empty) whose arguments satisfy each tool's input schema, or an Error.
#include "client/router.hpp"
#include "fuzz/common.hpp"
#include "mcp/json_schema.hpp"
#include "mcp/tool.hpp"
#include "services/datetime_tools.hpp"
#include "services/echo_tools.hpp"
#include "services/weather_tools.hpp"

#include <cstdint>
#include <map>
#include <string>

using namespace mcpmtls;

namespace {

std::vector<client::ToolInfo> all_tools() {
    std::vector<client::ToolInfo> tools;
    auto add = [&](const std::string& server, const mcp::ToolRegistry& registry) {
        for (const auto& tool : registry.tools())
            tools.push_back({server, {{"name", tool.name}, {"description", tool.description}, {"inputSchema", tool.input_schema}}});
    };
    mcp::ToolRegistry echo, datetime, weather;
    services::add_echo_tools(echo);
    services::add_datetime_tools(datetime);
    services::add_weather_tools(weather, services::make_climate_normals_provider());
    add("echo", echo);
    add("datetime", datetime);
    add("weather", weather);
    return tools;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logging();
    static const std::vector<client::ToolInfo> tools = all_tools();
    const std::string question(reinterpret_cast<const char*>(data), size);
    fuzz::expect_clean_outcome([&] {
        const client::RoutePlan plan = client::route_question(question, tools);
        for (const auto& call : plan.calls) {
            const client::ToolInfo* target = nullptr;
            for (const auto& tool : tools)
                if (tool.server == call.server && tool.tool["name"] == call.tool) target = &tool;
            if (!target) std::abort();  // the router may only plan calls of tools that exist
            if (auto problem = mcp::validate_arguments(target->tool["inputSchema"], call.arguments)) {
                std::fprintf(stderr, "planned %s with arguments its schema refuses: %s\n", call.tool.c_str(), problem->c_str());
                std::abort();
            }
        }
    });
    return 0;
}
