#pragma once
// Private to tls/: stateless TLS session tickets that carry the verified client identity, so a
// resumed session needs no new verification, yet never outlive a change of trust. Keys are
// fresh for every trust generation (a new bundle or CRL): a ticket issued before the change
// cannot be decrypted, so a revoked client that resumes gets a full handshake and is judged.
#include <atomic>
#include <cstdint>
#include <memory>

typedef struct ssl_ctx_st SSL_CTX;

namespace mcpmtls::tls {

class SessionTickets {
public:
    explicit SessionTickets(uint64_t trust_generation);
    // Installs the ticket callbacks on `ctx`; this object must outlive every use of ctx.
    void install(SSL_CTX& ctx);
    // New keys for a new trust generation.
    void rotate(uint64_t trust_generation);

    struct Keys;

private:
    std::shared_ptr<const Keys> keys() const { return std::atomic_load(&keys_); }
    friend struct TicketCallbacks;
    std::shared_ptr<const Keys> keys_;
};

}  // namespace mcpmtls::tls
