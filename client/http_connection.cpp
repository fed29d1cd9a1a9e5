#include "client/http_connection.hpp"

#include "common/strings.hpp"
#include "pki/names.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mcpmtls::client {

// ---------------------------------------------------------------------------------------------
// URLs

Url Url::parse(const std::string& text) {
    Url url;
    auto scheme_end = text.find("://");
    if (scheme_end == std::string::npos) throw InputError("bad URL '" + text + "' (expected https://HOST:PORT/mcp)");
    url.scheme = to_lower(text.substr(0, scheme_end));
    if (url.scheme != "https" && url.scheme != "http") throw InputError("unsupported URL scheme in '" + text + "'");
    std::string rest = text.substr(scheme_end + 3);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    url.path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string port_text;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) throw InputError("bad IPv6 address in '" + text + "'");
        url.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw InputError("bad URL '" + text + "'");
            port_text = authority.substr(close + 2);
        }
    } else {
        auto colon = authority.rfind(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) throw InputError("URL '" + text + "' has no host");
    url.port = url.scheme == "https" ? 443 : 80;
    if (!port_text.empty()) url.port = static_cast<int>(parse_positive("port in " + text, port_text, 1, 65535));
    return url;
}

std::string Url::host_header() const {
    const bool v6 = host.find(':') != std::string::npos;
    std::string h = v6 ? "[" + host + "]" : host;
    const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    return default_port ? h : h + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + host_header() + path; }

std::string HttpResponse::header(const std::string& name) const {
    const std::string wanted = to_lower(name);
    for (const auto& [key, value] : headers)
        if (to_lower(key) == wanted) return value;
    return "";
}

// ---------------------------------------------------------------------------------------------
// Connection

namespace {
std::mutex default_authorizer_mutex;
std::shared_ptr<HttpAuthorizer> default_authorizer;
}  // namespace

void HttpConnection::set_default_authorizer(std::shared_ptr<HttpAuthorizer> authorizer) {
    std::lock_guard<std::mutex> lock(default_authorizer_mutex);
    default_authorizer = std::move(authorizer);
}

HttpConnection::HttpConnection(Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts)
    : url_(std::move(url)), tls_(std::move(tls)), timeouts_(timeouts) {
    {
        std::lock_guard<std::mutex> lock(default_authorizer_mutex);
        authorizer_ = default_authorizer;
    }
    if (url_.scheme == "https" && !tls_) throw InputError("https needs a TLS context");
}

HttpConnection::~HttpConnection() {
    close();
    if (saved_session_) SSL_SESSION_free(saved_session_);
}

bool HttpConnection::connected() const { return fd_ >= 0; }

