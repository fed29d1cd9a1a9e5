#pragma once
// Who wants to know about a server's handshakes: the server layer's connection governor (when a
// connection's handshake begins and ends, to bound unfinished ones and track verified
// connections) and its metrics (every verdict). Callbacks run on the connection's worker
// thread, inside OpenSSL: quick, and never throwing.
#include <string>

typedef struct ssl_st SSL;

namespace mcpmtls::tls {

class HandshakeObserver {
public:
    virtual ~HandshakeObserver() = default;
    // A connection's first handshake starts, before any of its bytes is read.
    virtual void handshake_started(SSL* ssl) noexcept = 0;
    // Its handshake completed: the client was verified (or resumed a verified session).
    virtual void handshake_finished(SSL* ssl) noexcept = 0;
    // A fatal TLS alert, sent by us or received from the client. Returns true when it belongs to
    // a connection whose handshake had completed (it is part of why that connection ends, for
    // the observer to report), false when it is a handshake failure (the TLS context logs it).
    virtual bool alert(SSL* ssl, bool sent, int description) noexcept = 0;
};

class VerdictObserver {
public:
    virtual ~VerdictObserver() = default;
    // One per tls_handshake verdict event: a client judged (accepted or refused), or a handshake
    // refused before any certificate was judged. `reason` comes from a fixed set (the
    // verdict's reason_code, "no_certificate", "tls_error"); resumed sessions are not judged.
    virtual void handshake_judged(bool accepted, const std::string& reason) noexcept = 0;
};

}  // namespace mcpmtls::tls
