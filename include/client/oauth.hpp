#pragma once
// The client as an MCP OAuth client (MCP authorization, 2025-11-25 and 2026-07-28). Mutual TLS
// says which workload connects; a token says which user it acts for. A server that wants a token
// answers 401 with WWW-Authenticate; from there the client finds the server's Protected Resource
// Metadata (RFC 9728), its authorization server's metadata (RFC 8414, OpenID discovery), registers
// (pre-registered, a Client ID Metadata Document, or RFC 7591 dynamic registration), and runs the
// authorization code flow with PKCE S256 through a loopback redirect (RFC 8252), naming the
// resource (RFC 8707) and checking the response's `iss` (RFC 9207). Tokens are kept per resource
// and issuer in a 0600 file, refreshed when they expire, and stepped up on insufficient_scope.
//
// It plugs into every HttpConnection as its HttpAuthorizer, so both session engines (the
// coordinator's and the bridge's) get tokens without knowing about OAuth. Token endpoints reached
// over https present the client's certificate: with tls_client_auth the certificate is the client
// credential, and an authorization server that binds tokens to it (RFC 8705) makes a stolen token
// useless without the key.
#include "client/http_connection.hpp"
#include "client/stream_position.hpp"
#include "common/options.hpp"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mcpmtls::client::oauth {

using json = nlohmann::json;

// Authorization failed for good: the message names the server and the reason. A connection
// failure of kind protocol, so that every session engine reports it as it reports a server it
// cannot use (exit 1; the bridge's JSON-RPC error "SERVER: reason").
class AuthorizationError : public ConnectionError {
public:
    explicit AuthorizationError(const std::string& message) : ConnectionError(FailureKind::protocol, message) {}
};

struct Settings {
    std::string client_id;            // --oauth-client-id: pre-registered
    std::string client_secret;        // read from --oauth-client-secret-file
    std::string client_metadata_url;  // --oauth-client-metadata-url: a Client ID Metadata Document
    // auto, client_secret_basic, client_secret_post, none, tls_client_auth, self_signed_tls_client_auth
    std::string token_auth = "auto";
    bool no_browser = false;   // print the authorization URL instead of running xdg-open
    bool auto_follow = false;  // fetch the authorization URL ourselves (test servers that redirect at once)
    int redirect_port = 0;     // the loopback redirect's port (0: any free one)
    int max_authorizations = 3;  // flows per request (first authorization and step-ups) before giving up
    std::chrono::seconds wait_for_user{300};
    std::string state_file;    // tokens.json
    std::string client_name = "mcp-mtls client";
};

// The rows of the client's OAuth options (declared here, next to the code that reads them).
std::vector<Option> option_rows();
// Settings from parsed options. Throws InputError (an unreadable secret file, a bad value).
Settings settings_of(const Args& args);
// $XDG_STATE_HOME/mcp-mtls/tokens.json ($HOME/.local/state/... without XDG_STATE_HOME).
std::string default_state_file();

// ------------------------------------------------------------------------------------------
// Pieces with no network (unit-tested on their own)

// A WWW-Authenticate header's Bearer challenge (RFC 6750 section 3, RFC 9728 section 5.1).
struct Challenge {
    bool bearer = false;
    std::string resource_metadata;
    std::string scope;
    std::string error;
};
Challenge parse_challenge(const std::string& header);

std::string random_token(size_t bytes);  // base64url of that many random bytes
struct Pkce {
    std::string verifier;   // 43 characters of base64url (32 random bytes)
    std::string challenge;  // base64url(SHA-256(verifier)), RFC 7636 S256
};
Pkce make_pkce();
std::string pkce_challenge(const std::string& verifier);
std::string form(const std::vector<std::pair<std::string, std::string>>& fields);  // x-www-form-urlencoded
std::map<std::string, std::vector<std::string>> parse_query(const std::string& query);

// scheme://host[:port] of a URL, as origins are compared.
std::string origin_of(const Url& url);
// Where a server's Protected Resource Metadata may be, in the order RFC 9728 and MCP give: the
// path-based well-known URL, then the root one.
std::vector<std::string> resource_metadata_urls(const Url& server);
// Where an issuer's metadata may be, in MCP's order: RFC 8414 (path inserted after the
// well-known prefix), OpenID discovery with the path inserted, OpenID discovery appended to it.
std::vector<std::string> authorization_server_metadata_urls(const std::string& issuer);
// A resource named by Protected Resource Metadata must be this server: same origin, and its path
// a prefix of the server's.
bool resource_matches(const std::string& resource, const Url& server);
// The scopes to ask for: the challenge's, else the resource's scopes_supported, else none; with
// those asked for before (step-up keeps them), and offline_access when the authorization server
// lists it (so that a refresh token comes back).
std::vector<std::string> choose_scopes(const Challenge& challenge, const json& resource_metadata, const json& server_metadata,
                                       const std::vector<std::string>& before);
