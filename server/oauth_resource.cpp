#include "server/oauth_resource.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "server/crl_fetcher.hpp"
#include "server/https_request.hpp"
#include "tls/credentials.hpp"

#include <optional>

namespace mcpmtls::server {
namespace {

// https://HOST[:PORT][/PATH], no query or fragment (an issuer identifier, RFC 8414 section 2).
void check_url(const std::string& url, const std::string& option) {
    const auto scheme = url.find("://");
    const bool has_path = scheme != std::string::npos && url.find('/', scheme + 3) != std::string::npos;
    parse_https_url(has_path ? url : url + "/", option);
    if (url.find_first_of("?#") != std::string::npos) throw InputError(option + " '" + url + "': no query or fragment");
}

}  // namespace

std::vector<Option> oauth_option_rows() {
    const mcp::OAuthSettings defaults;
    return {
        Option::text("oauth-issuer", "URL",
                     "take OAuth bearer tokens from this authorization server (its metadata discovered by RFC 8414, "
                     "then OpenID discovery); every MCP request then needs a valid token besides the client certificate")
            .configurable(),
        Option::text("oauth-audience", "AUD",
                     "the audience tokens must name (default: this server's resource URL, https://HOST:PORT/mcp as "
                     "the request reached it)")
            .configurable(),
        Option::text("oauth-introspection-url", "URL",
                     "check tokens that are not JWTs at this RFC 7662 introspection endpoint (the server presents its "
                     "certificate there)")
            .configurable(),
        Option::text("oauth-client-id", "ID", "this server's client ID at the authorization server, sent to introspection")
            .configurable(),
        Option::flag("oauth-require-bound-tokens",
                     "refuse tokens that are not bound to the connection's client certificate (RFC 8705 cnf.x5t#S256)")
            .configurable(),
        Option::text("oauth-ca", "FILE", "trust bundle for the authorization server's certificate (default: --ca)").configurable(),
        Option::integer("oauth-jwks-max-age", "SECONDS", 10, 7 * 86400,
                        "how long the authorization server's keys are used without fetching them again (while it is "
                        "unreachable, tokens are checked with them until then; after it, 503)")
            .fallback(static_cast<long>(defaults.jwks_max_age.count()))
            .configurable(),
    };
}

OAuthConfig oauth_config_of(const Args& args) {
    OAuthConfig config;
    auto& s = config.settings;
    if (!args.given("oauth-issuer")) {
        for (const char* name : {"oauth-audience", "oauth-introspection-url", "oauth-client-id", "oauth-require-bound-tokens", "oauth-ca"})
            if (args.given(name)) throw InputError(std::string("--") + name + " needs --oauth-issuer");
        return config;
    }
    s.issuer = args.text("oauth-issuer");
    check_url(s.issuer, "--oauth-issuer");
    s.audience = args.text("oauth-audience");
    if (args.given("oauth-introspection-url")) {
        s.introspection_url = args.text("oauth-introspection-url");
        check_url(s.introspection_url, "--oauth-introspection-url");
    }
    s.client_id = args.text("oauth-client-id");
    s.require_bound_tokens = args.flag("oauth-require-bound-tokens");
    s.jwks_max_age = std::chrono::seconds(args.integer("oauth-jwks-max-age"));
    config.ca_path = args.text("oauth-ca");
    if (!config.ca_path.empty()) pki::TrustStore::load(config.ca_path);  // a bad file is a usage error now, not at the first token
    return config;
}

mcp::OAuthTransport https_oauth_transport(std::function<std::shared_ptr<const pki::TrustStore>()> trust, tls::CredentialPaths ours,
                                          tls::Pkcs11Options pkcs11) {
    auto request = [trust = std::move(trust), ours = std::move(ours), pkcs11 = std::move(pkcs11)](
                       const std::string& url_text, const std::string* form) -> mcp::OAuthHttpAnswer {
        const HttpsUrl url = parse_https_url(url_text, "the authorization server's URL");
        // The files as they are now (a reload may have replaced them).
        std::optional<tls::KeyPair> pair;
        if (!ours.cert_path.empty()) pair = tls::load_key_pair(ours.cert_path, ours.key_path, pkcs11);
        HttpsCall call;
        call.path = url.path;
        call.accept = "application/json";
        if (form) {
            call.method = "POST";
            call.body = *form;
            call.content_type = "application/x-www-form-urlencoded";
        }
        const HttpsAnswer answer = https_request(url, trust(), pair ? &*pair : nullptr, call);
        return {answer.status, answer.body};
    };
    mcp::OAuthTransport transport;
    transport.get = [request](const std::string& url) { return request(url, nullptr); };
    transport.post_form = [request](const std::string& url, const std::string& form) { return request(url, &form); };
    return transport;
}

}  // namespace mcpmtls::server
