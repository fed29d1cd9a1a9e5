#include "mcp/httplib_adapter.hpp"

namespace mcpmtls::mcp {

void mount(httplib::Server& server, StreamableHttpServer& mcp,
           std::function<tls::PeerIdentity(const httplib::Request&)> identify, const std::string& path) {
    // httplib answers 413 from Content-Length alone, without reading the body.
    server.set_payload_max_length(mcp.options().max_body_bytes);
    auto handler = [&mcp, identify](const httplib::Request& req, httplib::Response& res) {
        HttpRequest request;
        request.method = req.method;
        request.body = req.body;
        request.remote_address = req.remote_addr;
        request.headers.reserve(req.headers.size());
        for (const auto& [key, value] : req.headers) request.headers.emplace_back(key, value);
        HttpResponse response = mcp.handle(request, identify(req));
        res.status = response.status;
        for (const auto& [key, value] : response.headers) res.set_header(key, value);
        if (!response.content_type.empty()) res.set_content(std::move(response.body), response.content_type.c_str());
    };
    server.Post(path, handler);
    server.Get(path, handler);
    server.Delete(path, handler);
    server.Put(path, handler);
    server.Patch(path, handler);
}

}  // namespace mcpmtls::mcp
