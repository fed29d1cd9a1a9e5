// client tools and client call: every server's tools, and one tool called with typed arguments.
#include "client/cli/commands.hpp"

#include "common/strings.hpp"

#include <iostream>

namespace mcpmtls::client::cli {
namespace {

using nlohmann::json;

int list_tools(Coordinator& coordinator, const Args& args) {
    json all = json::object();
    int failures = 0;
    for (const auto& server : coordinator.servers()) {
        try {
            auto& session = coordinator.session(server.name);
            json tools = session.list_tools();
            if (args.flag("json")) {
                all[server.name] = tools;
                continue;
            }
            const json info = session.server_info().value("serverInfo", json::object());
            std::cout << server.name << "  " << server.url.to_string() << "  (" << info.value("name", "?") << " "
                      << info.value("version", "") << ")\n";
            for (const auto& tool : tools)
                std::cout << "  " << signature_of(tool) << "\n      " << tool.value("description", "") << "\n";
        } catch (const ConnectionError& e) {
            if (e.code() == kExitVerification) throw;
            std::cerr << "client: " << e.what() << "\n";
            ++failures;
        }
    }
    if (args.flag("json")) std::cout << all.dump(2) << "\n";
    return failures ? kExitFailed : kExitOk;
}

int call_tool(Coordinator& coordinator, const Args& args) {
    const auto& pos = args.positionals();
    const std::string& server = pos[0];
    const std::string& tool_name = pos[1];
    if (!coordinator.has_server(server)) throw InputError("unknown server '" + server + "'");
    auto& session = coordinator.session(server);
    json tools = session.list_tools();
    const json* tool = nullptr;
    for (const auto& t : tools)
        if (t.value("name", "") == tool_name) tool = &t;
    if (!tool) {
        std::string known;
        for (const auto& t : tools) known += (known.empty() ? "" : ", ") + t.value("name", "");
        throw InputError("server '" + server + "' has no tool '" + tool_name + "' (it has: " + known + ")");
    }
    json arguments = arguments_for(*tool, std::vector<std::string>(pos.begin() + 2, pos.end()));
    json result = session.call_tool(tool_name, arguments, progress_on_stderr(server, tool_name));
    const bool failed = result.value("isError", false);
    if (args.flag("json")) std::cout << result.dump(2) << "\n";
    else (failed ? std::cerr : std::cout) << (failed ? "client: tool error: " : "") << text_of(result) << "\n";
    return failed ? kExitFailed : kExitOk;
}

}  // namespace

Command tools_command() {
    return {"tools", "list every server's tools", ArgSpec("client tools"),
            [](const Args& args) { return with_coordinator(args, [&](Coordinator& c) { return list_tools(c, args); }); }};
}

Command call_command() {
    return {"call", "call one tool; values typed by the tool's input schema",
            ArgSpec("client call").positional("SERVER").positional("TOOL").more_positionals("KEY=VALUE"),
            [](const Args& args) { return with_coordinator(args, [&](Coordinator& c) { return call_tool(c, args); }); }};
}

}  // namespace mcpmtls::client::cli
