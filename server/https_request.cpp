#include "server/https_request.hpp"

#include "tls/protocol_policy.hpp"
#include "tls/server_verifier.hpp"

#include <httplib.h>

namespace mcpmtls::server {

namespace {
constexpr time_t kTimeoutSeconds = 10;
}  // namespace

HttpsAnswer https_request(const HttpsUrl& url, std::shared_ptr<const pki::TrustStore> trust, const tls::KeyPair* ours,
                          const HttpsCall& call) {
    tls::ServerVerifier verifier(std::move(trust), url.host);
    httplib::SSLClient client(url.host, url.port);
    client.enable_server_certificate_verification(false);  // ours, installed below, decides instead
    SSL_CTX* ctx = client.ssl_context();
    if (!ctx) throw HttpsFailure("cannot create a TLS context");
    tls::apply_protocol_policy(ctx);
    verifier.install(*ctx);
    if (ours && (SSL_CTX_use_certificate(ctx, ours->leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, ours->key.get()) != 1 ||
                 SSL_CTX_set1_chain(ctx, ours->chain.get()) != 1))
        throw HttpsFailure("cannot present our certificate");
    client.set_connection_timeout(kTimeoutSeconds);
    client.set_read_timeout(kTimeoutSeconds);
    client.set_write_timeout(kTimeoutSeconds);
    httplib::Headers headers;
    if (!call.accept.empty()) headers.emplace("Accept", call.accept);
    auto response = call.method == "POST" ? client.Post(call.path.c_str(), headers, call.body, call.content_type.c_str())
                                          : client.Get(call.path.c_str(), headers);
    if (!response) {
        if (!verifier.refusal().empty()) throw HttpsFailure("its certificate was refused: " + verifier.refusal(), verifier.refusal());
        throw HttpsFailure("no answer from " + url.host + ":" + std::to_string(url.port) + ": " + httplib::to_string(response.error()));
    }
    if (response->body.size() > call.max_answer_bytes)
        throw HttpsFailure("its answer is larger than " + std::to_string(call.max_answer_bytes) + " bytes");
    return {response->status, response->body};
}

}  // namespace mcpmtls::server
