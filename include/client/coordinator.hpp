#pragma once
// The coordinator: named MCP servers, one kept-alive session each, opened on first use.
#include "client/elicitation.hpp"
#include "client/mcp_session.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mcpmtls::client {

struct ServerEndpoint {
    std::string name;
    Url url;
};

struct CoordinatorOptions {
    tls::ClientTlsSettings tls;
    bool allow_http = false;
    Timeouts timeouts;
    std::vector<ServerEndpoint> servers;
    ElicitMode elicit = ElicitMode::decline;  // how servers' elicitation requests are answered
    VersionChoice protocol;                   // --protocol-version
    nlohmann::json roots;                     // --root: [{"uri": "file://...", "name": ...}], null when none
};

// The servers `make run-servers` starts.
std::vector<ServerEndpoint> default_servers();

class Coordinator {
public:
    explicit Coordinator(CoordinatorOptions options);  // throws InputError (bad certs, http without --allow-http)
    ~Coordinator();

    const std::vector<ServerEndpoint>& servers() const { return options_.servers; }
    bool has_server(const std::string& name) const;
    // Connected and initialized; the handshake verdict is logged once. Throws ConnectionError/RpcError.
    McpSession& session(const std::string& name);
    void close_all();
    std::shared_ptr<const tls::ClientTlsContext> tls() const { return tls_; }
    const CoordinatorOptions& options() const { return options_; }

private:
    CoordinatorOptions options_;
    std::shared_ptr<const tls::ClientTlsContext> tls_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<McpSession>> sessions_;
};

// Logs the verdict of a finished handshake (INFO, or a WARNING naming each skipped check).
void log_server_verdict(const std::string& server, const HttpConnection& connection);

}  // namespace mcpmtls::client
