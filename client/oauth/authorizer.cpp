// The OAuth flow: discovery, registration, the authorization code grant with PKCE through a
// loopback redirect, refresh and step-up (see include/client/oauth.hpp).
#include "client/oauth.hpp"

#include "common/log.hpp"
#include "common/strings.hpp"
#include "pki/certificate.hpp"
#include "pki/jose.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mcpmtls::client::oauth {

namespace {

long long now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A token this close to its end is refreshed before use, not after a 401.
constexpr long long kRefreshMargin = 30;

// The loopback redirect target of RFC 8252 section 7.3: a listener on 127.0.0.1 that takes one
// authorization response and answers the browser with a line it can show.
class LoopbackRedirect {
public:
    explicit LoopbackRedirect(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw Error(kExitFailed, std::string("cannot open the loopback redirect: ") + std::strerror(errno));
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<uint16_t>(port));
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 4) != 0) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw Error(kExitFailed, "cannot listen on 127.0.0.1:" + std::to_string(port) + " for the OAuth redirect: " + why);
        }
        socklen_t length = sizeof address;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~LoopbackRedirect() { ::close(fd_); }
    std::string uri() const { return "http://127.0.0.1:" + std::to_string(port_) + "/callback"; }

    // The query of the first GET /callback within `wait` (other requests, a favicon, get 404).
    std::string await_callback(std::chrono::seconds wait) {
        const auto deadline = std::chrono::steady_clock::now() + wait;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw AuthorizationError("no authorization response reached " + uri() + " within " +
                                         std::to_string(wait.count()) + " s");
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            timeval tv{5, 0};
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            std::string request;
            char buf[4096];
            while (request.find("\r\n\r\n") == std::string::npos && request.size() < 64 * 1024) {
                const ssize_t n = ::recv(client, buf, sizeof buf, 0);
                if (n <= 0) break;
                request.append(buf, static_cast<size_t>(n));
            }
            const std::string line = request.substr(0, request.find("\r\n"));
            const auto parts = split(line, ' ');
            const bool ours = parts.size() >= 2 && parts[0] == "GET" && starts_with(parts[1], "/callback");
            const std::string page = ours ? "Authorization received: you may close this window.\n" : "Not found\n";
            const std::string answer = std::string(ours ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found") +
                                       "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
                                       std::to_string(page.size()) + "\r\n\r\n" + page;
            (void)::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
            ::close(client);
            if (!ours) continue;
            const auto question = parts[1].find('?');
            return question == std::string::npos ? "" : parts[1].substr(question + 1);
        }
    }

private:
    int fd_ = -1;
    int port_ = 0;
};

void open_browser(const std::string& url) {
    const pid_t child = fork();
    if (child == 0) {
        // The browser's chatter is not ours to show.
        const int null_fd = ::open("/dev/null", O_WRONLY);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDOUT_FILENO);
            ::dup2(null_fd, STDERR_FILENO);
        }
        execlp("xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        std::fprintf(stderr, "client: could not open a browser; open this URL to authorize:\n  %s\n", url.c_str());
}

std::string one_param(const std::map<std::string, std::vector<std::string>>& params, const std::string& name) {
    const auto it = params.find(name);
    if (it == params.end()) return "";
    if (it->second.size() != 1) throw AuthorizationError("the authorization response repeats '" + name + "'");
    return it->second.front();
}

