#pragma once
// `pki serve` in the background for a test's PKI, and requests to it made with curl (an
// independent HTTP and TLS client).
#include "test/support/cluster.hpp"
#include "test/support/fixtures.hpp"
#include "test/support/process.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::testing {

// A one-time token from `pki token ARGS...` on PKI's directory; throws when pki refuses.
std::string enrollment_token(const DemoPki& pki, std::vector<std::string> args);

class OnlineCaProcess {
public:
    // bin/pki serve --dir DIR --port 0 EXTRA...; waits until it listens.
    explicit OnlineCaProcess(const DemoPki& pki, std::vector<std::string> extra = {});
    int port() const { return port_; }
    std::string url() const { return "https://localhost:" + std::to_string(port_); }
    BackgroundProcess& process() { return *process_; }
    const DemoPki& pki() const { return pki_; }

    std::string token(std::vector<std::string> args) const { return enrollment_token(pki_, std::move(args)); }
    // "sha256:<hex>" of the CA certificate, as `client enroll --fingerprint` takes it (from openssl).
    std::string root_fingerprint() const;

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
