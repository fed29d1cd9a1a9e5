#pragma once
// What every client of MCP's Streamable HTTP needs around one HTTP exchange, shared by the
// coordinator's session (McpSession) and the bridge's (UpstreamSession): the request headers a
// session sends, and where an event stream stands so that it can be resumed with GET and
// Last-Event-ID after the server's retry delay.
#include "client/http_connection.hpp"

#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::client {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// How often an answer's event stream is resumed before giving up.
constexpr int kMaxStreamResumes = 5;
// The reconnection delay when the server sent no retry field.
constexpr long kDefaultRetryMs = 1000;

// Headers of a POST in a session: JSON in, JSON or an event stream back; the session's headers
// once it has them (empty values are left out: before initialize, or a server without sessions).
HeaderList session_headers(const std::string& protocol_version, const std::string& session_id);
// The same headers turned into a GET that (re)opens an event stream, resuming after
// `last_event_id` when given.
HeaderList stream_headers(HeaderList headers, const std::string& last_event_id);

bool is_event_stream(const HttpResponse& response);

// The last event id seen on a stream and the server's latest retry delay.
struct StreamPosition {
    std::string last_event_id;
    long retry_ms = kDefaultRetryMs;
    void advance(const SseEvent& event) {
        if (!event.id.empty()) last_event_id = event.id;
        if (event.retry_ms >= 0) retry_ms = event.retry_ms;
    }
};

}  // namespace mcpmtls::client
