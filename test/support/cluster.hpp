#pragma once
// Test support for the deployment features: certificate directories written the way a cluster's
// engines write them (kubelet's atomic writer, spiffe-helper's in-place writes), a client that
// keeps calling a server while they do, and small readers for what a server presents and what
// its metrics listener answers.
#include "test/support/fixtures.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mcpmtls::testing {

// A directory updated as kubelet updates a mounted Secret (pkg/volume/util/atomic_writer.go):
// the files go into a new ..<timestamp> directory, a ..data_tmp symlink is pointed at it and
// renamed over ..data, each visible name is a symlink to ..data/NAME, and the previous
// timestamped directory is removed. Readers never see a mix of old and new files.
class KubeletVolume {
public:
    explicit KubeletVolume(std::string dir) : dir_(std::move(dir)) {}
    // One update: NAME -> content.
    void project(const std::map<std::string, std::string>& files);
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    std::string current_;  // the ..<timestamp> directory ..data names
    int updates_ = 0;
};

// Rewrites `path` in place (truncate, then write), as spiffe-helper does: the file keeps its
// inode and a reader may see it half written.
void write_in_place(const std::string& path, const std::string& content);

// Clients calling echo over and over while a test changes the server's files: two on kept-alive
// connections, two with a new connection (a full handshake) for every call. Every failure is
// recorded.
class EchoLoad {
public:
    EchoLoad(std::string url, std::string ca, std::string cert, std::string key);
    ~EchoLoad();
    void stop();
    int ok() const { return ok_; }
    std::vector<std::string> failures();
    // Waits until `n` more calls have succeeded.
    bool progress(int n, std::chrono::seconds timeout = std::chrono::seconds(20));

private:
    void run(bool reuse_connection);
    const std::string url_, ca_, cert_, key_;
    std::atomic<bool> running_{true};
    std::atomic<int> ok_{0};
    std::mutex mutex_;
    std::vector<std::string> failures_;
    std::vector<std::thread> threads_;
};

// The serial number (lower-case hex) of the certificate a server presents to a new connection,
// or "" when the handshake fails.
std::string presented_serial(const std::string& url, const std::string& ca, const std::string& cert, const std::string& key);
// The serial number of a certificate file, lower-case hex, as openssl prints it.
std::string serial_of(const std::string& cert_path);
// notAfter of a certificate file as a Unix time, from `openssl x509 -enddate`.
long long not_after_of(const std::string& cert_path);

struct HttpAnswer {
    int status = 0;  // 0: no answer
    std::string body;
    std::string headers;  // as curl -D wrote them, where asked for
};
// A plain-HTTP request with curl (the metrics listener speaks nothing else).
HttpAnswer http_request(const std::string& url, const std::string& method = "GET");

// The value of one sample in Prometheus text (`name{labels}` exactly as printed, or a bare
// name); -1 when absent.
long long metric_value(const std::string& exposition, const std::string& series);

// The metrics URL a server logged at start (--metrics-bind ADDR:0 picks the port), and the
// listener's base URL (for /healthz and /readyz).
std::string metrics_url_of(const ServerProcess& server);
std::string base_of(const std::string& metrics_url);

}  // namespace mcpmtls::testing