void HttpConnection::close() {
    if (ssl_) {
        if (reuse_sessions_) {
            SSL_SESSION* session = SSL_get1_session(ssl_.get());
            if (session && SSL_SESSION_is_resumable(session)) {
                if (saved_session_) SSL_SESSION_free(saved_session_);
                saved_session_ = session;
            } else if (session) {
                SSL_SESSION_free(session);
            }
        }
        SSL_shutdown(ssl_.get());  // best effort close_notify
        ssl_.reset();
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    read_buffer_.clear();
}

namespace {

std::string ssl_error_text() {
    unsigned long code = ERR_get_error();
    std::string text;
    while (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        const char* reason = ERR_reason_error_string(code);
        text = reason ? reason : buf;  // the last one is the most specific
        code = ERR_get_error();
    }
    return text;
}

void set_timeout(int fd, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

void HttpConnection::connect() {
    close();
    const std::string where = url_.host_header();
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(url_.host.c_str(), std::to_string(url_.port).c_str(), &hints, &found);
    if (rc != 0) throw ConnectionError(FailureKind::connect, "cannot resolve " + url_.host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
    std::string last_error = "no address";
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) continue;
        int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            int ready = ::poll(&p, 1, static_cast<int>(timeouts_.connect.count()));
            if (ready == 0) {
                ::close(fd);
                throw ConnectionError(FailureKind::timeout, "connecting to " + where + " timed out after " +
                                                                std::to_string(timeouts_.connect.count()) + " ms");
            }
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            r = err == 0 ? 0 : -1;
            errno = err;
        }
        if (r != 0) {
            last_error = std::strerror(errno);
            ::close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        set_timeout(fd, timeouts_.io);
        fd_ = fd;
        break;
    }
    if (fd_ < 0) throw ConnectionError(FailureKind::connect, "cannot connect to " + where + ": " + last_error);
    if (url_.scheme != "https") return;

    ssl_ = tls_->new_ssl(url_.host, &verdict_);
    SSL_set_fd(ssl_.get(), fd_);
    if (reuse_sessions_ && saved_session_) SSL_set_session(ssl_.get(), saved_session_);
    ERR_clear_error();
    int ret = SSL_connect(ssl_.get());
    ++handshakes_;
    if (ret != 1) {
        std::string message = describe_tls_failure(ret, "handshake");
        FailureKind kind = (verdict_.checked && !verdict_.accepted) ? FailureKind::tls_server_rejected_by_us
                           : message.find("refused") != std::string::npos ? FailureKind::tls_refused_by_server
                                                                          : FailureKind::tls_other;
        close();
        throw ConnectionError(kind, message);
    }
    if (SSL_session_reused(ssl_.get()) == 1) ++resumed_handshakes_;
}

std::string HttpConnection::describe_tls_failure(int ssl_ret, const std::string& during) {
    const int err = SSL_get_error(ssl_.get(), ssl_ret);
    const int saved_errno = errno;
    const std::string detail = ssl_error_text();
    if (verdict_.checked && !verdict_.accepted)
        return "server certificate rejected: " + verdict_.reason;
    if (detail.find("alert") != std::string::npos)
        return "the server refused the TLS " + during + " (" + detail +
               "): it does not accept our client certificate, or requires one";
    if (err == SSL_ERROR_SYSCALL && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
        return "TLS " + during + " timed out";
    if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
        return "the server closed the connection during the TLS " + during +
               (detail.empty() ? "" : " (" + detail + ")") + " (is it a TLS server? does it accept our certificate?)";
    return "TLS " + during + " failed" + (detail.empty() ? "" : ": " + detail);
}

void HttpConnection::write_all(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        if (ssl_) {
            ERR_clear_error();
            int n = SSL_write(ssl_.get(), data.data() + sent, static_cast<int>(data.size() - sent));
            if (n <= 0) throw ConnectionError(FailureKind::closed, describe_tls_failure(n, "write"));
            sent += static_cast<size_t>(n);
        } else {
            ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw ConnectionError(errno == EAGAIN ? FailureKind::timeout : FailureKind::closed,
                                      std::string("write failed: ") + std::strerror(errno));
            }
            sent += static_cast<size_t>(n);
        }
    }
}

size_t HttpConnection::read_some(char* buf, size_t len) {
    if (ssl_) {
        ERR_clear_error();
        int n = SSL_read(ssl_.get(), buf, static_cast<int>(len));
        if (n > 0) return static_cast<size_t>(n);
        int err = SSL_get_error(ssl_.get(), n);
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET)) return 0;
        if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
            throw ConnectionError(FailureKind::timeout, "no answer from " + url_.host_header() + " within " +
                                                            std::to_string(timeouts_.io.count() / 1000) + " s");
        std::string message = describe_tls_failure(n, "session");
        throw ConnectionError(message.find("refused") != std::string::npos ? FailureKind::tls_refused_by_server
                                                                          : FailureKind::closed,
                              message);
    }
    for (;;) {
        ssize_t n = ::recv(fd_, buf, len, 0);
        if (n >= 0) return static_cast<size_t>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            throw ConnectionError(FailureKind::timeout, "no answer from " + url_.host_header() + " within " +
                                                            std::to_string(timeouts_.io.count() / 1000) + " s");
        if (errno == ECONNRESET) return 0;
        throw ConnectionError(FailureKind::closed, std::string("read failed: ") + std::strerror(errno));
    }
}

HttpResponse HttpConnection::request(const std::string& method,
                                     const std::vector<std::pair<std::string, std::string>>& headers,
                                     const std::string& body, const std::function<bool(const std::string&)>& stop_reading) {
    SseEventHandler on_event;
    if (stop_reading) on_event = [&stop_reading](const SseEvent& event) { return !event.data.empty() && stop_reading(event.data); };
    return request_events(method, headers, body, on_event);
}

