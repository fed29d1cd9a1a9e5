#pragma once
// The CRL from --crl-url: fetched at start and every --crl-refresh seconds over HTTPS, the
// CRL server judged by the project's verifier against the --ca anchors (purpose serverAuth,
// host name checked), and handed to the TLS context, which checks the CRL's signature and
// issuer and refuses one older than the CRL in use. Every replica fetches for itself, so a
// revocation reaches each within one refresh.
#include "tls/server_context.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace mcpmtls::server {

struct HttpsUrl {
    std::string host;  // without brackets for an IPv6 literal
    int port = 443;
    std::string path;  // "/ca.crl", with any query
};

// https://HOST[:PORT]/PATH; throws InputError naming `option` for anything else (plain http
// included: the CRL server is judged like any TLS peer).
HttpsUrl parse_https_url(const std::string& url, const std::string& option = "--crl-url");

class CrlFetcher {
public:
    // The URL is `tls`'s files.crl_url; `tls` must outlive this object.
    CrlFetcher(tls::ServerTlsContext& tls, std::chrono::seconds refresh);
    // Stops fetching (an ongoing fetch ends within its timeouts).
    ~CrlFetcher();
    CrlFetcher(const CrlFetcher&) = delete;
    CrlFetcher& operator=(const CrlFetcher&) = delete;

    // One fetch, logged either way; true if a valid CRL came (installed, or the same as in use).
    bool fetch();
    // Fetches every `refresh` on a thread of its own, until destroyed.
    void start();

private:
    void run();

    tls::ServerTlsContext& tls_;
    const HttpsUrl url_;
    const std::chrono::seconds refresh_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace mcpmtls::server
