#pragma once
// Mounts a StreamableHttpServer on a cpp-httplib server (SSLServer derives from Server).
#include "mcp/streamable_http.hpp"

#include <functional>
#include <httplib.h>

namespace mcpmtls::mcp {

// `identify` returns the verified client of the request's connection (from req.ssl).
void mount(httplib::Server& server, StreamableHttpServer& mcp,
           std::function<tls::PeerIdentity(const httplib::Request&)> identify, const std::string& path = "/mcp");

}  // namespace mcpmtls::mcp