// How to authenticate at the token endpoint: `wanted` (or auto), given what the server supports
// and whether there is a secret and a client certificate.
std::string choose_token_auth(const std::string& wanted, const json& server_metadata, bool have_secret, bool have_certificate);

// ------------------------------------------------------------------------------------------
// The token file: registrations per issuer, tokens per resource and issuer. Never logged.

struct TokenEntry {
    std::string server;    // the MCP URL the token was got for
    std::string resource;  // RFC 8707 resource, as the metadata named it
    std::string issuer;
    std::string access_token;
    std::string token_type = "Bearer";
    std::string refresh_token;
    std::string scope;                  // granted (or asked for, when the answer names none)
    std::vector<std::string> requested; // what was asked for (step-up adds to it)
    long long expires_at = 0;           // unix seconds; 0: unknown
    std::string token_endpoint;         // where to refresh it
};
struct Registration {
    std::string client_id;
    std::string client_secret;
    std::string auth_method;
};

class TokenStore {
public:
    explicit TokenStore(std::string path);
    const std::string& path() const { return path_; }
    // Read under the file's lock; write atomically (0600), merging with what other processes
    // wrote meanwhile for other keys.
    std::optional<TokenEntry> find(const std::string& server) const;
    void put(const TokenEntry& entry);
    void forget(const std::string& server);
    std::optional<Registration> registration(const std::string& issuer) const;
    void put_registration(const std::string& issuer, const Registration& registration);
    json load() const;  // the whole file ({} when missing)
    void clear();

private:
    void save(const json& document);
    std::string path_;
};

// ------------------------------------------------------------------------------------------

class Authorizer : public HttpAuthorizer {
public:
    // `tls`: how https authorization servers are reached (the client's own settings: its trust
    // bundle, and its certificate, which tls_client_auth and bound tokens rely on).
    Authorizer(Settings settings, tls::ClientTlsSettings tls, Timeouts timeouts);
    std::string authorization(const Url& url) override;
    bool retry(const Url& url, const HttpResponse& response, const std::string& sent, int attempt) override;

    // The whole flow for `server` (what a 401 with `challenge` starts); public for tests.
    TokenEntry authorize(const Url& server, const Challenge& challenge, const std::vector<std::string>& before);

private:
    HttpResponse fetch(const std::string& url, const std::string& method = "GET", const HeaderList& headers = {},
                       const std::string& body = "");
    json fetch_json(const std::string& url);
    // --oauth-auto-follow: redirects from `start` (cookies kept) until one reaches `redirect_uri`.
    void follow_to(const std::string& start, const std::string& redirect_uri);
    std::optional<TokenEntry> refresh(const TokenEntry& entry);
    Registration register_client(const std::string& issuer, const json& server_metadata, const std::string& redirect_uri);
    json token_request(const json& server_metadata, const Registration& client, const std::string& endpoint,
                       std::vector<std::pair<std::string, std::string>> fields);
    // A token endpoint's answer kept (file and cache) as the token of `server_url`.
    TokenEntry keep_token(const std::string& server_url, const std::string& resource, const std::string& issuer,
                          const std::vector<std::string>& scopes, const std::string& endpoint, const json& token);
    std::string token_endpoint_for(const json& server_metadata, const std::string& auth_method) const;
    // The token of `server` as this process last saw it (the file read once, or again on `reread`).
    std::optional<TokenEntry> cached(const std::string& server, bool reread);
    void remember(const std::string& server, std::optional<TokenEntry> entry);  // cache and file

    Settings settings_;
    std::shared_ptr<const tls::ClientTlsContext> tls_context();
    tls::ClientTlsSettings tls_settings_;
    std::shared_ptr<const tls::ClientTlsContext> tls_;  // made on first use
    Timeouts timeouts_;
    bool have_certificate_;
    TokenStore store_;
    std::mutex mutex_;  // one flow at a time; the others wait for its token
    std::map<std::string, std::optional<TokenEntry>> cache_;  // by server URL: no file read per request
};

// Installs an Authorizer for every connection the process makes from now on.
void install(Settings settings, const tls::ClientTlsSettings& tls, Timeouts timeouts);

}  // namespace mcpmtls::client::oauth
