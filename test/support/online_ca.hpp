#pragma once
// `pki serve` in the background for a test's PKI, and requests to it made with curl (an
// independent HTTP and TLS client).
#include "test/support/cluster.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class OnlineCaProcess {
public:
    // bin/pki serve --dir DIR --port 0 EXTRA...; waits until it listens.
    explicit OnlineCaProcess(const DemoPki& pki, std::vector<std::string> extra = {});
    int port() const { return port_; }
    std::string url() const { return "https://localhost:" + std::to_string(port_); }
    BackgroundProcess& process() { return *process_; }

    // curl to url()+path, trusting the PKI's bundle; with cert/key for mutual TLS.
    HttpAnswer get(const std::string& path, const std::vector<std::string>& curl_options = {}) const;
    HttpAnswer post(const std::string& path, const std::string& body, const std::string& cert = "",
                    const std::string& key = "") const;

private:
    HttpAnswer curl(std::vector<std::string> options) const;
    const DemoPki& pki_;
    TempDir work_;
    std::unique_ptr<BackgroundProcess> process_;
    int port_ = 0;
};

}  // namespace mcpmtls::testing
