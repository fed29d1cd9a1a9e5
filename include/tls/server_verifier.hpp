#pragma once
// A TLS server judged by the project's verifier on a connection that another library makes
// (the servers fetch their CRL from --crl-url through cpp-httplib's client): strict, purpose
// serverAuth, the host name checked, never OpenSSL's own verification.
#include "pki/verify/verifier.hpp"

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_store_ctx_st X509_STORE_CTX;

namespace mcpmtls::tls {

class ServerVerifier {
public:
    ServerVerifier(std::shared_ptr<const pki::TrustStore> trust, std::string host);
    ServerVerifier(const ServerVerifier&) = delete;
    ServerVerifier& operator=(const ServerVerifier&) = delete;

    // Makes `ctx` judge every server it connects to with this object, which must outlive every
    // connection made with `ctx`.
    void install(SSL_CTX& ctx);
    // Why the last server was refused; empty when none was. Read it on the connecting thread.
    const std::string& refusal() const { return refusal_; }

private:
    static int verify(X509_STORE_CTX* store_ctx, void* arg);
    std::shared_ptr<const pki::TrustStore> trust_;
    std::string host_;
    std::string refusal_;
};

}  // namespace mcpmtls::tls
