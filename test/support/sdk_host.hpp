#pragma once
// The official MCP TypeScript SDK as an MCP host (test/bridge/host.mjs), on the Node 22 and SDK
// that scripts/mcp-sdk-setup.sh installs from the npm registry into a cache folder (once; later
// runs find them there). Each host gets a folder of its own holding the script and a link to the
// cache's node_modules, which is how an ES module finds its imports.
#include "test/support/process.hpp"
#include "test/support/stdio_process.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class SdkHost {
public:
    SdkHost();  // throws std::runtime_error if the SDK cannot be installed
    // node host.mjs PLAN: runs to the end; stdout has one JSON line per step.
    CommandResult run(const nlohmann::json& plan, std::chrono::seconds timeout = std::chrono::seconds(120)) const;
    // The same, running while the test does other things (reads its lines as they come).
    std::unique_ptr<StdioProcess> start(const nlohmann::json& plan) const;
    // node host.mjs bench N COMMAND ARGS...
    CommandResult bench(size_t requests, const std::vector<std::string>& command) const;
    // node SCRIPT ARGS...: another script of the tree (e.g. test/modern/sdk2_client.mjs), copied
    // beside host.mjs so that it finds the same node_modules.
    CommandResult run_script(const std::string& source, const std::vector<std::string>& args,
                             std::chrono::seconds timeout = std::chrono::seconds(120)) const;
    std::string log_path() const { return dir_.file("host.log"); }

    // The JSON lines of a host's stdout.
    static std::vector<nlohmann::json> steps(const std::string& out);

private:
    std::vector<std::string> node_command(const std::vector<std::string>& args) const;
    std::string node_;
    TempDir dir_;
    mutable int plans_ = 0;
};

}  // namespace mcpmtls::testing