HttpResponse HttpConnection::request_events(const std::string& method,
                                            const std::vector<std::pair<std::string, std::string>>& headers,
                                            const std::string& body, const SseEventHandler& on_event,
                                            const std::function<void(const HttpResponse&)>& on_headers) {
    if (!authorizer_) return send_events(method, headers, body, on_event, on_headers);
    for (int attempt = 0;; ++attempt) {
        const std::string credential = authorizer_->authorization(url_);
        std::vector<std::pair<std::string, std::string>> sent;
        sent.reserve(headers.size() + 1);
        for (const auto& header : headers)
            if (!iequals(header.first, "Authorization")) sent.push_back(header);
        if (!credential.empty()) sent.emplace_back("Authorization", credential);
        HttpResponse response = send_events(method, sent, body, on_event, on_headers);
        if ((response.status != 401 && response.status != 403) || !authorizer_->retry(url_, response, credential, attempt))
            return response;
    }
}

HttpResponse HttpConnection::send_events(const std::string& method,
                                         const std::vector<std::pair<std::string, std::string>>& headers,
                                         const std::string& body, const SseEventHandler& on_event,
                                         const std::function<void(const HttpResponse&)>& on_headers) {
    fresh_ = false;
    if (!connected()) {
        connect();
        fresh_ = true;
    }
    try {
        return request_once(method, headers, body, on_event, on_headers);
    } catch (const ConnectionError& e) {
        // A kept-alive connection the server closed in the meantime: retry once, fresh.
        if (fresh_ || e.kind() != FailureKind::closed) throw;
        connect();
        fresh_ = true;
        return request_once(method, headers, body, on_event, on_headers);
    }
}

