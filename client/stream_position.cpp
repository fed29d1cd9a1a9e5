#include "client/stream_position.hpp"

#include "common/strings.hpp"
#include "common/version.hpp"

#include <algorithm>

namespace mcpmtls::client {

HeaderList session_headers(const std::string& protocol_version, const std::string& session_id) {
    HeaderList headers = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json, text/event-stream"},
        {"User-Agent", std::string("mcp-mtls-client/") + kVersion},
    };
    if (!protocol_version.empty()) headers.emplace_back("MCP-Protocol-Version", protocol_version);
    if (!session_id.empty()) headers.emplace_back("Mcp-Session-Id", session_id);
    return headers;
}

HeaderList stream_headers(HeaderList headers, const std::string& last_event_id) {
    for (auto& [key, value] : headers)
        if (key == "Accept") value = "text/event-stream";
    headers.erase(std::remove_if(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Content-Type"; }), headers.end());
    if (!last_event_id.empty()) headers.emplace_back("Last-Event-ID", last_event_id);
    return headers;
}

bool is_event_stream(const HttpResponse& response) {
    return to_lower(response.header("Content-Type")).find("text/event-stream") != std::string::npos;
}

}  // namespace mcpmtls::client