bool has(const json& list, const std::string& value) {
    return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

Authorizer::Authorizer(Settings settings, tls::ClientTlsSettings tls, Timeouts timeouts)
    : settings_(std::move(settings)), tls_settings_(std::move(tls)), timeouts_(timeouts),
      have_certificate_(tls_settings_.present_certificate && !tls_settings_.cert_path.empty()),
      store_(settings_.state_file) {}

std::shared_ptr<const tls::ClientTlsContext> Authorizer::tls_context() {
    // Made on first use (always under mutex_): most runs never meet an https authorization
    // server, and a key in a token should not be opened twice for nothing.
    if (!tls_) tls_ = std::make_shared<const tls::ClientTlsContext>(tls_settings_);
    return tls_;
}

HttpResponse Authorizer::fetch(const std::string& url, const std::string& method, const HeaderList& headers, const std::string& body) {
    const Url target = Url::parse(url);
    HttpConnection connection(target, target.scheme == "https" ? tls_context() : nullptr, timeouts_);
    connection.set_authorizer(nullptr);  // never send a resource's token to an authorization server
    HeaderList sent = headers;
    sent.emplace_back("Accept", "application/json");
    sent.emplace_back("Connection", "close");
    return connection.request(method, sent, body);
}

void Authorizer::follow_to(const std::string& start, const std::string& redirect_uri) {
    // A browser's part, for test authorization servers that grant without a user: follow the
    // redirects (keeping cookies, which an interaction's pages use) until one leads to our
    // loopback redirect, and fetch that one.
    std::map<std::string, std::string> cookies;
    std::string url = start;
    for (int hop = 0; hop < 10; ++hop) {
        if (starts_with(url, redirect_uri)) {
            fetch(url);
            return;
        }
        HeaderList headers;
        std::string cookie;
        for (const auto& [name, value] : cookies) cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
        if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
        const HttpResponse answer = fetch(url, "GET", headers);
        for (const auto& [name, value] : answer.headers) {
            if (!iequals(name, "Set-Cookie")) continue;
            const std::string pair = value.substr(0, value.find(';'));
            const auto eq = pair.find('=');
            if (eq != std::string::npos) cookies[trim(pair.substr(0, eq))] = pair.substr(eq + 1);
        }
        const std::string location = answer.header("Location");
        if (answer.status / 100 != 3 || location.empty())
            throw AuthorizationError("following the authorization URL: " + url.substr(0, url.find('?')) + " answered " +
                                     std::to_string(answer.status) + ", not a redirect");
        if (location.find("://") != std::string::npos) url = location;
        else {
            const Url base = Url::parse(url);
            url = base.scheme + "://" + base.host_header() + (starts_with(location, "/") ? location : "/" + location);
        }
    }
    throw AuthorizationError("following the authorization URL: more than 10 redirects");
}

json Authorizer::fetch_json(const std::string& url) {
    const HttpResponse response = fetch(url);
    if (response.status != 200) return nullptr;
    json document = json::parse(response.body, nullptr, false);
    return document.is_object() ? document : json(nullptr);
}

std::optional<TokenEntry> Authorizer::cached(const std::string& server, bool reread) {
    auto it = cache_.find(server);
    if (it == cache_.end() || reread) it = cache_.insert_or_assign(server, store_.find(server)).first;
    return it->second;
}

void Authorizer::remember(const std::string& server, std::optional<TokenEntry> entry) {
    if (entry) store_.put(*entry);
    else store_.forget(server);
    cache_[server] = std::move(entry);
}

std::string Authorizer::authorization(const Url& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto entry = cached(url.to_string(), false);
    if (!entry) return "";
    if (entry->expires_at != 0 && entry->expires_at - kRefreshMargin < now_seconds()) {
        entry = refresh(*entry);
        if (!entry) return "";  // the next 401 starts a new flow
    }
    return "Bearer " + entry->access_token;
}

bool Authorizer::retry(const Url& url, const HttpResponse& response, const std::string& sent, int attempt) {
    const Challenge challenge = parse_challenge(response.header("WWW-Authenticate"));
    if (!challenge.bearer && response.status == 403) return false;  // a refusal OAuth cannot change
    if (response.status == 403 && challenge.error != "insufficient_scope") return false;
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string server = url.to_string();
    auto entry = cached(server, true);  // another process may have renewed it
    // Another thread (or process) got a new token while this request was out: try that one first.
    if (entry && "Bearer " + entry->access_token != sent) return true;
    if (attempt >= settings_.max_authorizations)
        throw AuthorizationError("authorization for " + server + " failed: the server still answers " +
                                 std::to_string(response.status) +
                                 (challenge.error.empty() ? "" : " (" + challenge.error + ")") + " after " +
                                 std::to_string(attempt) + " authorizations");
    std::vector<std::string> before;
    if (entry) {
        if (response.status == 401 && !entry->refresh_token.empty() && challenge.error != "insufficient_scope") {
            // An expired or revoked token: a refresh is silent; a new flow is the fallback.
            if (refresh(*entry)) return true;
        }
        if (response.status == 403) before = entry->requested;
        remember(server, std::nullopt);
    }
    log_event(spdlog::level::info, "oauth_authorize",
              {{"server", server}, {"status", response.status}, {"error", challenge.error}, {"scope", challenge.scope}});
    try {
        authorize(url, challenge, before);
    } catch (const AuthorizationError&) {
        throw;
    } catch (const ConnectionError& e) {
        // A metadata, registration or token endpoint out of reach: say it was the authorization.
        throw AuthorizationError("authorization for " + server + " failed: " + e.what());
    }
    return true;
}

TokenEntry Authorizer::authorize(const Url& server, const Challenge& challenge, const std::vector<std::string>& before) {
    const std::string server_url = server.to_string();
    // 1. Protected Resource Metadata (RFC 9728): the challenge's URL, else the well-known ones.
    json resource_metadata;
    std::vector<std::string> candidates;
    if (!challenge.resource_metadata.empty()) candidates.push_back(challenge.resource_metadata);
    for (const auto& url : resource_metadata_urls(server)) candidates.push_back(url);
    for (const auto& url : candidates) {
        resource_metadata = fetch_json(url);
        if (!resource_metadata.is_null()) break;
    }
    std::string resource = server_url;
    std::string issuer;
    if (!resource_metadata.is_null()) {
        resource = resource_metadata.value("resource", "");
        if (!resource_matches(resource, server))
            throw AuthorizationError("authorization for " + server_url + " refused: its protected resource metadata names " +
                                     "another resource ('" + resource + "')");
        const json servers = resource_metadata.value("authorization_servers", json::array());
        if (!servers.is_array() || servers.empty() || !servers[0].is_string())
            throw AuthorizationError("the protected resource metadata of " + server_url + " names no authorization server");
        issuer = servers[0].get<std::string>();
    } else {
        // MCP 2025-03-26: without resource metadata the server's origin is its authorization server.
        issuer = origin_of(server);
    }

    // 2. Authorization server metadata (RFC 8414, OpenID discovery), its issuer exactly the one
    //    the URL was built from (RFC 8414 section 3.3).
    json metadata;
    for (const auto& url : authorization_server_metadata_urls(issuer)) {
        metadata = fetch_json(url);
        if (!metadata.is_null()) break;
    }
    if (metadata.is_null()) {
        if (!resource_metadata.is_null())
            throw AuthorizationError("no authorization server metadata found for " + issuer);
        const std::string origin = origin_of(server);  // the 2025-03-26 default endpoints
        metadata = {{"issuer", issuer},
                    {"authorization_endpoint", origin + "/authorize"},
                    {"token_endpoint", origin + "/token"},
                    {"registration_endpoint", origin + "/register"},
                    {"code_challenge_methods_supported", {"S256"}}};
    }
    if (metadata.value("issuer", "") != issuer)
        throw AuthorizationError("the metadata of authorization server " + issuer + " names another issuer ('" +
                                 metadata.value("issuer", "") + "'): not used");

    // 3. The redirect target, then the client: registered per issuer, never carried to another.
    LoopbackRedirect redirect(settings_.redirect_port);
    Registration client;
    if (!settings_.client_id.empty()) {
        client.client_id = settings_.client_id;
        client.client_secret = settings_.client_secret;
        client.auth_method = choose_token_auth(settings_.token_auth, metadata, !client.client_secret.empty(), have_certificate_);
    } else if (!settings_.client_metadata_url.empty() && metadata.value("client_id_metadata_document_supported", false)) {
        client.client_id = settings_.client_metadata_url;
        client.auth_method = settings_.token_auth == "auto" ? "none" : settings_.token_auth;
    } else if (auto known = store_.registration(issuer)) {
        client = *known;
    } else {
        client = register_client(issuer, metadata, redirect.uri());
    }

    const std::vector<std::string> scopes = choose_scopes(challenge, resource_metadata, metadata, before);
    // A pre-registered client at a server that grants only client credentials acts for itself
    // (a workload, no user): no browser, no redirect.
    const json grants = metadata.value("grant_types_supported", json::array({"authorization_code"}));
    if (!settings_.client_id.empty() && has(grants, "client_credentials") && !has(grants, "authorization_code")) {
        std::vector<std::pair<std::string, std::string>> fields = {{"grant_type", "client_credentials"}, {"resource", resource}};
        std::vector<std::string> own;  // no refresh token without a user: offline_access means nothing here
        for (const auto& scope : scopes)
            if (scope != "offline_access") own.push_back(scope);
        if (!own.empty()) fields.emplace_back("scope", join(own, " "));
        const std::string endpoint = token_endpoint_for(metadata, client.auth_method);
        return keep_token(server_url, resource, issuer, scopes, endpoint, token_request(metadata, client, endpoint, fields));
    }

    // 4. Authorization request.
    if (!has(metadata.value("code_challenge_methods_supported", json::array()), "S256"))
        throw AuthorizationError("authorization server " + issuer + " does not offer PKCE with S256");
    const std::string authorization_endpoint = metadata.value("authorization_endpoint", "");
    if (authorization_endpoint.empty()) throw AuthorizationError("authorization server " + issuer + " has no authorization endpoint");
    const Pkce pkce = make_pkce();
    const std::string state = random_token(24);
    std::vector<std::pair<std::string, std::string>> query = {{"response_type", "code"},
                                                              {"client_id", client.client_id},
                                                              {"redirect_uri", redirect.uri()},
                                                              {"state", state},
                                                              {"code_challenge", pkce.challenge},
                                                              {"code_challenge_method", "S256"},
                                                              {"resource", resource}};
    if (!scopes.empty()) query.emplace_back("scope", join(scopes, " "));
    // OpenID Connect Core section 11: offline_access is granted only after consent asked for.
    if (std::find(scopes.begin(), scopes.end(), "offline_access") != scopes.end()) query.emplace_back("prompt", "consent");
    const std::string authorization_url =
        authorization_endpoint + (authorization_endpoint.find('?') == std::string::npos ? "?" : "&") + form(query);

    std::future<std::string> response = std::async(std::launch::async, [&redirect, this] {
        return redirect.await_callback(settings_.wait_for_user);
    });
    if (settings_.auto_follow) {
        // As a browser would: the authorization server answers with a redirect to our listener.
        try {
            follow_to(authorization_url, redirect.uri());
        } catch (...) {
            // Unblock the listener before the error leaves (the future joins its thread).
            try { fetch(redirect.uri() + "?error=client_aborted"); } catch (const Error&) {}
            response.wait();
            throw;
        }
    } else if (settings_.no_browser) {
        std::fprintf(stderr, "client: open this URL to authorize access to %s:\n  %s\n", server_url.c_str(), authorization_url.c_str());
    } else {
        open_browser(authorization_url);
    }
    const auto params = parse_query(response.get());

    // 5. The authorization response: state, then iss (RFC 9207, compared as strings), then code.
    if (one_param(params, "state") != state) throw AuthorizationError("the authorization response's state does not match ours");
    const std::string error = one_param(params, "error");
    if (!error.empty())
        throw AuthorizationError("authorization server " + issuer + " refused authorization: " + error +
                                 (params.count("error_description") ? " (" + one_param(params, "error_description") + ")" : ""));
    if (params.count("iss")) {
        if (one_param(params, "iss") != metadata.value("issuer", ""))
            throw AuthorizationError("the authorization response comes from issuer '" + one_param(params, "iss") + "', not " +
                                     issuer + " (RFC 9207): refused");
    } else if (metadata.value("authorization_response_iss_parameter_supported", false)) {
        throw AuthorizationError("authorization server " + issuer + " promised an iss parameter and sent none (RFC 9207): refused");
    }
    const std::string code = one_param(params, "code");
    if (code.empty()) throw AuthorizationError("the authorization response carries no code");

    // 6. The token request.
    const std::string endpoint = token_endpoint_for(metadata, client.auth_method);
    const json token = token_request(metadata, client, endpoint,
                                     {{"grant_type", "authorization_code"},
                                      {"code", code},
                                      {"redirect_uri", redirect.uri()},
                                      {"code_verifier", pkce.verifier},
                                      {"resource", resource}});
    return keep_token(server_url, resource, issuer, scopes, endpoint, token);
}

TokenEntry Authorizer::keep_token(const std::string& server_url, const std::string& resource, const std::string& issuer,
                                  const std::vector<std::string>& scopes, const std::string& endpoint, const json& token) {
    TokenEntry entry;
    entry.server = server_url;
    entry.resource = resource;
    entry.issuer = issuer;
    entry.access_token = token.value("access_token", "");
    entry.token_type = token.value("token_type", "Bearer");
    entry.refresh_token = token.value("refresh_token", "");
    entry.scope = token.contains("scope") && token["scope"].is_string() ? token["scope"].get<std::string>() : join(scopes, " ");
    entry.requested = scopes;
    entry.token_endpoint = endpoint;
    if (token.contains("expires_in") && token["expires_in"].is_number()) entry.expires_at = now_seconds() + token["expires_in"].get<long long>();
    remember(server_url, entry);
    log_event(spdlog::level::info, "oauth_authorized",
              {{"server", server_url}, {"issuer", issuer}, {"scope", entry.scope}, {"refreshable", !entry.refresh_token.empty()}});
    return entry;
}

std::string Authorizer::token_endpoint_for(const json& metadata, const std::string& auth_method) const {
    // RFC 8705 section 5: a client that uses mutual TLS at the token endpoint (to authenticate,
    // or to have its token bound to its certificate) uses the server's mTLS aliases.
    const json aliases = metadata.value("mtls_endpoint_aliases", json::object());
    const bool mtls = auth_method == "tls_client_auth" || auth_method == "self_signed_tls_client_auth" || have_certificate_;
    if (mtls && aliases.is_object() && aliases.contains("token_endpoint") && aliases["token_endpoint"].is_string())
        return aliases["token_endpoint"].get<std::string>();
    return metadata.value("token_endpoint", "");
}

json Authorizer::token_request(const json& metadata, const Registration& client, const std::string& endpoint,
                               std::vector<std::pair<std::string, std::string>> fields) {
    if (endpoint.empty()) throw AuthorizationError("authorization server " + metadata.value("issuer", "") + " has no token endpoint");
    HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (client.auth_method == "client_secret_basic") {
        // RFC 6749 section 2.3.1: both parts form-encoded before Basic.
        const std::string pair = percent_encode(client.client_id) + ":" + percent_encode(client.client_secret);
        std::string basic = pki::base64url_encode(pair);
        for (char& c : basic) c = c == '-' ? '+' : c == '_' ? '/' : c;
        while (basic.size() % 4) basic += '=';
        headers.emplace_back("Authorization", "Basic " + basic);
    } else {
        fields.emplace_back("client_id", client.client_id);
        if (client.auth_method == "client_secret_post") fields.emplace_back("client_secret", client.client_secret);
    }
    if ((client.auth_method == "tls_client_auth" || client.auth_method == "self_signed_tls_client_auth") &&
        !starts_with(endpoint, "https://"))
        throw AuthorizationError("token endpoint " + endpoint + " is not https: " + client.auth_method + " needs mutual TLS");
    const HttpResponse answer = fetch(endpoint, "POST", headers, form(fields));
    const json body = json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
        std::string why = "HTTP " + std::to_string(answer.status);
        if (body.is_object() && body.contains("error"))
            why = body.value("error", "") + (body.contains("error_description") ? " (" + body.value("error_description", "") + ")" : "");
        throw AuthorizationError("the token endpoint " + endpoint + " refused: " + why);
    }
    const std::string type = to_lower(body.value("token_type", "bearer"));
    if (type != "bearer") throw AuthorizationError("the token endpoint gave a '" + type + "' token; only Bearer is supported");
    return body;
}

