#pragma once
// The one TLS protocol policy, for the servers and the client alike: TLS 1.2 at least (1.3
// preferred), ECDHE key exchange with AEAD ciphers only (TLS 1.3's suites all are), groups
// X25519, P-256 and P-384, no compression, no renegotiation.
typedef struct ssl_ctx_st SSL_CTX;

namespace mcpmtls::tls {

// Throws Error when OpenSSL refuses a setting: a policy silently not applied is worse than a
// program that does not start.
void apply_protocol_policy(SSL_CTX* ctx);

}  // namespace mcpmtls::tls
