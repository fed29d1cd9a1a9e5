#pragma once
// One keep-alive HTTP/1.1 connection to one server, over mutual TLS (or plain TCP for local
// protocol tests with --allow-http). Programs using it must ignore SIGPIPE, as bin/client does:
// OpenSSL writes to the socket with write(2). Small on purpose: the coordinator needs to see the TLS
// session (check), classify failures exactly, and the load generator needs it cheap.
#include "common/error.hpp"
#include "tls/client_context.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mcpmtls::client {

struct Url {
    std::string scheme;  // "https" | "http"
    std::string host;    // without brackets
    int port = 0;
    std::string path;    // starts with '/'
    static Url parse(const std::string& text);  // throws InputError
    std::string host_header() const;             // host[:port], IPv6 in brackets
    std::string to_string() const;
};

struct HttpResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

// One Server-Sent Event as read from a text/event-stream answer.
struct SseEvent {
    std::string id;      // empty when the event carries none
    std::string type;    // the event field; empty means "message"
    std::string data;    // data lines joined with '\n'; empty for priming events
    long retry_ms = -1;  // the retry field, when present
};
// Given each event of an event stream; returns true to stop reading (the connection is closed).
using SseEventHandler = std::function<bool(const SseEvent& event)>;

// Why a request failed; the coordinator maps kinds to exit codes (tls_* -> 3, others -> 1).
enum class FailureKind { connect, timeout, tls_server_rejected_by_us, tls_refused_by_server, tls_other, protocol, closed };

class ConnectionError : public Error {
public:
    ConnectionError(FailureKind kind, const std::string& message)
        : Error(kind == FailureKind::tls_server_rejected_by_us || kind == FailureKind::tls_refused_by_server ? kExitVerification
                                                                                                              : kExitFailed,
                message),
          kind_(kind) {}
    FailureKind kind() const { return kind_; }

private:
    FailureKind kind_;
};

struct Timeouts {
    std::chrono::milliseconds connect{5000};
    std::chrono::milliseconds io{30000};
};

struct TlsSessionInfo {
    std::string version;  // "TLSv1.3"
    std::string cipher;
    bool resumed = false;
};

// Adds credentials to the requests of every connection that has it, and decides, from a 401 or
// 403 answer, whether the request is worth sending again (client/oauth: a new OAuth token). One
// object serves every connection of a process, so it must be thread-safe.
class HttpAuthorizer {
public:
    virtual ~HttpAuthorizer() = default;
    // The Authorization header value for a request to `url`; empty: none.
    virtual std::string authorization(const Url& url) = 0;
    // Given a 401 or 403 answer to a request sent with `sent` (the value authorization() gave)
    // as the `attempt`th try (0 first); true: send it again (authorization() has a new value).
    // Throws Error when authorization failed for good (the message names the reason).
    virtual bool retry(const Url& url, const HttpResponse& response, const std::string& sent, int attempt) = 0;
};

class HttpConnection {
public:
    // Bodies from this size on are sent only after the server's 100 Continue.
    static constexpr size_t kExpectContinueFrom = 64 * 1024;

    // `tls` may be null only for http:// URLs.
    HttpConnection(Url url, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts = {});
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // Sends one request on the kept-alive connection (connecting first if needed). A request on a
    // reused connection that the server had closed is retried once on a fresh connection.
    // For text/event-stream answers, `stop_reading` (given each event's data) may end the read
    // early: the stream is then closed.
    HttpResponse request(const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body,
                         const std::function<bool(const std::string& event_data)>& stop_reading = nullptr);
    // The same, with every event of an event-stream answer (ids and retry fields included); the
    // events handed to `on_event` are not kept in the response's body. `on_headers` sees the
    // status and headers before the body is read.
    HttpResponse request_events(const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& body, const SseEventHandler& on_event,
                                const std::function<void(const HttpResponse&)>& on_headers = nullptr);
    // From another thread: ends a read that is blocked on this connection (it sees the close).
    void abort();
    void connect();  // explicit connect (check command); throws ConnectionError
    void close();
    bool connected() const;

    const Url& url() const { return url_; }
    const tls::ServerVerdict& verdict() const { return verdict_; }
    TlsSessionInfo session_info() const;
    size_t handshakes() const { return handshakes_; }
    size_t resumed_handshakes() const { return resumed_handshakes_; }  // of handshakes(), those that resumed a session
    // Every connection made after this call asks `authorizer` (null: none) for credentials.
    static void set_default_authorizer(std::shared_ptr<HttpAuthorizer> authorizer);
    // This connection's (the default when it was made); the OAuth flow's own requests use none.
    void set_authorizer(std::shared_ptr<HttpAuthorizer> authorizer) { authorizer_ = std::move(authorizer); }
    // Keep TLS sessions for resumption across reconnects (default on).
    void set_session_reuse(bool on) { reuse_sessions_ = on; }

private:
    HttpResponse send_events(const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body, const SseEventHandler& on_event,
                             const std::function<void(const HttpResponse&)>& on_headers);
    HttpResponse request_once(const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, const SseEventHandler& on_event,
                              const std::function<void(const HttpResponse&)>& on_headers);
    void write_all(const std::string& data);
    bool readable_within(std::chrono::milliseconds wait);
    size_t read_some(char* buf, size_t len);  // 0 at EOF
    std::string describe_tls_failure(int ssl_ret, const std::string& during);

    Url url_;
    std::shared_ptr<const tls::ClientTlsContext> tls_;
    Timeouts timeouts_;
    std::atomic<int> fd_{-1};  // atomic: abort() reads it from another thread
    tls::SslPtr ssl_;
    tls::ServerVerdict verdict_;
    std::string read_buffer_;
    size_t handshakes_ = 0;
    size_t resumed_handshakes_ = 0;
    bool reuse_sessions_ = true;
    bool fresh_ = false;  // connected for this request: no retry on failure
    SSL_SESSION* saved_session_ = nullptr;
    std::shared_ptr<HttpAuthorizer> authorizer_;
};

}  // namespace mcpmtls::client
