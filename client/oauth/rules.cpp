// The parts of the OAuth client that need no network: challenges, PKCE, encodings, where metadata
// lives, which scopes and which token endpoint authentication to use.
#include "client/oauth.hpp"

#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/jose.hpp"

#include <algorithm>
#include <cstdlib>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace mcpmtls::client::oauth {

std::vector<Option> option_rows() {
    return {
        Option::text("oauth-client-id", "ID", "a client id registered beforehand with the servers' authorization server")
            .configurable(),
        Option::text("oauth-client-secret-file", "FILE", "the secret of --oauth-client-id (first line of FILE)").configurable(),
        Option::text("oauth-client-metadata-url", "URL",
                     "an https URL serving our Client ID Metadata Document, used as client id where the authorization "
                     "server supports it (else dynamic registration)")
            .configurable(),
        Option::text("oauth-token-auth", "", "how to authenticate at the token endpoint (auto: by the client certificate "
                                             "where the server supports tls_client_auth, else by the secret, else none)")
            .one_of({"auto", "client_secret_basic", "client_secret_post", "none", "tls_client_auth", "self_signed_tls_client_auth"})
            .fallback("auto")
            .configurable(),
        Option::flag("no-browser", "print the authorization URL on stderr instead of opening a browser (xdg-open)"),
        Option::flag("oauth-auto-follow",
                     "TESTS ONLY: fetch the authorization URL ourselves and follow its redirect, for authorization servers "
                     "that grant at once (the conformance suite's); MCPMTLS_OAUTH_AUTO_FOLLOW=1 says the same"),
        Option::integer("oauth-redirect-port", "PORT", 0, 65535, "the port of the loopback redirect http://127.0.0.1:PORT/callback "
                                                                 "(0: any free port)")
            .fallback(0L)
            .configurable(),
    };
}

std::string default_state_file() {
    const char* state = std::getenv("XDG_STATE_HOME");
    std::string base;
    if (state && *state) base = state;
    else {
        const char* home = std::getenv("HOME");
        base = std::string(home && *home ? home : ".") + "/.local/state";
    }
    return base + "/mcp-mtls/tokens.json";
}

Settings settings_of(const Args& args) {
    Settings settings;
    settings.client_id = args.text("oauth-client-id");
    if (args.given("oauth-client-secret-file")) {
        if (settings.client_id.empty()) throw InputError("--oauth-client-secret-file needs --oauth-client-id");
        const std::string text = read_file(args.text("oauth-client-secret-file"));
        settings.client_secret = trim(text.substr(0, text.find('\n')));
        if (settings.client_secret.empty()) throw InputError(args.text("oauth-client-secret-file") + ": the client secret is empty");
    }
    settings.client_metadata_url = args.text("oauth-client-metadata-url");
    if (!settings.client_metadata_url.empty() && !starts_with(settings.client_metadata_url, "https://"))
        throw InputError("--oauth-client-metadata-url must be an https:// URL");
    settings.token_auth = args.text("oauth-token-auth");
    settings.no_browser = args.flag("no-browser");
    const char* follow = std::getenv("MCPMTLS_OAUTH_AUTO_FOLLOW");
    settings.auto_follow = args.flag("oauth-auto-follow") || (follow && std::string(follow) == "1");
    settings.redirect_port = static_cast<int>(args.integer("oauth-redirect-port"));
    settings.state_file = default_state_file();
    return settings;
}

// ------------------------------------------------------------------------------------------

Challenge parse_challenge(const std::string& header) {
    Challenge challenge;
    // Several challenges may share the header; we read the Bearer one's auth-params.
    size_t at = 0;
    const std::string lower = to_lower(header);
    size_t bearer = std::string::npos;
    for (size_t i = lower.find("bearer"); i != std::string::npos; i = lower.find("bearer", i + 1)) {
        const bool starts = i == 0 || lower[i - 1] == ' ' || lower[i - 1] == ',';
        const bool ends = i + 6 == lower.size() || lower[i + 6] == ' ';
        if (starts && ends) {
            bearer = i;
            break;
        }
    }
    if (bearer == std::string::npos) return challenge;
    challenge.bearer = true;
    at = bearer + 6;
    while (at < header.size()) {
        while (at < header.size() && (header[at] == ' ' || header[at] == ',')) ++at;
        const size_t eq = header.find('=', at);
        if (eq == std::string::npos) break;
        const std::string name = to_lower(trim(header.substr(at, eq - at)));
        if (name.find(' ') != std::string::npos) break;  // the next challenge's scheme
        at = eq + 1;
        std::string value;
        if (at < header.size() && header[at] == '"') {
            ++at;
            while (at < header.size() && header[at] != '"') {
                if (header[at] == '\\' && at + 1 < header.size()) ++at;
                value += header[at++];
            }
            ++at;
        } else {
            const size_t end = header.find(',', at);
            value = trim(header.substr(at, end == std::string::npos ? std::string::npos : end - at));
            at = end == std::string::npos ? header.size() : end;
        }
        if (name == "resource_metadata") challenge.resource_metadata = value;
        else if (name == "scope") challenge.scope = value;
        else if (name == "error") challenge.error = value;
    }
    return challenge;
}

