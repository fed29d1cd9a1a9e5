#include "test/support/raw_tls.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mcpmtls::testing {

RawTlsClient::RawTlsClient(const DemoPki& pki, int port, const std::string& name) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    REQUIRE(SSL_CTX_use_certificate_chain_file(ctx_.get(), pki.path(name + ".crt").c_str()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx_.get(), pki.path(name + ".key").c_str(), SSL_FILETYPE_PEM) == 1);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_);
    REQUIRE(SSL_connect(ssl_.get()) == 1);
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
