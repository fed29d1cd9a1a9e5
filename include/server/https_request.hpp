#pragma once
// One HTTPS request from a server to a service it depends on (the online CA for --renew-from, an
// OAuth authorization server): cpp-httplib's client over one connection with 10-second timeouts,
// the service judged by the project's verifier against `trust` (strict, purpose serverAuth, host
// name checked), never OpenSSL's own verification, never plain HTTP. It may present our
// certificate (mutual TLS to the CA; RFC 8705 tls_client_auth to an authorization server).
#include "pki/verify/verifier.hpp"
#include "server/crl_fetcher.hpp"
#include "tls/credentials.hpp"

#include <memory>
#include <stdexcept>
#include <string>

namespace mcpmtls::server {

struct HttpsAnswer {
    int status = 0;
    std::string body;
};

// No answer: the service's certificate was refused (refusal() says why: the verifier's words),
// or the connection failed or timed out.
class HttpsFailure : public std::runtime_error {
public:
    HttpsFailure(const std::string& message, std::string refusal = "") : std::runtime_error(message), refusal_(std::move(refusal)) {}
    const std::string& refusal() const { return refusal_; }

private:
    std::string refusal_;
};

struct HttpsCall {
    std::string method = "GET";  // or "POST"
    std::string path;            // with any query
    std::string body;            // POST only
    std::string content_type;    // POST only
    std::string accept;          // empty: none sent
    size_t max_answer_bytes = 1024 * 1024;
};

// Throws HttpsFailure; an answer larger than max_answer_bytes is one too ("larger than N bytes").
// `ours` null: no client certificate.
HttpsAnswer https_request(const HttpsUrl& url, std::shared_ptr<const pki::TrustStore> trust, const tls::KeyPair* ours,
                          const HttpsCall& call);

}  // namespace mcpmtls::server