std::optional<TokenEntry> Authorizer::refresh(const TokenEntry& entry) {
    if (entry.refresh_token.empty() || entry.token_endpoint.empty()) return std::nullopt;
    try {
        Registration client;
        if (!settings_.client_id.empty()) {
            client = {settings_.client_id, settings_.client_secret, ""};
        } else if (auto known = store_.registration(entry.issuer)) {
            client = *known;
        } else if (!settings_.client_metadata_url.empty()) {
            client = {settings_.client_metadata_url, "", "none"};
        } else {
            return std::nullopt;
        }
        json metadata = {{"issuer", entry.issuer}};
        if (client.auth_method.empty())
            client.auth_method = settings_.token_auth == "auto" ? (client.client_secret.empty() ? "none" : "client_secret_basic")
                                                                : settings_.token_auth;
        const json token = token_request(metadata, client, entry.token_endpoint,
                                         {{"grant_type", "refresh_token"}, {"refresh_token", entry.refresh_token}, {"resource", entry.resource}});
        TokenEntry renewed = entry;
        renewed.access_token = token.value("access_token", "");
        if (token.contains("refresh_token") && token["refresh_token"].is_string()) renewed.refresh_token = token["refresh_token"];
        if (token.contains("scope") && token["scope"].is_string()) renewed.scope = token["scope"];
        renewed.expires_at = token.contains("expires_in") && token["expires_in"].is_number()
                                 ? now_seconds() + token["expires_in"].get<long long>()
                                 : 0;
        remember(entry.server, renewed);
        log_event(spdlog::level::info, "oauth_refreshed", {{"server", entry.server}, {"issuer", entry.issuer}});
        return renewed;
    } catch (const Error& e) {
        log_event(spdlog::level::warn, "oauth_refresh_failed", {{"server", entry.server}, {"reason", e.what()}});
        remember(entry.server, std::nullopt);
        return std::nullopt;
    }
}

