#include "mcp/oauth.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"
#include "pki/jose.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace mcpmtls::mcp {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The keys of one JWKS fetch, by kid (keys without a kid under "").
struct ResourceServer::Keys {
    std::multimap<std::string, pki::JwsPublicKey> by_kid;
    Clock::time_point fetched_at;
    bool fresh(std::chrono::seconds max_age) const { return Clock::now() < fetched_at + max_age; }
};

namespace {

constexpr size_t kMaxTokenBytes = 16384;
constexpr size_t kMaxDocumentBytes = 1024 * 1024;

bool http_ok(const OAuthHttpAnswer& answer) { return answer.status == 200 && answer.body.size() <= kMaxDocumentBytes; }

// error_description must not break out of its quoted string (RFC 6750 section 3).
std::string header_safe(const std::string& text) {
    std::string out;
    for (char c : text) out.push_back(c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ? '\'' : c);
    return out;
}

long epoch_now() {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string format_epoch(long seconds) { return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(seconds))); }

// RFC 8414 section 3.1: the well-known part goes between the host and the issuer's path.
std::string rfc8414_url(const std::string& issuer) {
    const auto scheme = issuer.find("://");
    const auto slash = scheme == std::string::npos ? std::string::npos : issuer.find('/', scheme + 3);
    if (slash == std::string::npos) return issuer + "/.well-known/oauth-authorization-server";
    std::string path = issuer.substr(slash);
    if (path == "/") path.clear();
    return issuer.substr(0, slash) + "/.well-known/oauth-authorization-server" + path;
}

std::string openid_url(std::string issuer) {
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    return issuer + "/.well-known/openid-configuration";
}

}  // namespace

TokenCheck TokenCheck::refused(int status, std::string reason) {
    TokenCheck check;
    check.status = status;
    check.reason = header_safe(reason);
    return check;
}

std::string owner_key(const tls::PeerIdentity& client) {
    return client.token_subject.empty() ? client.fingerprint_sha256 : client.fingerprint_sha256 + " sub=" + client.token_subject;
}

std::string thumbprint_of_fingerprint(const std::string& hex) {
    if (hex.size() != 64) return "";
    uint8_t bytes[32];
    for (size_t i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    return pki::base64url_encode(bytes, sizeof bytes);
}

ResourceServer::ResourceServer(OAuthSettings settings, OAuthTransport transport)
    : settings_(std::move(settings)), transport_(std::move(transport)) {}

ResourceServer::~ResourceServer() = default;

std::string ResourceServer::jwks_uri() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return jwks_uri_;
}

bool ResourceServer::discover(std::string& failure) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!jwks_uri_.empty()) return true;
    }
    // RFC 8414 first, then OpenID discovery (many authorization servers publish only that one).
    std::vector<std::string> tried;
    for (const std::string& url : {rfc8414_url(settings_.issuer), openid_url(settings_.issuer)}) {
        OAuthHttpAnswer answer;
        try {
            answer = transport_.get(url);
        } catch (const std::exception& e) {
            tried.push_back(url + ": " + e.what());
            continue;
        }
        if (!http_ok(answer)) {
            tried.push_back(url + ": HTTP " + std::to_string(answer.status));
            continue;
        }
        const json metadata = json::parse(answer.body, nullptr, false);
        if (!metadata.is_object() || !metadata.contains("jwks_uri") || !metadata["jwks_uri"].is_string()) {
            tried.push_back(url + ": no metadata with a jwks_uri");
            continue;
        }
        // RFC 8414 section 3.3: metadata naming another issuer is not this issuer's.
        if (metadata.value("issuer", "") != settings_.issuer) {
            tried.push_back(url + ": its issuer is '" + metadata.value("issuer", "") + "', not '" + settings_.issuer + "'");
            continue;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        jwks_uri_ = metadata["jwks_uri"].get<std::string>();
        log_event(spdlog::level::info, "oauth_metadata", {{"issuer", settings_.issuer}, {"from", url}, {"jwks_uri", jwks_uri_}});
        return true;
    }
    failure = "the authorization server's metadata could not be had (" + join(tried, "; ") + ")";
    return false;
}

