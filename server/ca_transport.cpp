#include "server/ca_transport.hpp"

#include "common/error.hpp"
#include "server/crl_fetcher.hpp"
#include "server/https_request.hpp"
#include "tls/credentials.hpp"

namespace mcpmtls::server {
namespace {

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
        HttpsCall call;
        call.method = "POST";
        call.path = prefix + path;
        call.body = body;
        call.content_type = "application/json";
        call.max_answer_bytes = kMaxAnswerBytes;
        try {
            const HttpsAnswer answer = https_request(url, trust(), &ours, call);
            return {answer.status, answer.body};
        } catch (const HttpsFailure& e) {
            if (!e.refusal().empty()) throw OperationError("the CA's certificate was refused: " + e.refusal());
            throw OperationError(e.what());
        }
    };
}

}  // namespace mcpmtls::server
