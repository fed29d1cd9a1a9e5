#include "client/reloading_tls.hpp"

#include "common/files.hpp"
#include "common/log.hpp"

namespace mcpmtls::client {

ReloadingTlsContext::ReloadingTlsContext(tls::ClientTlsSettings settings)
    : settings_(std::move(settings)),
      context_(std::make_shared<const tls::ClientTlsContext>(settings_)),
      loaded_(stamps()),
      next_check_(std::chrono::steady_clock::now() + kCheckInterval) {}

std::vector<std::string> ReloadingTlsContext::stamps() const {
    return {file_stamp(settings_.cert_path), file_stamp(settings_.key_path), file_stamp(settings_.ca_path), file_stamp(settings_.crl_path)};
}

uint64_t ReloadingTlsContext::generation() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return generation_;
}

std::shared_ptr<const tls::ClientTlsContext> ReloadingTlsContext::current() {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check_) return context_;
    next_check_ = now + kCheckInterval;
    std::vector<std::string> seen = stamps();
    if (seen == loaded_ || seen == refused_) return context_;
    try {
        context_ = std::make_shared<const tls::ClientTlsContext>(settings_);
        loaded_ = std::move(seen);
        refused_.clear();
        ++generation_;
        log_event(spdlog::level::info, "client_credentials_reloaded",
                  {{"cert", settings_.cert_path}, {"ca", settings_.ca_path}, {"crl", settings_.crl_path}, {"generation", generation_}});
    } catch (const std::exception& e) {
        // Often a rotation half written (the new certificate before its key): the next change
        // of any file is tried again, and until then the previous context serves.
        refused_ = std::move(seen);
        log_event(spdlog::level::err, "client_credentials_reload_failed", {{"reason", e.what()}, {"generation", generation_}});
    }
    return context_;
}

}  // namespace mcpmtls::client
