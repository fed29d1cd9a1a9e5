#include "test/support/raw_tls.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdexcept>
#include <sys/time.h>
#include <unistd.h>

namespace mcpmtls::testing {
namespace {

tls::SslCtxPtr client_context(const std::string& cert, const std::string& key) {
    tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
        throw std::runtime_error("cannot load " + cert + " and " + key);
    return ctx;
}

// A loopback TCP connection whose writes time out after 5 s; -1 if it cannot connect.
int connect_loopback(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

}  // namespace

RawTlsClient::RawTlsClient(const DemoPki& pki, int port, const std::string& name) {
    ctx_ = client_context(pki.path(name + ".crt"), pki.path(name + ".key"));
    fd_ = connect_loopback(port);
    REQUIRE(fd_ >= 0);
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_);
    REQUIRE(SSL_connect(ssl_.get()) == 1);
}

bool handshake_refused(const std::string& cert, const std::string& key, int port) {
    const auto ctx = client_context(cert, key);
    const int fd = connect_loopback(port);
    if (fd < 0) return false;
    tls::SslPtr ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    char byte;
    // TLS 1.3: the client's side of the handshake completes before the server judges its
    // certificate; the refusal comes as the first thing read.
    const bool refused = SSL_connect(ssl.get()) != 1 || SSL_read(ssl.get(), &byte, 1) <= 0;
    ssl.reset();
    close(fd);
    return refused;
}

RawTlsClient::RawTlsClient(const DemoPki& pki, int port, const std::string& name, const std::string& partial)
    : RawTlsClient(pki, port, name) {
    if (!partial.empty()) REQUIRE(write(partial));
}

RawTlsClient::~RawTlsClient() {
    ssl_.reset();
    if (fd_ >= 0) close(fd_);
}

bool RawTlsClient::write(const std::string& data) { return SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size())) > 0; }

std::string RawTlsClient::read_all(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::string received;
    char buf[4096];
    for (;;) {
        if (SSL_pending(ssl_.get()) == 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{fd_, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        }
        const int n = SSL_read(ssl_.get(), buf, sizeof buf);
        if (n <= 0) break;
        received.append(buf, static_cast<size_t>(n));
    }
    return received;
}

void RawTlsClient::abort() {
    linger hard{1, 0};  // a reset, as when a client process dies
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ssl_.reset();
    close(fd_);
    fd_ = -1;
}

}  // namespace mcpmtls::testing
