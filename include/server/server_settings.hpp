#pragma once
// A server's settings: one table of rows (flag, --config key, default, range, help) and the
// typed configuration it resolves to. Adding a setting is one row here plus its use.
#include "common/log.hpp"
#include "common/options.hpp"
#include "mcp/streamable_http.hpp"
#include "server/connections.hpp"
#include "server/oauth_resource.hpp"
#include "tls/certificate_renewal.hpp"
#include "tls/server_context.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace mcpmtls::server {

// What makes one server binary different from the others.
struct ServerDescription {
    std::string binary;        // "weather-server"
    std::string short_name;    // "weather": default certificate names certs/weather.crt
    std::string title;         // "Weather"
    int default_port = 0;
    std::string instructions;  // MCP initialize instructions
    std::function<void(mcp::ToolRegistry&)> register_tools;
    // Optional: the resources (and templates) and prompts it offers besides its tools.
    std::function<void(mcp::ResourceRegistry&, mcp::PromptRegistry&)> register_content;
};

struct ServerConfig {
    std::string bind;
    int port = 0;
    tls::ServerTlsSettings tls;
    mcp::ServerOptions runtime;
    ConnectionManager::Settings connections;
    std::chrono::seconds keep_alive_timeout{0};
    std::chrono::seconds reload_interval{0};
    std::string metrics_address;  // with metrics_port >= 0: the plain-HTTP metrics and health listener
    int metrics_port = -1;        // 0 picks a free one
    std::chrono::seconds crl_refresh{300};  // how often tls.files.crl_url is fetched
    std::string renew_from;                 // --renew-from: the online CA's URL; empty: no renewal
    tls::CredentialPaths renewal_paths;     // what a renewal replaces
    OAuthConfig oauth;                      // --oauth-*: bearer tokens besides certificates
    LogFormat log_format = LogFormat::text;
    bool verbose = false;
};

// The table: flags, --config keys, defaults, ranges and help of every server setting.
ArgSpec server_settings(const ServerDescription& description);
// Typed settings from a parse of that table; throws InputError for combinations it refuses.
ServerConfig resolve_server_config(const ServerDescription& description, const Args& args);

}  // namespace mcpmtls::server
