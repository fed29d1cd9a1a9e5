#include "server/httplib_adapter.hpp"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

namespace mcpmtls::server {
namespace {

mcp::HttpRequest runtime_request(const httplib::Request& req, bool with_body) {
    mcp::HttpRequest request;
    request.method = req.method;
    if (with_body) request.body = req.body;
    request.remote_address = req.remote_addr;
    request.headers.reserve(req.headers.size());
    for (const auto& [key, value] : req.headers) request.headers.emplace_back(key, value);
    return request;
}

// False when the request's body did not arrive whole (the client went away, or stalled until
// the read timeout): httplib then answers 400 itself.
bool read_whole(const httplib::Request& req) {
    const std::string length = req.get_header_value("Content-Length");
    return length.empty() || length.find_first_not_of("0123456789") != std::string::npos || length.size() > 19 ||
           std::stoull(length) <= req.body.size();
}

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

// The runtime's answer on cpp-httplib's response: a body, or a stream. The connection is busy
// until a stream ends: only then is it idle for the governor (the releaser runs once the
// response is over, however it ended).
// `req` and `finished` matter only for a stream (a refusal before the body never is one).
// Returns true when the answer is a stream.
bool answer(httplib::Response& res, mcp::HttpResponse response, const httplib::Request* req = nullptr,
            const std::function<bool(const httplib::Request&, bool)>& finished = nullptr) {
    res.status = response.status;
    for (const auto& [key, value] : response.headers) res.set_header(key, value);
    if (response.stream && req) {
        res.set_chunked_content_provider(
            response.content_type,
            [stream = std::move(response.stream), ssl = req->ssl](size_t, httplib::DataSink& sink) {
                ChunkSink out(sink, ssl);
                switch (stream(out)) {
                    case mcp::StreamStep::more: return true;  // httplib checks for shutdown, then calls again
                    case mcp::StreamStep::done: sink.done(); return true;
                    case mcp::StreamStep::abort: break;
                }
                return false;
            },
            [finished, req](bool) {
                if (finished) finished(*req, true);
            });
        return true;
    }
    if (!response.content_type.empty()) res.set_content(std::move(response.body), response.content_type.c_str());
    return false;
}

}  // namespace

void mount(httplib::Server& server, mcp::StreamableHttpServer& mcp, MountHooks hooks, const std::string& path) {
    // Also httplib's own bound (a chunked body beyond it gets 413).
    server.set_payload_max_length(mcp.options().max_body_bytes);
    // Runs once the headers are parsed, before the body is read: an oversized body is refused
    // without reading a byte of it. A client that asked for 100-continue gets the refusal
    // instead of the go-ahead; one that did not sends its body anyway, which is never read:
    // the connection ends after the answer.
    auto refused_before_body = [&mcp, hooks](const httplib::Request& req, httplib::Response& res) {
        auto refusal = mcp.refuse_before_body(runtime_request(req, false));
        if (!refusal) return false;
        answer(res, std::move(*refusal));
        if (hooks.end_after_answer) hooks.end_after_answer(req);
        return true;
    };
    server.set_expect_100_continue_handler([refused_before_body](const httplib::Request& req, httplib::Response& res) {
        return refused_before_body(req, res) ? res.status : 100;
    });
    server.set_pre_routing_handler([refused_before_body, started = hooks.request_started](const httplib::Request& req,
                                                                                         httplib::Response& res) {
        if (started) started(req);
        return refused_before_body(req, res) ? httplib::Server::HandlerResponse::Handled
                                             : httplib::Server::HandlerResponse::Unhandled;
    });
    auto handler = [&mcp, hooks](const httplib::Request& req, httplib::Response& res) {
        static const tls::PeerIdentity anonymous;
        // Shared, not copied: the identity was built once at the handshake.
        const auto identity = hooks.identify ? hooks.identify(req) : nullptr;
        if (answer(res, mcp.handle(runtime_request(req, true), identity ? *identity : anonymous), &req, hooks.request_finished))
            return;
        // Error answers are finished by the error handler below, which also sees httplib's own.
        if (res.status < 400 && hooks.request_finished && hooks.request_finished(req, true)) res.set_header("Connection", "close");
    };
    if (hooks.request_finished) {
        // httplib answers some requests itself (400 for a body that never came, 413, 404):
        // their connections are idle again too.
        httplib::Server::HandlerWithResponse on_error = [finished = hooks.request_finished](const httplib::Request& req,
                                                                                           httplib::Response& res) {
            if (finished(req, read_whole(req))) res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Unhandled;
        };
        server.set_error_handler(std::move(on_error));
    }
    // RFC 9728 metadata: at the well-known root, and with the endpoint's path appended (what MCP
    // clients derive from the resource URL).
    auto metadata = [&mcp, hooks](const httplib::Request& req, httplib::Response& res) {
        auto response = mcp.protected_resource_metadata(runtime_request(req, false));
        if (!response) {
            res.status = 404;  // the error handler finishes it
            return;
        }
        answer(res, std::move(*response));
        if (res.status < 400 && hooks.request_finished && hooks.request_finished(req, true)) res.set_header("Connection", "close");
    };
    server.Get("/.well-known/oauth-protected-resource", metadata);
    server.Get("/.well-known/oauth-protected-resource" + path, metadata);
    server.Post(path, handler);
    server.Get(path, handler);
    server.Delete(path, handler);
    server.Put(path, handler);
    server.Patch(path, handler);
}

int bind_listener(httplib::Server& server, const std::string& address, int port) {
    // cpp-httplib 0.11 is compiled with a listen backlog of 5: bursts of new connections would
    // wait a second for SYN retransmits. Remember the listening socket to widen it after bind.
    int listen_fd = -1;
    server.set_socket_options([&listen_fd](int fd) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        listen_fd = fd;
    });
    const int bound = port == 0 ? server.bind_to_any_port(address) : (server.bind_to_port(address, port) ? port : -1);
    if (bound > 0 && listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);  // Linux lets a second listen() grow the backlog
    return bound > 0 ? bound : -1;
}

}  // namespace mcpmtls::server
