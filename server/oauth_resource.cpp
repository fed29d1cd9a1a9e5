#include "server/oauth_resource.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"
#include "server/crl_fetcher.hpp"
#include "tls/credentials.hpp"
#include "tls/protocol_policy.hpp"
#include "tls/server_verifier.hpp"

#include <httplib.h>
#include <stdexcept>

namespace mcpmtls::server {
namespace {

constexpr time_t kTimeoutSeconds = 10;
constexpr size_t kMaxAnswerBytes = 1024 * 1024;  // metadata, a JWK set, an introspection answer

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
        tls::ServerVerifier verifier(trust(), url.host);
        httplib::SSLClient client(url.host, url.port);
        client.enable_server_certificate_verification(false);  // ours, installed below, decides instead
        SSL_CTX* ctx = client.ssl_context();
        if (!ctx) throw std::runtime_error("cannot create a TLS context");
        tls::apply_protocol_policy(ctx);
        verifier.install(*ctx);
        if (!ours.cert_path.empty()) {
            // The files as they are now (a reload may have replaced them).
            const tls::KeyPair pair = tls::load_key_pair(ours.cert_path, ours.key_path, pkcs11);
            if (SSL_CTX_use_certificate(ctx, pair.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, pair.key.get()) != 1 ||
                SSL_CTX_set1_chain(ctx, pair.chain.get()) != 1)
                throw std::runtime_error("cannot present " + ours.cert_path + " to the authorization server");
        }
        client.set_connection_timeout(kTimeoutSeconds);
        client.set_read_timeout(kTimeoutSeconds);
        client.set_write_timeout(kTimeoutSeconds);
        httplib::Headers headers = {{"Accept", "application/json"}};
        auto response = form ? client.Post(url.path.c_str(), headers, *form, "application/x-www-form-urlencoded")
                             : client.Get(url.path.c_str(), headers);
        if (!response) {
            if (!verifier.refusal().empty()) throw std::runtime_error("its certificate was refused: " + verifier.refusal());
            throw std::runtime_error("no answer from " + url.host + ":" + std::to_string(url.port) + " (" +
                                     httplib::to_string(response.error()) + ")");
        }
        if (response->body.size() > kMaxAnswerBytes) throw std::runtime_error("its answer is larger than 1 MiB");
        return {response->status, response->body};
    };
    mcp::OAuthTransport transport;
    transport.get = [request](const std::string& url) { return request(url, nullptr); };
    transport.post_form = [request](const std::string& url, const std::string& form) { return request(url, &form); };
    return transport;
}

}  // namespace mcpmtls::server