void HttpConnection::abort() {
    const int fd = fd_.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

HttpResponse HttpConnection::request_once(const std::string& method,
                                          const std::vector<std::pair<std::string, std::string>>& headers,
                                          const std::string& body, const SseEventHandler& on_event,
                                          const std::function<void(const HttpResponse&)>& on_headers) {
    // A large body waits for the server's go-ahead (100 Continue), as curl does: a server that
    // refuses it (413) says so at once, before the body is sent, and then closes.
    const bool expect_continue = body.size() >= kExpectContinueFrom;
    std::string out;
    out.reserve(256 + body.size());
    out += method + " " + url_.path + " HTTP/1.1\r\nHost: " + url_.host_header() + "\r\n";
    for (const auto& [key, value] : headers) out += key + ": " + value + "\r\n";
    if (!body.empty() || method == "POST") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (expect_continue) out += "Expect: 100-continue\r\n";
    out += "\r\n";
    if (!expect_continue) out += body;
    write_all(out);

    char chunk[16384];
    if (expect_continue) {
        // A server that ignores Expect gets the body after a second, as RFC 9110 10.1.1 allows.
        bool final_answer = false;
        if (readable_within(std::chrono::seconds(1))) {
            while (read_buffer_.find("\r\n\r\n") == std::string::npos && read_buffer_.size() <= 64 * 1024) {
                const size_t n = read_some(chunk, sizeof chunk);
                if (n == 0) break;
                read_buffer_.append(chunk, n);
            }
            if (starts_with(read_buffer_, "HTTP/1.1 100") || starts_with(read_buffer_, "HTTP/1.0 100"))
                read_buffer_.erase(0, read_buffer_.find("\r\n\r\n") + 4);
            else
                final_answer = !read_buffer_.empty();
        }
        if (!final_answer) write_all(body);
    }

    // Status line and headers.
    size_t header_end;
    while ((header_end = read_buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (read_buffer_.size() > 64 * 1024) throw ConnectionError(FailureKind::protocol, "response headers too large");
        size_t n = read_some(chunk, sizeof chunk);
        if (n == 0) {
            bool got_nothing = read_buffer_.empty();
            close();
            throw ConnectionError(FailureKind::closed, got_nothing ? "the server closed the connection without answering"
                                                                   : "truncated response headers");
        }
        read_buffer_.append(chunk, n);
    }
    HttpResponse response;
    {
        std::string head = read_buffer_.substr(0, header_end);
        read_buffer_.erase(0, header_end + 4);
        auto lines = split(head, '\n');
        std::string status_line = trim(lines.front());
        if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
            throw ConnectionError(FailureKind::protocol, "not an HTTP response: '" + status_line.substr(0, 40) + "'");
        response.status = std::atoi(status_line.substr(9, 3).c_str());
        for (size_t i = 1; i < lines.size(); ++i) {
            std::string line = trim(lines[i]);
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
        }
    }
    if (on_headers) on_headers(response);
    const bool close_after = to_lower(response.header("Connection")) == "close";
    const bool chunked = to_lower(response.header("Transfer-Encoding")).find("chunked") != std::string::npos;
    const std::string length_text = response.header("Content-Length");
    const bool event_stream = to_lower(response.header("Content-Type")).find("text/event-stream") != std::string::npos;
    auto fill = [&]() -> bool {
        size_t n = read_some(chunk, sizeof chunk);
        if (n == 0) return false;
        read_buffer_.append(chunk, n);
        return true;
    };
    // For event streams: each complete event goes to the handler; true once it has what it wanted.
    size_t scanned = 0;
    std::string pending;  // event-stream text not yet split into events, line ends normalised
    auto stream_done = [&](const std::string& so_far) {
        if (!event_stream || !on_event) return false;
        for (; scanned < so_far.size(); ++scanned)
            if (so_far[scanned] != '\r') pending += so_far[scanned];
        size_t end;
        while ((end = pending.find("\n\n")) != std::string::npos) {
            SseEvent event;
            bool any_field = false;
            for (const auto& line : split(pending.substr(0, end), '\n')) {
                if (line.empty() || line[0] == ':') continue;  // comments: heartbeats
                const auto colon = line.find(':');
                const std::string field = line.substr(0, colon);
                std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
                if (!value.empty() && value[0] == ' ') value.erase(0, 1);
                any_field = true;
                if (field == "data") event.data += (event.data.empty() ? "" : "\n") + value;
                else if (field == "id") event.id = value;
                else if (field == "event") event.type = value;
                else if (field == "retry" && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos)
                    event.retry_ms = std::atol(value.c_str());
            }
            pending.erase(0, end + 2);
            (void)any_field;  // a comment-only block (a heartbeat) still lets the reader stop
            if (on_event(event)) return true;
        }
        return false;
    };
    // Events handed to the handler are not kept in the body as well: a standalone stream lives
    // for days, and its body would grow for as long.
    auto forget_handled = [&](std::string& so_far) {
        if (!event_stream || !on_event) return;
        so_far.erase(0, scanned);
        scanned = 0;
    };

    if (method == "HEAD" || response.status == 204 || response.status == 304) {
    } else if (chunked) {
        for (;;) {
            size_t line_end;
            while ((line_end = read_buffer_.find("\r\n")) == std::string::npos)
                if (!fill()) throw ConnectionError(FailureKind::closed, "truncated chunked response");
            size_t size = std::strtoul(read_buffer_.substr(0, line_end).c_str(), nullptr, 16);
            if (size == 0) {
                // Skip trailers up to the empty line.
                while (read_buffer_.find("\r\n\r\n") == std::string::npos && read_buffer_.substr(line_end, 4) != "\r\n\r\n")
                    if (!fill()) break;
                auto trailer_end = read_buffer_.find("\r\n\r\n");
                read_buffer_.erase(0, trailer_end == std::string::npos ? read_buffer_.size() : trailer_end + 4);
                break;
            }
            while (read_buffer_.size() < line_end + 2 + size + 2)
                if (!fill()) throw ConnectionError(FailureKind::closed, "truncated chunked response");
            response.body.append(read_buffer_, line_end + 2, size);
            read_buffer_.erase(0, line_end + 2 + size + 2);
            if (stream_done(response.body)) {
                close();
                return response;
            }
            forget_handled(response.body);
        }
    } else if (!length_text.empty()) {
        size_t length = std::strtoull(length_text.c_str(), nullptr, 10);
        while (read_buffer_.size() < length)
            if (!fill()) throw ConnectionError(FailureKind::closed, "truncated response body");
        response.body = read_buffer_.substr(0, length);
        read_buffer_.erase(0, length);
        // An event stream with a length (a server that buffered its whole answer, as the
        // TypeScript SDK's may) still goes to the handler event by event.
        stream_done(response.body);
        forget_handled(response.body);
    } else {
        // No length: the body runs to the end of the connection (or of the event we wanted).
        for (;;) {
            response.body += read_buffer_;
            read_buffer_.clear();
            if (stream_done(response.body)) break;
            forget_handled(response.body);
            if (!fill()) break;
        }
        close();
        return response;
    }
    if (close_after) close();
    return response;
}

bool HttpConnection::readable_within(std::chrono::milliseconds wait) {
    if (!read_buffer_.empty() || (ssl_ && SSL_pending(ssl_.get()) > 0)) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

TlsSessionInfo HttpConnection::session_info() const {
    TlsSessionInfo info;
    if (!ssl_) return info;
    info.version = SSL_get_version(ssl_.get());
    info.cipher = SSL_get_cipher_name(ssl_.get());
    info.resumed = SSL_session_reused(ssl_.get()) == 1;
    return info;
}

}  // namespace mcpmtls::client
