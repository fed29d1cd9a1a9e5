#pragma once
// Fixtures for integration tests: a PKI made by bin/pki, certificates made independently by the
// openssl CLI, and servers started on ephemeral loopback ports.
#include "test/support/process.hpp"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::testing {

// bin/pki init + server certificates for echo, weather, datetime + client "coordinator".
class DemoPki {
public:
    DemoPki();
    std::string path(const std::string& file) const { return dir_.file(file); }
    const std::string& dir() const { return dir_.path(); }
    CommandResult pki(std::vector<std::string> args) const;  // bin/pki ARGS --dir DIR

private:
    TempDir dir_;
};

// Certificates made with the openssl CLI, in their own directory.
class OpensslCa {
public:
    OpensslCa();  // a root CA "openssl test CA" (P-256)
    std::string path(const std::string& file) const { return dir_.file(file); }
    // A leaf signed by this CA. eku: "serverAuth" | "clientAuth"; validity as openssl ca dates
    // (YYYYMMDDHHMMSSZ) or empty for now..+30 days.
    void issue(const std::string& name, const std::string& eku, const std::string& san,
               const std::string& start = "", const std::string& end = "");
    // A leaf signed by another CA (e.g. the DemoPki's: ca.crt + ca.key), through `openssl ca`.
    static void issue_with(const std::string& ca_cert, const std::string& ca_key, const std::string& out_dir,
                           const std::string& name, const std::string& eku, const std::string& san,
                           const std::string& start, const std::string& end);
    // A self-signed leaf (no CA at all).
    void self_signed(const std::string& name, const std::string& eku, const std::string& san);

private:
    TempDir dir_;
};

// One of our servers on an ephemeral port (or the --port among `extra_args`); stopped by the destructor.
class ServerProcess {
public:
    ServerProcess(const std::string& program, const std::string& cert, const std::string& key, const std::string& ca,
                  std::vector<std::string> extra_args = {});
    // A demo server of `pki` ("weather", "datetime", "echo") on its own certificate and the bundle.
    ServerProcess(const DemoPki& pki, const std::string& service, std::vector<std::string> extra_args = {});
    // With exactly these arguments besides --port 0 (e.g. --cert-dir instead of --cert and --key).
    ServerProcess(const std::string& program, std::vector<std::string> args);
    int port() const { return port_; }
    std::string url(const std::string& host = "localhost") const;
    BackgroundProcess& process() { return *process_; }
    std::string log() const { return process_->log(); }

private:
    void start(const std::string& program, const std::vector<std::string>& argv);
    TempDir log_dir_;
    std::unique_ptr<BackgroundProcess> process_;
    int port_ = 0;
};

// A server whose certificate a client in strict mode must refuse, with what the refusal says.
enum class Impostor { self_signed, other_ca, expired, other_host };
class ImpostorServer {
public:
    ImpostorServer(const DemoPki& pki, Impostor kind);
    const std::string& url() const { return url_; }
    const std::string& reason() const { return reason_; }    // the verifier's words
    const std::string& skipped() const { return skipped_; }  // the check --relaxed skips
    // False for an expired certificate: our servers refuse to start with one, so openssl
    // s_server serves it (TLS with client authentication, no MCP: enough for the handshake).
    bool speaks_mcp() const { return ours_ != nullptr; }

private:
    OpensslCa other_;
    TempDir logs_;
    std::unique_ptr<ServerProcess> ours_;
    std::unique_ptr<BackgroundProcess> openssl_server_;
    std::string url_, reason_, skipped_;
};

// curl with a client certificate (or none when cert is empty); returns curl's result.
CommandResult curl_mcp(const std::string& url, const std::string& ca, const std::string& cert, const std::string& key,
                       const std::string& body, const std::vector<std::string>& extra = {});

// What curl printed with -D - (as curl_mcp asks), taken apart: the status, the header fields
// (names in lower case; the last of a repeated name) and the body as JSON (discarded if it is not).
struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;
    nlohmann::json body;
    std::string header(const std::string& name) const;
};
// Throws std::runtime_error when there is no status line.
HttpReply parse_http_reply(const std::string& curl_output);

std::string initialize_body();

// How often `part` occurs in `text` (overlapping occurrences count), e.g. log lines of one event.
size_t count_occurrences(const std::string& text, const std::string& part);

}  // namespace mcpmtls::testing
