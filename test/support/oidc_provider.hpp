#pragma once
// A real authorization server for the OAuth tests: node-oidc-provider (OpenID certified) run by
// test/support/oidc_provider.mjs on loopback HTTPS with a DemoPki server certificate, on the Node
// and package that scripts/oidc-provider-setup.sh installs from the npm registry (once). It asks
// for client certificates chaining to the DemoPki's bundle, so RFC 8705 works: tls_client_auth and
// access tokens bound to the certificate (cnf.x5t#S256). Tokens are JWTs whose audience is the
// `resource` asked for (RFC 8707).
#include "test/support/fixtures.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class OidcProviderProcess {
public:
    // The clients every test may use unless it says otherwise:
    //   "bound"  tls_client_auth as spiffe://demo/coordinator (the DemoPki's client), bound tokens;
    //   "plain"  client_secret_basic with kPlainSecret, unbound tokens;
    //   "web"    a public client (PKCE) with the authorization code and refresh tokens, any
    //            loopback redirect (http://127.0.0.1/callback, RFC 8252: every port).
    static constexpr const char* kPlainSecret = "plain-secret-0123456789abcdefghijklmnop";
    static std::vector<nlohmann::json> standard_clients();

    struct Options {
        std::vector<nlohmann::json> clients = standard_clients();  // RFC 7591 metadata
        // client_id -> {"alg": "ES256"|"RS256"|"EdDSA", "exp_offset": s, "nbf_offset": s, "iss": URL}
        nlohmann::json token_tweaks = nlohmann::json::object();
        std::string scopes = "tools:read tools:call";  // what every resource server offers
        int access_token_ttl = 600;
    };

    explicit OidcProviderProcess(const DemoPki& pki);
    OidcProviderProcess(const DemoPki& pki, Options options);
    ~OidcProviderProcess();
    OidcProviderProcess(const OidcProviderProcess&) = delete;
    OidcProviderProcess& operator=(const OidcProviderProcess&) = delete;

    const std::string& issuer() const { return issuer_; }  // https://localhost:PORT
    int port() const { return port_; }
    std::string ca() const { return pki_.path("ca.crt"); }  // what clients trust it by

    // POST to the token endpoint: curl with the client certificate (when cert is not empty) and
    // client_secret_basic (when secret is not empty); the answer as JSON ({"error": ...} too).
    nlohmann::json token_request(const std::vector<std::pair<std::string, std::string>>& form, const std::string& cert = "",
                                 const std::string& key = "", const std::string& client_id = "",
                                 const std::string& secret = "") const;
    // An access token by the client credentials grant; throws std::runtime_error if refused.
    // With a cert, the client authenticates by it (tls_client_auth) and the token is bound to it
    // when the client is registered so; without one, by its secret.
    std::string client_credentials(const std::string& client_id, const std::string& scope, const std::string& resource,
                                   const std::string& cert = "", const std::string& key = "",
                                   const std::string& secret = "") const;
    // The DemoPki's client "coordinator" as client "bound": a token bound to coordinator.crt.
    std::string bound_token(const std::string& scope, const std::string& resource) const;
    // Client "plain" by its secret: an unbound token.
    std::string plain_token(const std::string& scope, const std::string& resource) const;

    // New signing keys (new kids), used at once; the old ones stay published.
    void rotate_keys();
    void stop();     // the server stops answering (its keys are kept)
    void restart();  // the same issuer (port) and keys again
    bool running() const { return process_ != nullptr; }
    std::string log() const;

private:
    void start();
    const DemoPki& pki_;
    TempDir dir_;
    std::string node_;
    std::unique_ptr<BackgroundProcess> process_;
    std::string issuer_;
    int port_ = 0;
    int starts_ = 0;
};

// base64url(SHA-256(DER)) of a PEM certificate file: what cnf.x5t#S256 holds for it.
std::string certificate_thumbprint(const std::string& cert_path);
// The claims of a JWT (its middle part), unverified: for tests that look at what they were given.
nlohmann::json jwt_claims(const std::string& jwt);

}  // namespace mcpmtls::testing
