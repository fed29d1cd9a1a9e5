#include "client/ca_client.hpp"

#include "common/error.hpp"
#include "common/strings.hpp"

namespace mcpmtls::client {
namespace {

std::string joined(const Url& ca, const std::string& path) {
    std::string prefix = ca.path;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    return prefix + path;
}

}  // namespace

Url parse_ca_url(const std::string& text, const std::string& option) {
    Url url;
    try {
        url = Url::parse(text);
    } catch (const Error& e) {
        throw InputError(option + " '" + text + "': " + e.what());
    }
    if (url.scheme != "https") throw InputError(option + " '" + text + "': only https:// (the CA is verified like any server)");
    if (url.path.find_first_of("?#") != std::string::npos) throw InputError(option + " '" + text + "': no query or fragment");
    return url;
}

tls::CaPost ca_post(const Url& ca, std::function<std::shared_ptr<const tls::ClientTlsContext>()> context, Timeouts timeouts) {
    return [ca, context = std::move(context), timeouts](const std::string& path, const std::string& body) -> tls::CaAnswer {
        Url url = ca;
        url.path = joined(ca, path);
        HttpConnection connection(url, context(), timeouts);
        const HttpResponse response =
            connection.request("POST", {{"Content-Type", "application/json"}, {"Accept", "application/json"}}, body);
        return {response.status, response.body};
    };
}

std::vector<pki::Certificate> fetch_roots_unverified(const Url& ca, Timeouts timeouts) {
    tls::ClientTlsSettings settings;
    settings.present_certificate = false;
    settings.mode = tls::ServerCheckMode::diagnose;  // finish the handshake whatever the verdict
    Url url = ca;
    url.path = joined(ca, "/v1/roots");
    HttpConnection connection(url, std::make_shared<const tls::ClientTlsContext>(settings), timeouts);
    const HttpResponse response = connection.request("GET", {{"Accept", "application/pem-certificate-chain"}}, "");
    if (response.status != 200)
        throw OperationError("GET " + url.to_string() + " answered HTTP " + std::to_string(response.status));
    try {
        return pki::Certificate::parse_all(response.body, url.to_string());
    } catch (const InputError& e) {
        throw OperationError(e.what());
    }
}

tls::CaPost renewal_post(const Url& ca, const tls::ClientTlsSettings& settings, Timeouts timeouts) {
    tls::ClientTlsSettings strict = settings;
    strict.mode = tls::ServerCheckMode::strict;  // never relaxed or pinned towards the CA: it is about to sign our key
    strict.pin_sha256.clear();
    return ca_post(ca, [strict] { return std::make_shared<const tls::ClientTlsContext>(strict); }, timeouts);
}

tls::CredentialPaths renewal_paths(const tls::ClientTlsSettings& settings, bool own_bundle) {
    return {settings.cert_path, settings.key_path, own_bundle ? settings.ca_path : ""};
}

}  // namespace mcpmtls::client
