#include "server/crl_fetcher.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "tls/protocol_policy.hpp"
#include "tls/server_verifier.hpp"

#include <httplib.h>

namespace mcpmtls::server {
namespace {

// A CRL of a large CA is megabytes; anything far beyond is not a CRL.
constexpr size_t kMaxCrlBytes = 64 * 1024 * 1024;
constexpr time_t kFetchTimeoutSeconds = 10;

}  // namespace

HttpsUrl parse_https_url(const std::string& url, const std::string& option) {
    const auto refuse = [&](const std::string& why) { return InputError(option + " '" + url + "': " + why); };
    if (!starts_with(url, "https://"))
        throw refuse(option == "--crl-url" ? "only https:// URLs (the CRL server is verified with --ca)"
                                           : "only https:// URLs (the server is verified with the trust bundle)");
    const std::string rest = url.substr(8);
    const auto slash = rest.find('/');
    if (slash == std::string::npos) throw refuse("no path (https://HOST[:PORT]/PATH)");
    std::string authority = rest.substr(0, slash);
    HttpsUrl parsed;
    parsed.path = rest.substr(slash);
    std::string port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) throw refuse("unclosed [ in the host");
        parsed.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw refuse("unexpected text after the host");
            port = authority.substr(close + 2);
        }
    } else {
        const auto colon = authority.find(':');
        parsed.host = authority.substr(0, colon);
        if (colon != std::string::npos) port = authority.substr(colon + 1);
    }
    if (parsed.host.empty() || parsed.host.find('@') != std::string::npos) throw refuse("no host");
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
            std::stoi(port) > 65535)
            throw refuse("bad port");
        parsed.port = std::stoi(port);
    }
    return parsed;
}

CrlFetcher::CrlFetcher(tls::ServerTlsContext& tls, std::chrono::seconds refresh)
    : tls_(tls), url_(parse_https_url(tls.settings().files.crl_url)), refresh_(refresh) {}

CrlFetcher::~CrlFetcher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void CrlFetcher::start() { thread_ = std::thread([this] { run(); }); }

void CrlFetcher::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, refresh_, [this] { return stopping_; })) {
        lock.unlock();
        fetch();
        lock.lock();
    }
}

bool CrlFetcher::fetch() {
    const std::string& url = tls_.settings().files.crl_url;
    auto failed = [&](const std::string& reason) {
        log_event(spdlog::level::warn, "crl_fetch_failed",
                  {{"url", url}, {"reason", reason}, {"next_attempt_seconds", refresh_.count()}});
        return false;
    };
    std::string body;
    try {
        // The CRL server is judged by the anchors alone: a stale CRL must not keep us from
        // fetching its successor.
        tls::ServerVerifier verifier(tls_.snapshot()->trust_without_crls, url_.host);
        httplib::SSLClient client(url_.host, url_.port);
        client.enable_server_certificate_verification(false);  // ours, installed below, decides instead
        tls::apply_protocol_policy(client.ssl_context());
        verifier.install(*client.ssl_context());
        client.set_connection_timeout(kFetchTimeoutSeconds);
        client.set_read_timeout(kFetchTimeoutSeconds);
        client.set_write_timeout(kFetchTimeoutSeconds);
        bool too_large = false;
        const auto response = client.Get(url_.path.c_str(), [&](const char* data, size_t length) {
            too_large = body.size() + length > kMaxCrlBytes;
            if (!too_large) body.append(data, length);
            return !too_large;
        });
        if (too_large) return failed("the answer is larger than 64 MiB");
        if (!response) {
            if (!verifier.refusal().empty()) return failed("the CRL server's certificate was refused: " + verifier.refusal());
            return failed("no answer: " + httplib::to_string(response.error()));
        }
        if (response->status != 200) return failed("HTTP status " + std::to_string(response->status));
        if (!tls_.install_crl(body))
            log_event(spdlog::level::debug, "crl_fetched", {{"url", url}, {"bytes", body.size()}, {"changed", false}});
        return true;
    } catch (const std::exception& e) {
        return failed(e.what());
    }
}

}  // namespace mcpmtls::server