bool ResourceServer::refresh_keys(std::string& failure) {
    if (!discover(failure)) return false;
    std::string uri;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        uri = jwks_uri_;
    }
    OAuthHttpAnswer answer;
    try {
        answer = transport_.get(uri);
    } catch (const std::exception& e) {
        failure = "the authorization server's keys could not be fetched from " + uri + ": " + e.what();
        return false;
    }
    if (!http_ok(answer)) {
        failure = "the authorization server's keys could not be fetched from " + uri + ": HTTP " + std::to_string(answer.status);
        return false;
    }
    const json jwks = json::parse(answer.body, nullptr, false);
    if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
        failure = uri + " is not a JWK set";
        return false;
    }
    auto keys = std::make_shared<Keys>();
    std::vector<std::string> kids, skipped;
    for (const auto& jwk : jwks["keys"]) {
        try {
            auto key = pki::JwsPublicKey::from_jwk(jwk);
            kids.push_back(key.key_id());
            keys->by_kid.emplace(key.key_id(), std::move(key));
        } catch (const std::invalid_argument& e) {
            // Keys for encryption or of other types are no concern of a resource server.
            skipped.push_back(jwk.is_object() ? jwk.value("kid", "?") + " (" + e.what() + ")" : "?");
        }
    }
    keys->fetched_at = Clock::now();
    log_event(spdlog::level::info, "oauth_keys_fetched", {{"jwks_uri", uri}, {"kids", kids}, {"skipped", skipped}});
    std::lock_guard<std::mutex> lock(mutex_);
    keys_ = std::move(keys);
    return true;
}

bool ResourceServer::prefetch() {
    std::lock_guard<std::mutex> fetching(fetch_mutex_);
    std::string failure;
    if (refresh_keys(failure)) return true;
    log_event(spdlog::level::warn, "oauth_keys_unavailable", {{"issuer", settings_.issuer}, {"reason", failure}});
    std::lock_guard<std::mutex> lock(mutex_);
    last_failed_fetch_ = Clock::now();
    last_failure_ = failure;
    return false;
}

// The key set to verify a token signed with `kid`: the cached one when it is fresh and knows the
// kid; else fetched again (an expired cache, or an unknown kid at most once per
// jwks_min_refresh). Null with `unavailable` set when no usable keys can be had.
std::shared_ptr<const ResourceServer::Keys> ResourceServer::keys_for(const std::string& kid, std::string& unavailable) {
    auto usable = [&](const std::shared_ptr<const Keys>& keys) {
        // A token without a kid is tried with every key (a JWKS of one key often names none).
        return keys && keys->fresh(settings_.jwks_max_age) && (kid.empty() ? !keys->by_kid.empty() : keys->by_kid.count(kid) != 0);
    };
    std::shared_ptr<const Keys> keys;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        keys = keys_;
    }
    if (usable(keys)) return keys;
    std::lock_guard<std::mutex> fetching(fetch_mutex_);
    const auto now = Clock::now();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        keys = keys_;  // another thread may have fetched meanwhile
        if (usable(keys)) return keys;
        const bool fresh = keys && keys->fresh(settings_.jwks_max_age);
        // A fresh set that lacks the kid is fetched again only once per interval; a failed fetch
        // is not repeated within it either (every request would otherwise wait on a dead server).
        const bool kid_refresh_due = now - last_kid_refresh_ >= settings_.jwks_min_refresh;
        const bool failure_recent = !last_failure_.empty() && now - last_failed_fetch_ < settings_.jwks_min_refresh;
        if (fresh && !kid_refresh_due) return keys;
        if (failure_recent) {
            unavailable = last_failure_;
            return fresh ? keys : nullptr;
        }
        if (fresh) last_kid_refresh_ = now;
    }
    std::string failure;
    if (refresh_keys(failure)) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_failure_.clear();
        return keys_;
    }
    log_event(spdlog::level::warn, "oauth_keys_unavailable", {{"issuer", settings_.issuer}, {"reason", failure}});
    std::lock_guard<std::mutex> lock(mutex_);
    last_failed_fetch_ = now;
    last_failure_ = failure;
    unavailable = failure;
    // Keys still within their age keep working while the authorization server is away.
    return keys && keys->fresh(settings_.jwks_max_age) ? keys : nullptr;
}

