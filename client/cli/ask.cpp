// client ask: a plain-language question routed to the right tool(s) of the right server(s),
// learnt from the servers' own tool lists.
#include "client/router.hpp"
#include "client/cli/commands.hpp"

#include "common/strings.hpp"

#include <future>
#include <iostream>

namespace mcpmtls::client::cli {
namespace {

using nlohmann::json;

int ask(Coordinator& coordinator, const Args& args) {
    const auto& pos = args.positionals();
    std::string question;
    for (const auto& word : pos) question += (question.empty() ? "" : " ") + word;

    // Learn every server's tools in parallel; an unreachable server just contributes none.
    std::vector<std::future<json>> listings;
    for (const auto& server : coordinator.servers())
        listings.push_back(std::async(std::launch::async, [&coordinator, name = server.name] {
            return coordinator.session(name).list_tools();
        }));
    std::vector<ToolInfo> tools;
    for (size_t i = 0; i < listings.size(); ++i) {
        const auto& name = coordinator.servers()[i].name;
        try {
            for (const auto& tool : listings[i].get()) tools.push_back({name, tool});
        } catch (const ConnectionError& e) {
            if (e.code() == kExitVerification) throw;
            std::cerr << "client: unavailable: " << e.what() << "\n";
        } catch (const RpcError& e) {
            std::cerr << "client: " << name << " is unavailable: " << e.what() << "\n";
        }
    }
    if (tools.empty()) throw Error(kExitFailed, "no server could be reached");
    RoutePlan plan = route_question(question, tools);
    if (plan.calls.empty()) {
        std::cerr << "client: I don't know which tool answers that.\n" << describe_capabilities(tools);
        return kExitFailed;
    }
    for (const auto& part : plan.unmatched_parts) std::cerr << "client: no tool for \"" << part << "\"\n";

    std::vector<std::future<json>> answers;
    for (const auto& call : plan.calls)
        answers.push_back(std::async(std::launch::async, [&coordinator, &call] {
            return coordinator.session(call.server).call_tool(call.tool, call.arguments, progress_on_stderr(call.server, call.tool));
        }));
    int status = kExitOk;
    json all = json::array();
    for (size_t i = 0; i < answers.size(); ++i) {
        const auto& call = plan.calls[i];
        json entry = {{"question", call.question_part}, {"server", call.server}, {"tool", call.tool}, {"arguments", call.arguments}};
        try {
            json result = answers[i].get();
            entry["result"] = result;
            if (result.value("isError", false)) status = kExitFailed;
            if (!args.flag("json")) {
                std::cout << (plan.calls.size() > 1 ? "[" + call.server + "] " : "") << text_of(result) << "\n";
            }
        } catch (const Error& e) {
            status = std::max<int>(status, e.code());
            entry["error"] = e.what();
            std::cerr << "client: " << call.server << "/" << call.tool << ": " << e.what() << "\n";
        }
        all.push_back(entry);
    }
    if (args.flag("json")) std::cout << all.dump(2) << "\n";
    return status;
}

}  // namespace

Command ask_command() {
    return {"ask", "route a plain-language question to the right tool(s)",
            ArgSpec("client ask").more_positionals("QUESTION", true),
            [](const Args& args) { return with_coordinator(args, [&](Coordinator& c) { return ask(c, args); }); }};
}

}  // namespace mcpmtls::client::cli