std::string random_token(size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&raw[0]), static_cast<int>(bytes)) != 1)
        throw Error(kExitFailed, "the system's random generator failed");
    return pki::base64url_encode(raw);
}

std::string pkce_challenge(const std::string& verifier) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
    return pki::base64url_encode(digest, sizeof digest);
}

Pkce make_pkce() {
    Pkce pkce;
    pkce.verifier = random_token(32);
    pkce.challenge = pkce_challenge(pkce.verifier);
    return pkce;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) out += (out.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
    return out;
}

namespace {
std::string url_decode(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') out += ' ';
        else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else out += text[i];
    }
    return out;
}

std::string path_without_query(const std::string& path) { return path.substr(0, path.find_first_of("?#")); }
}  // namespace

std::map<std::string, std::vector<std::string>> parse_query(const std::string& query) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& pair : split(query, '&')) {
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        out[url_decode(pair.substr(0, eq))].push_back(eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1)));
    }
    return out;
}

std::string origin_of(const Url& url) { return url.scheme + "://" + url.host_header(); }

std::vector<std::string> resource_metadata_urls(const Url& server) {
    std::string path = path_without_query(server.path);
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::vector<std::string> urls;
    if (!path.empty()) urls.push_back(origin_of(server) + "/.well-known/oauth-protected-resource" + path);
    urls.push_back(origin_of(server) + "/.well-known/oauth-protected-resource");
    return urls;
}

std::vector<std::string> authorization_server_metadata_urls(const std::string& issuer) {
    const Url url = Url::parse(issuer);
    std::string path = path_without_query(url.path);
    while (!path.empty() && path.back() == '/') path.pop_back();
    const std::string origin = origin_of(url);
    if (path.empty()) return {origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"};
    return {origin + "/.well-known/oauth-authorization-server" + path, origin + "/.well-known/openid-configuration" + path,
            origin + path + "/.well-known/openid-configuration"};
}

bool resource_matches(const std::string& resource, const Url& server) {
    Url named;
    try {
        named = Url::parse(resource);
    } catch (const Error&) {
        return false;
    }
    if (to_lower(origin_of(named)) != to_lower(origin_of(server))) return false;
    std::string prefix = path_without_query(named.path);
    const std::string path = path_without_query(server.path);
    if (prefix == "/" || prefix.empty()) return true;
    if (prefix.back() == '/') prefix.pop_back();
    return path == prefix || starts_with(path, prefix + "/");
}

std::vector<std::string> choose_scopes(const Challenge& challenge, const json& resource_metadata, const json& server_metadata,
                                       const std::vector<std::string>& before) {
    std::vector<std::string> scopes = before;
    auto add = [&scopes](const std::string& scope) {
        if (!scope.empty() && std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) scopes.push_back(scope);
    };
    if (!challenge.scope.empty()) {
        for (const auto& scope : split(challenge.scope, ' ')) add(scope);
    } else if (resource_metadata.is_object() && resource_metadata.contains("scopes_supported") &&
               resource_metadata["scopes_supported"].is_array()) {
        for (const auto& scope : resource_metadata["scopes_supported"])
            if (scope.is_string()) add(scope.get<std::string>());
    }
    // A refresh token lets the bridge renew without the user; ask only where it is offered, and
    // only when some scope is asked at all (no scope means "the server's default").
    const json supported = server_metadata.value("scopes_supported", json::array());
    if (!scopes.empty() && supported.is_array() && std::find(supported.begin(), supported.end(), "offline_access") != supported.end())
        add("offline_access");
    return scopes;
}

std::string choose_token_auth(const std::string& wanted, const json& server_metadata, bool have_secret, bool have_certificate) {
    if (wanted != "auto") return wanted;
    // RFC 8414: absent means client_secret_basic.
    const json supported = server_metadata.value("token_endpoint_auth_methods_supported", json::array({"client_secret_basic"}));
    auto offers = [&supported](const std::string& method) {
        return supported.is_array() && std::find(supported.begin(), supported.end(), method) != supported.end();
    };
    if (have_certificate && offers("tls_client_auth")) return "tls_client_auth";
    if (have_secret) {
        if (offers("client_secret_basic")) return "client_secret_basic";
        if (offers("client_secret_post")) return "client_secret_post";
    }
    if (offers("none")) return "none";
    if (have_secret) return "client_secret_basic";
    return "none";
}

}  // namespace mcpmtls::client::oauth
