#pragma once
// Who wants to know about a server's handshakes: the server layer's connection governor (when a
// connection's handshake begins and ends, to bound unfinished ones and track verified
// connections, and why one failed, to report it) and its metrics (every verdict). Callbacks run
// on the connection's worker thread, inside OpenSSL: quick, and never throwing.
#include <nlohmann/json.hpp>
#include <string>

typedef struct ssl_st SSL;

namespace mcpmtls::tls {

// Why a handshake failed, as the TLS context saw it.
struct HandshakeFailure {
    std::string code;    // from a fixed set, for metrics: "no_certificate", "tls_alert_sent", a verifier check
    std::string reason;  // one line for the operator, e.g. "issuer not found", "sent TLS alert: unknown CA"
    nlohmann::json fields = nlohmann::json::object();  // what is known of the peer: address, subject, ...
    bool judged = false;  // the verifier's verdict: already counted by the VerdictObserver
};

class HandshakeObserver {
public:
    virtual ~HandshakeObserver() = default;
    // A connection's first handshake starts, before any of its bytes is read.
    virtual void handshake_started(SSL* ssl) noexcept = 0;
    // Its handshake completed: the client was verified (or resumed a verified session).
    virtual void handshake_finished(SSL* ssl) noexcept = 0;
    // A fatal TLS alert, sent by us or received from the client. Returns true when it belongs to
    // a connection whose handshake had completed (it is part of why that connection ends, for
    // the observer to report), false when it is a handshake failure (handshake_failed follows).
    virtual bool alert(SSL* ssl, bool sent, int description) noexcept = 0;
    // The handshake of a connection the observer follows failed (the first reason is the one
    // that counts). Returns true when the observer reports it (in the log and, unless judged,
    // to the metrics); false leaves that to the TLS context.
    virtual bool handshake_failed(SSL* ssl, const HandshakeFailure& failure) noexcept = 0;
};

class VerdictObserver {
public:
    virtual ~VerdictObserver() = default;
    // One per handshake verdict: a client judged (accepted or refused), or a handshake that
    // failed before any certificate was judged. `reason` comes from a fixed set (the verdict's
    // reason_code, a HandshakeFailure's code); resumed sessions are not judged.
    virtual void handshake_judged(bool accepted, const std::string& reason) noexcept = 0;
};

}  // namespace mcpmtls::tls