TokenCheck ResourceServer::check(const std::string& token, const std::string& resource, const std::string& thumbprint) {
    pki::CompactJws jws;
    try {
        jws = pki::parse_compact_jws(token, kMaxTokenBytes);
    } catch (const std::invalid_argument& e) {
        if (!settings_.introspection_url.empty() && token.size() <= kMaxTokenBytes) return introspect(token, resource, thumbprint);
        return TokenCheck::refused(401, std::string("the access token is not a JWT (") + e.what() + ")");
    }
    // RFC 9068 section 4: an ID token or any other JWT is no access token.
    const std::string typ = to_lower(jws.header.value("typ", ""));
    if (typ != "at+jwt" && typ != "application/at+jwt")
        return TokenCheck::refused(401, "the token's typ is '" + jws.header.value("typ", "") + "', not at+jwt (RFC 9068)");
    const std::string alg = jws.algorithm();
    if (alg != "ES256" && alg != "RS256" && alg != "EdDSA")
        return TokenCheck::refused(401, "the token's alg '" + alg + "' is not accepted (ES256, RS256, EdDSA)");
    const std::string kid = jws.key_id();
    std::string unavailable;
    const auto keys = keys_for(kid, unavailable);
    if (!keys) return TokenCheck::refused(503, "no keys of the authorization server to check tokens with: " + unavailable);
    auto [first, last] = keys->by_kid.equal_range(kid);
    if (kid.empty()) first = keys->by_kid.begin(), last = keys->by_kid.end();
    if (first == last) {
        if (!unavailable.empty())
            return TokenCheck::refused(503, "the token's key '" + kid + "' is not among the cached keys, and " + unavailable);
        return TokenCheck::refused(401, "the token is signed with key '" + kid + "', which the authorization server does not publish");
    }
    bool verified = false;
    for (auto it = first; it != last && !verified; ++it) verified = it->second.verify(jws);
    if (!verified) return TokenCheck::refused(401, "the token's signature does not verify with key '" + kid + "'");
    return check_claims(jws.claims, resource, thumbprint, false);
}

