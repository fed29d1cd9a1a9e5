#pragma once
// The client side of mutual TLS: we always present our certificate, and judge the server with
// the project's Botan verifier (strict), or accept a self-signed / expired / misnamed server
// with a loud WARNING (relaxed), or trust exactly one pinned certificate.
#include "pki/verify/verifier.hpp"
#include "tls/credentials.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::tls {

// diagnose: judge the server as strict mode would, but finish the handshake whatever the
// verdict (the check command reports the verdict and also learns whether the server accepts us).
enum class ServerCheckMode { strict, relaxed, diagnose };

struct ClientTlsSettings {
    std::string ca_path;    // trust bundle (strict mode needs it; relaxed uses it when present)
    std::string cert_path;  // our client certificate (always presented)
    std::string key_path;   // a file, or pkcs11:... (a key in a token, found with `pkcs11`)
    Pkcs11Options pkcs11;
    std::string crl_path;   // optional
    ServerCheckMode mode = ServerCheckMode::strict;
    std::string pin_sha256;  // lower-case hex without colons; empty: no pin
    // Only for `client enroll`, which has no certificate yet (the token in the body is its
    // credential): connect without presenting one. Everything else presents one.
    bool present_certificate = true;
};

// "sha256:AB:CD..." / "abcd..." (64 hex digits, any case, colons optional) -> lower-case hex.
// Throws InputError.
std::string parse_pin(const std::string& text);

// What the client concluded about one server's certificate during a handshake.
struct ServerVerdict {
    bool checked = false;       // the verify callback ran
    bool accepted = false;
    bool fully_verified = false;
    bool pinned = false;
    std::string reason;         // first failed check, or "OK"
    std::vector<std::string> skipped_checks;
    std::vector<std::string> failure_messages;
    std::vector<pki::Certificate> chain;  // as presented, leaf first
};

class ClientTlsContext {
public:
    explicit ClientTlsContext(ClientTlsSettings settings);  // throws InputError
    ~ClientTlsContext();

    // A new SSL for one connection to `host`: SNI set (for DNS names), the verdict slot attached.
    SslPtr new_ssl(const std::string& host, ServerVerdict* verdict_slot) const;
    const ClientTlsSettings& settings() const { return settings_; }
    // The trust store in use (null in relaxed mode without a readable bundle).
    std::shared_ptr<const pki::TrustStore> trust() const { return trust_; }

private:
    static int verify_server(X509_STORE_CTX* store_ctx, void* arg);
    ClientTlsSettings settings_;
    SslCtxPtr ctx_;
    std::shared_ptr<const pki::TrustStore> trust_;
};

}  // namespace mcpmtls::tls
