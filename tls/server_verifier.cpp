#include "tls/server_verifier.hpp"

#include "tls/credentials.hpp"

#include <openssl/ssl.h>

namespace mcpmtls::tls {

ServerVerifier::ServerVerifier(std::shared_ptr<const pki::TrustStore> trust, std::string host)
    : trust_(std::move(trust)), host_(std::move(host)) {}

void ServerVerifier::install(SSL_CTX& ctx) {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(&ctx, &ServerVerifier::verify, this);
}

// No exception may cross back into OpenSSL's C frames: whatever escapes is a refusal.
int ServerVerifier::verify(X509_STORE_CTX* store_ctx, void* arg) {
    auto* self = static_cast<ServerVerifier*>(arg);
    try {
        const auto chain = peer_chain(X509_STORE_CTX_get0_cert(store_ctx), X509_STORE_CTX_get0_untrusted(store_ctx));
        pki::VerifyOptions options;
        options.purpose = pki::Purpose::server_auth;
        options.host = self->host_;
        const auto result = chain.empty() ? pki::VerifyResult{{{pki::CheckFailure::malformed, "no server certificate"}}}
                                          : pki::verify_chain(chain, *self->trust_, options);
        self->refusal_ = result.valid() ? "" : result.reason();
    } catch (const std::exception& e) {
        self->refusal_ = std::string("unparseable server certificate: ") + e.what();
    }
    X509_STORE_CTX_set_error(store_ctx, self->refusal_.empty() ? X509_V_OK : X509_V_ERR_CERT_REJECTED);
    return self->refusal_.empty() ? 1 : 0;
}

}  // namespace mcpmtls::tls
