#pragma once
// The official TypeScript SDK's servers as the other end of the client and the bridge: the SDK
// v2 serving only 2026-07-28 (test/bridge/modern-server.mjs, 2025 traffic refused) or the SDK v1
// serving only 2025 (test/bridge/legacy-server.mjs), over HTTPS with a required client
// certificate, on the Node and SDK that scripts/mcp-sdk-setup.sh installs.
#include "test/support/fixtures.hpp"
#include "test/support/process.hpp"

#include <memory>
#include <string>

namespace mcpmtls::testing {

// An SDK fixture server (test/bridge/SCRIPT) on the DemoPki's echo certificate, trusting the
// PKI's bundle, on an ephemeral port.
class ModernServer {
public:
    explicit ModernServer(const DemoPki& pki, const std::string& script = "modern-server.mjs");
    std::string url() const { return "https://localhost:" + std::to_string(port_) + "/mcp"; }
    std::string log() const { return process_->log(); }

private:
    TempDir dir_;
    std::unique_ptr<BackgroundProcess> process_;
    int port_ = 0;
};

}  // namespace mcpmtls::testing
