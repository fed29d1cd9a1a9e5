#pragma once
// Mounts a StreamableHttpServer on a cpp-httplib server (SSLServer derives from Server).
#include "mcp/streamable_http.hpp"

#include <functional>
#include <httplib.h>
#include <memory>

namespace mcpmtls::server {

struct MountHooks {
    // The verified client of the request's connection (from req.ssl); null: anonymous.
    std::function<std::shared_ptr<const tls::PeerIdentity>(const httplib::Request&)> identify;
    // Optional: a request's headers have arrived / its response is ready to be written; the
    // latter returns true to end the connection after this answer ("Connection: close").
    // `complete` is false when the request could not be read whole (its body never came).
    std::function<void(const httplib::Request&)> request_started;
    std::function<bool(const httplib::Request&, bool complete)> request_finished;
    // Optional: the answer being written must be the connection's last (the request's body was
    // refused unread, so the bytes that follow are not a next request).
    std::function<void(const httplib::Request&)> end_after_answer;
};

void mount(httplib::Server& server, mcp::StreamableHttpServer& mcp, MountHooks hooks, const std::string& path = "/mcp");

// Binds `server` (SO_REUSEADDR, a full listen backlog), returning the port (the chosen one for
// port 0), or -1.
int bind_listener(httplib::Server& server, const std::string& address, int port);

}  // namespace mcpmtls::server