TokenCheck ResourceServer::check_claims(const json& claims, const std::string& resource, const std::string& thumbprint,
                                        bool introspected) const {
    const auto text = [&](const char* key) { return claims.contains(key) && claims[key].is_string() ? claims[key].get<std::string>() : ""; };
    const auto number = [&](const char* key, long& out) {
        if (!claims.contains(key)) return false;
        if (!claims[key].is_number()) throw std::invalid_argument(std::string(key) + " is not a number");
        out = claims[key].get<long>();
        return true;
    };
    // Introspection answers may leave out what the server knows anyway (RFC 7662 section 2.2).
    if (!(introspected && !claims.contains("iss")) && text("iss") != settings_.issuer)
        return TokenCheck::refused(401, "the token's issuer is '" + text("iss") + "', not " + settings_.issuer);
    const std::string audience = settings_.audience.empty() ? resource : settings_.audience;
    if (!(introspected && !claims.contains("aud"))) {
        std::vector<std::string> audiences;
        if (claims.contains("aud") && claims["aud"].is_string()) audiences.push_back(claims["aud"]);
        if (claims.contains("aud") && claims["aud"].is_array())
            for (const auto& a : claims["aud"])
                if (a.is_string()) audiences.push_back(a);
        if (std::find(audiences.begin(), audiences.end(), audience) == audiences.end())
            return TokenCheck::refused(401, "the token is for audience '" + join(audiences, " ") + "', not " + audience);
    }
    const long now = epoch_now();
    const long leeway = static_cast<long>(kClockLeeway.count());
    try {
        long exp = 0, nbf = 0;
        if (!number("exp", exp)) return TokenCheck::refused(401, "the token has no expiry (exp)");
        if (now > exp + leeway) return TokenCheck::refused(401, "the token expired at " + format_epoch(exp));
        if (number("nbf", nbf) && now + leeway < nbf) return TokenCheck::refused(401, "the token is not valid before " + format_epoch(nbf));
    } catch (const std::invalid_argument& e) {
        return TokenCheck::refused(401, std::string("the token's ") + e.what());
    }
    TokenCheck check;
    const auto cnf = claims.find("cnf");
    if (cnf != claims.end() && cnf->is_object() && cnf->contains("x5t#S256")) {
        const auto& bound_to = (*cnf)["x5t#S256"];
        if (!bound_to.is_string() || bound_to.get<std::string>() != thumbprint)
            return TokenCheck::refused(401, "the token is bound to another client certificate (cnf.x5t#S256, RFC 8705)");
        check.bound = true;
    } else if (cnf != claims.end() && !cnf->is_object()) {
        return TokenCheck::refused(401, "the token's cnf claim is not an object");
    } else if (cnf != claims.end() && !cnf->empty()) {
        // A confirmation this server cannot check (DPoP's jkt, say) is no confirmation at all.
        return TokenCheck::refused(401, "the token is bound by a method other than a certificate (cnf without x5t#S256)");
    } else if (settings_.require_bound_tokens) {
        return TokenCheck::refused(401, "the token is not bound to a client certificate, and this server requires bound tokens (RFC 8705)");
    }
    check.ok = true;
    check.status = 200;
    check.subject = text("sub");
    check.client_id = text("client_id");
    for (const auto& scope : split(text("scope"), ' '))
        if (!scope.empty()) check.scopes.push_back(scope);
    // Some authorization servers (Microsoft Entra, Okta) name scopes in "scp", a list or a string.
    if (check.scopes.empty() && claims.contains("scp")) {
        const json& scp = claims["scp"];
        if (scp.is_string())
            for (const auto& scope : split(scp.get<std::string>(), ' '))
                if (!scope.empty()) check.scopes.push_back(scope);
        if (scp.is_array())
            for (const auto& scope : scp)
                if (scope.is_string()) check.scopes.push_back(scope.get<std::string>());
    }
    return check;
}

TokenCheck ResourceServer::introspect(const std::string& token, const std::string& resource, const std::string& thumbprint) {
    std::string form = "token=" + percent_encode(token) + "&token_type_hint=access_token";
    if (!settings_.client_id.empty()) form += "&client_id=" + percent_encode(settings_.client_id);
    OAuthHttpAnswer answer;
    try {
        answer = transport_.post_form(settings_.introspection_url, form);
    } catch (const std::exception& e) {
        return TokenCheck::refused(503, "the introspection endpoint " + settings_.introspection_url + " did not answer: " + e.what());
    }
    if (!http_ok(answer))
        return TokenCheck::refused(503, "the introspection endpoint " + settings_.introspection_url + " answered HTTP " +
                                            std::to_string(answer.status));
    const json claims = json::parse(answer.body, nullptr, false);
    if (!claims.is_object()) return TokenCheck::refused(503, "the introspection endpoint answered no JSON object");
    if (claims.value("active", false) != true) return TokenCheck::refused(401, "the token is not active (introspection)");
    return check_claims(claims, resource, thumbprint, true);
}

json ResourceServer::metadata_document(const std::string& resource, const std::vector<std::string>& scopes,
                                       const std::string& resource_name) const {
    json document = {{"resource", resource},
                     {"authorization_servers", {settings_.issuer}},
                     {"bearer_methods_supported", {"header"}},
                     {"tls_client_certificate_bound_access_tokens", true}};
    if (!scopes.empty()) document["scopes_supported"] = scopes;
    if (!resource_name.empty()) document["resource_name"] = resource_name;
    return document;
}

}  // namespace mcpmtls::mcp
