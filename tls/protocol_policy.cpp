#include "tls/protocol_policy.hpp"

#include "common/error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace mcpmtls::tls {

void apply_protocol_policy(SSL_CTX* ctx) {
    auto require = [](bool ok, const char* what) {
        if (!ok) {
            ERR_clear_error();
            throw Error(kExitFailed, std::string("OpenSSL refused the TLS policy: ") + what);
        }
    };
    require(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1, "minimum version TLS 1.2");
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    require(SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                         "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                         "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") == 1,
            "TLS 1.2 cipher suites");
    require(SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1, "key exchange groups");
}

}  // namespace mcpmtls::tls