Registration Authorizer::register_client(const std::string& issuer, const json& metadata, const std::string& redirect_uri) {
    const std::string endpoint = metadata.value("registration_endpoint", "");
    if (endpoint.empty())
        throw AuthorizationError("authorization server " + issuer +
                                 " offers no dynamic client registration: give --oauth-client-id (and --oauth-client-secret-file)");
    // The token endpoint must be reached over mutual TLS for a certificate to count.
    const std::string token_endpoint = token_endpoint_for(metadata, "tls_client_auth");
    const std::string method =
        choose_token_auth(settings_.token_auth, metadata, true, have_certificate_ && starts_with(token_endpoint, "https://"));
    json request = {{"client_name", settings_.client_name},
                    {"redirect_uris", {redirect_uri}},
                    {"grant_types", {"authorization_code", "refresh_token"}},
                    {"response_types", {"code"}},
                    {"token_endpoint_auth_method", method},
                    {"application_type", "native"}};
    // RFC 8705 section 2.1.2: the certificate that authenticates the client, by its URI SAN (a
    // SPIFFE ID says the workload; a renewed certificate keeps it) or else its subject.
    if (method == "tls_client_auth") {
        const auto certificate = pki::Certificate::load(tls_settings_.cert_path);
        const auto uris = certificate.subject_alt_names().uris;
        if (!uris.empty()) request["tls_client_auth_san_uri"] = uris.front();
        else request["tls_client_auth_subject_dn"] = certificate.subject();
    }
    // RFC 8705 section 3: tokens bound to the certificate we present, useless without its key.
    if (have_certificate_ && starts_with(token_endpoint, "https://")) request["tls_client_certificate_bound_access_tokens"] = true;
    const HttpResponse answer = fetch(endpoint, "POST", {{"Content-Type", "application/json"}}, request.dump());
    const json body = json::parse(answer.body, nullptr, false);
    if (answer.status / 100 != 2 || !body.is_object() || !body.contains("client_id") || !body["client_id"].is_string()) {
        std::string why = "HTTP " + std::to_string(answer.status);
        if (body.is_object() && body.contains("error"))
            why = body.value("error", "") + (body.contains("error_description") ? " (" + body.value("error_description", "") + ")" : "");
        throw AuthorizationError("dynamic client registration at " + endpoint + " failed: " + why);
    }
    Registration registration{body["client_id"].get<std::string>(), body.value("client_secret", ""),
                              body.value("token_endpoint_auth_method", method)};
    store_.put_registration(issuer, registration);
    log_event(spdlog::level::info, "oauth_registered", {{"issuer", issuer}, {"token_endpoint_auth_method", registration.auth_method}});
    return registration;
}

void install(Settings settings, const tls::ClientTlsSettings& tls, Timeouts timeouts) {
    HttpConnection::set_default_authorizer(std::make_shared<Authorizer>(std::move(settings), tls, timeouts));
}

}  // namespace mcpmtls::client::oauth
