#pragma once
// The server as an OAuth 2.1 resource server (MCP authorization; docs/oauth.md), beside mutual
// TLS: the certificate says which workload connects, the access token which user it acts for and
// with what scope. With --oauth-issuer every request to the MCP endpoint needs a bearer token:
//
//   - JWT access tokens (RFC 9068) signed with ES256, RS256 or EdDSA by a key of the issuer's
//     JWKS, its metadata discovered (RFC 8414, then OpenID discovery); iss, aud (the audience or
//     the resource URL, RFC 8707), exp and nbf checked with kClockLeeway. The JWKS is cached for
//     jwks_max_age and fetched again for an unknown kid, at most once per jwks_min_refresh, so a
//     flood of made-up kids costs the authorization server one request per interval.
//   - opaque tokens through introspection (RFC 7662), when an introspection URL is set.
//   - tokens bound to a certificate (RFC 8705, cnf.x5t#S256) only on a connection whose client
//     certificate has that thumbprint; with require_bound_tokens, unbound tokens are refused.
//
// The authorization server is reached through a transport that the server layer provides (its
// HTTPS client, the AS's certificate judged by the project's verifier). Tokens are never logged.
#include "tls/peer_identity.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

// Clocks of the authorization server and of this host differ a little.
constexpr std::chrono::seconds kClockLeeway{30};

struct OAuthSettings {
    std::string issuer;             // --oauth-issuer; empty: no OAuth
    std::string audience;           // --oauth-audience; empty: the resource URL the request came to
    std::string introspection_url;  // --oauth-introspection-url; empty: JWTs only
    std::string client_id;          // --oauth-client-id: ours at the AS, sent to introspection
    bool require_bound_tokens = false;
    std::string resource_path = "/mcp";  // the MCP endpoint's path, for the resource URL
    std::chrono::seconds jwks_max_age{3600};
    std::chrono::seconds jwks_min_refresh{10};
    bool enabled() const { return !issuer.empty(); }
};

struct OAuthHttpAnswer {
    int status = 0;
    std::string body;
};
// How the resource server reaches the authorization server. Each call throws std::runtime_error
// (a clear reason) when no HTTP answer came.
struct OAuthTransport {
    std::function<OAuthHttpAnswer(const std::string& url)> get;
    std::function<OAuthHttpAnswer(const std::string& url, const std::string& form)> post_form;
};

// What a token check found: a grant, or a refusal (401 invalid_token, or 503 when the
// authorization server's keys cannot be had).
struct TokenCheck {
    bool ok = false;
    int status = 401;
    std::string reason;  // why refused, for the log and error_description (never the token)
    std::string subject;
    std::string client_id;
    std::vector<std::string> scopes;
    bool bound = false;
    static TokenCheck refused(int status, std::string reason);
};

class ResourceServer {
public:
    ResourceServer(OAuthSettings settings, OAuthTransport transport);
    ~ResourceServer();
    ResourceServer(const ResourceServer&) = delete;
    ResourceServer& operator=(const ResourceServer&) = delete;

    const OAuthSettings& settings() const { return settings_; }
    // Discovers the issuer's metadata and fetches its keys now (at start); false, logged, when the
    // authorization server does not answer (then the first token tries again).
    bool prefetch();
    // `resource`: https://HOST[:PORT]/mcp as this request reached us; `thumbprint`: the
    // connection's client certificate as x5t#S256 (empty: none).
    TokenCheck check(const std::string& token, const std::string& resource, const std::string& thumbprint);
    // The Protected Resource Metadata document (RFC 9728) for `resource`.
    nlohmann::json metadata_document(const std::string& resource, const std::vector<std::string>& scopes,
                                     const std::string& resource_name) const;

    struct Keys;

private:
    struct Discovery;
    std::shared_ptr<const Keys> keys_for(const std::string& kid, std::string& unavailable);
    bool refresh_keys(std::string& failure);
    bool discover(std::string& failure);
    TokenCheck check_claims(const nlohmann::json& claims, const std::string& resource, const std::string& thumbprint,
                            bool introspected) const;
    TokenCheck introspect(const std::string& token, const std::string& resource, const std::string& thumbprint);

    const OAuthSettings settings_;
    const OAuthTransport transport_;
    std::mutex fetch_mutex_;  // one fetch from the authorization server at a time
    mutable std::mutex mutex_;  // the fields below
    std::string jwks_uri_;
    std::shared_ptr<const Keys> keys_;
    std::chrono::steady_clock::time_point last_kid_refresh_{};
    std::chrono::steady_clock::time_point last_failed_fetch_{};
    std::string last_failure_;
};

// base64url of a lower-case hex SHA-256 fingerprint (PeerIdentity::fingerprint_sha256): the
// certificate's x5t#S256.
std::string thumbprint_of_fingerprint(const std::string& hex);

}  // namespace mcpmtls::mcp
