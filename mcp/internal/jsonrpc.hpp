#pragma once
// JSON-RPC message text shared by the runtime's files: the transport, the method handlers and
// the tool-call machinery all write the same shapes.
#include "mcp/streamable_http.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace mcpmtls::mcp::internal {

// Never throws on invalid UTF-8 from a tool or a client: replaced, not refused.
inline std::string dump(const nlohmann::json& value) { return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

inline nlohmann::json rpc_error(const nlohmann::json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

inline std::string result_message(const nlohmann::json& id, const std::string& rendered_result) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id.dump() + ",\"result\":" + rendered_result + "}";
}

inline HttpResponse json_response(int status, const nlohmann::json& body) {
    HttpResponse response;
    response.status = status;
    response.content_type = "application/json";
    response.body = dump(body);
    return response;
}

inline nlohmann::json notification(const std::string& method, nlohmann::json params) {
    return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace mcpmtls::mcp::internal
