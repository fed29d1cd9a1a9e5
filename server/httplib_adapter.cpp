#include "server/httplib_adapter.hpp"

#include <openssl/ssl.h>
#include <poll.h>

namespace mcpmtls::server {
namespace {

// A streamed response's end on cpp-httplib: chunks of the chunked body, and the socket of its
// TLS connection to notice a client that went away while the stream was idle.
class ChunkSink final : public mcp::BodySink {
public:
    ChunkSink(httplib::DataSink& sink, const SSL* ssl) : sink_(sink), ssl_(ssl) {}
    bool write(const std::string& bytes) override { return sink_.write(bytes.data(), bytes.size()); }
    // The client sends nothing while it reads a stream, so a readable end of file is its close.
    bool client_gone() const override {
        const int fd = ssl_ ? SSL_get_fd(ssl_) : -1;
        if (fd < 0) return false;
        pollfd p{fd, POLLRDHUP, 0};
        return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }

private:
    httplib::DataSink& sink_;
    const SSL* ssl_;
};

}  // namespace

void mount(httplib::Server& server, mcp::StreamableHttpServer& mcp, MountHooks hooks, const std::string& path) {
    // httplib answers 413 from Content-Length alone, without reading the body.
    server.set_payload_max_length(mcp.options().max_body_bytes);
    if (hooks.request_started) {
        // Runs once the headers are parsed, before the body is read.
        server.set_pre_routing_handler([started = hooks.request_started](const httplib::Request& req, httplib::Response&) {
            started(req);
            return httplib::Server::HandlerResponse::Unhandled;
        });
    }
    auto handler = [&mcp, hooks](const httplib::Request& req, httplib::Response& res) {
        static const tls::PeerIdentity anonymous;
        mcp::HttpRequest request;
        request.method = req.method;
        request.body = req.body;
        request.remote_address = req.remote_addr;
        request.headers.reserve(req.headers.size());
        for (const auto& [key, value] : req.headers) request.headers.emplace_back(key, value);
        // Shared, not copied: the identity was built once at the handshake.
        const auto identity = hooks.identify ? hooks.identify(req) : nullptr;
        mcp::HttpResponse response = mcp.handle(request, identity ? *identity : anonymous);
        res.status = response.status;
        for (const auto& [key, value] : response.headers) res.set_header(key, value);
        if (response.stream) {
            // The connection is busy until the stream ends: only then is it idle for the governor
            // (the releaser runs once the response is over, however it ended).
            res.set_chunked_content_provider(
                response.content_type,
                [stream = std::move(response.stream), ssl = req.ssl](size_t, httplib::DataSink& sink) {
                    ChunkSink out(sink, ssl);
                    switch (stream(out)) {
                        case mcp::StreamStep::more: return true;  // httplib checks for shutdown, then calls again
                        case mcp::StreamStep::done: sink.done(); return true;
                        case mcp::StreamStep::abort: break;
                    }
                    return false;
                },
                [finished = hooks.request_finished, &req](bool) {
                    if (finished) finished(req);
                });
            return;
        }
        if (!response.content_type.empty()) res.set_content(std::move(response.body), response.content_type.c_str());
        // Error answers are finished by the error handler below, which also sees httplib's own.
        if (res.status < 400 && hooks.request_finished && hooks.request_finished(req)) res.set_header("Connection", "close");
    };
    if (hooks.request_finished) {
        // httplib answers some requests itself (400 for a body that never came, 413, 404):
        // their connections are idle again too.
        httplib::Server::HandlerWithResponse on_error = [finished = hooks.request_finished](const httplib::Request& req,
                                                                                           httplib::Response& res) {
            if (finished(req)) res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Unhandled;
        };
        server.set_error_handler(std::move(on_error));
    }
    server.Post(path, handler);
    server.Get(path, handler);
    server.Delete(path, handler);
    server.Put(path, handler);
    server.Patch(path, handler);
}

}  // namespace mcpmtls::server
