#pragma once
// A verified client on a raw TLS connection, for sending exactly the bytes a test wants (partial
// requests, floods, oversized headers) and then going silent, closing abruptly or reading what
// the server answers.
#include "test/support/fixtures.hpp"
#include "tls/openssl_handles.hpp"

#include <chrono>
#include <string>

namespace mcpmtls::testing {

class RawTlsClient {
public:
    // Connects and completes the handshake as `name` of the demo PKI; writes time out after 5 s.
    RawTlsClient(const DemoPki& pki, int port, const std::string& name = "coordinator");
    RawTlsClient(const DemoPki& pki, int port, const std::string& name, const std::string& partial);
    ~RawTlsClient();
    RawTlsClient(const RawTlsClient&) = delete;
    RawTlsClient& operator=(const RawTlsClient&) = delete;

    // False once the server no longer takes bytes.
    bool write(const std::string& data);
    // What the server sends until it closes the connection or `wait` passes.
    std::string read_all(std::chrono::milliseconds wait);
    // Ends the TCP connection at once, without a TLS close_notify.
    void abort();

private:
    tls::SslCtxPtr ctx_;
    tls::SslPtr ssl_;
    int fd_ = -1;
};

// One handshake presenting `cert` and `key` (from any CA), then whatever the server sends read
// until it closes: true when it refused the client (an alert or a close, never a finished
// handshake followed by an answer).
bool handshake_refused(const std::string& cert, const std::string& key, int port);

}  // namespace mcpmtls::testing
