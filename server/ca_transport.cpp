#include "server/ca_transport.hpp"

#include "common/error.hpp"
#include "server/crl_fetcher.hpp"
#include "tls/credentials.hpp"
#include "tls/protocol_policy.hpp"
#include "tls/server_verifier.hpp"

#include <httplib.h>

namespace mcpmtls::server {
namespace {

constexpr time_t kTimeoutSeconds = 10;
constexpr size_t kMaxAnswerBytes = 1024 * 1024;  // a chain and a bundle: kilobytes

// The URL with a path, and the path prefix its requests go under ("" for the root).
std::pair<HttpsUrl, std::string> split_ca_url(const std::string& ca_url, const std::string& option) {
    const auto scheme = ca_url.find("://");
    const bool has_path = scheme != std::string::npos && ca_url.find('/', scheme + 3) != std::string::npos;
    HttpsUrl url;
    try {
        url = parse_https_url(has_path ? ca_url : ca_url + "/", option);
    } catch (const InputError& e) {
        // Named as it was given, not with the "/" added for the parser.
        std::string message = e.what();
        const std::string shown = "'" + ca_url + "/'";
        if (!has_path && message.find(shown) != std::string::npos) message.replace(message.find(shown), shown.size(), "'" + ca_url + "'");
        throw InputError(message);
    }
    std::string prefix = url.path;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (prefix.find_first_of("?#") != std::string::npos) throw InputError(option + " '" + ca_url + "': no query or fragment");
    return {url, prefix};
}

}  // namespace

void check_ca_url(const std::string& ca_url, const std::string& option) { split_ca_url(ca_url, option); }

tls::CaPost https_ca_post(const std::string& ca_url, tls::CredentialPaths paths,
                          std::function<std::shared_ptr<const pki::TrustStore>()> trust) {
    auto [url, prefix] = split_ca_url(ca_url, "--renew-from");
    return [url = url, prefix = prefix, paths = std::move(paths), trust = std::move(trust)](
               const std::string& path, const std::string& body) -> tls::CaAnswer {
        // The files as they are now: the certificate being renewed proves who we are.
        const tls::KeyPair ours = tls::load_key_pair(paths.cert_path, paths.key_path);
        tls::ServerVerifier verifier(trust(), url.host);
        httplib::SSLClient client(url.host, url.port);
        client.enable_server_certificate_verification(false);  // ours, installed below, decides instead
        SSL_CTX* ctx = client.ssl_context();
        if (!ctx) throw OperationError("cannot create a TLS context");
        tls::apply_protocol_policy(ctx);
        verifier.install(*ctx);
        if (SSL_CTX_use_certificate(ctx, ours.leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, ours.key.get()) != 1 ||
            SSL_CTX_set1_chain(ctx, ours.chain.get()) != 1)
            throw OperationError("cannot present " + paths.cert_path + " to the CA");
        client.set_connection_timeout(kTimeoutSeconds);
        client.set_read_timeout(kTimeoutSeconds);
        client.set_write_timeout(kTimeoutSeconds);
        auto response = client.Post((prefix + path).c_str(), body, "application/json");
        if (!response) {
            if (!verifier.refusal().empty()) throw OperationError("the CA's certificate was refused: " + verifier.refusal());
            throw OperationError("no answer from " + url.host + ":" + std::to_string(url.port) + ": " +
                                 httplib::to_string(response.error()));
        }
        if (response->body.size() > kMaxAnswerBytes) throw OperationError("the CA's answer is larger than 1 MiB");
        return {response->status, response->body};
    };
}

}  // namespace mcpmtls::server
