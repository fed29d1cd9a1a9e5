#include "client/reloading_tls.hpp"

#include "common/log.hpp"

#include <sys/stat.h>

namespace mcpmtls::client {

FileIdentity FileIdentity::of(const std::string& path) {
    FileIdentity identity;
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return identity;
    identity.exists = true;
    identity.device = static_cast<uint64_t>(st.st_dev);
    identity.inode = static_cast<uint64_t>(st.st_ino);
    identity.size = static_cast<int64_t>(st.st_size);
    identity.modified_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return identity;
}

bool FileIdentity::operator==(const FileIdentity& other) const {
    return exists == other.exists && device == other.device && inode == other.inode && size == other.size &&
           modified_ns == other.modified_ns;
}

ReloadingTlsContext::ReloadingTlsContext(tls::ClientTlsSettings settings)
    : settings_(std::move(settings)),
      context_(std::make_shared<const tls::ClientTlsContext>(settings_)),
      loaded_(identities()),
      next_check_(std::chrono::steady_clock::now() + kCheckInterval) {}

std::vector<FileIdentity> ReloadingTlsContext::identities() const {
    return {FileIdentity::of(settings_.cert_path), FileIdentity::of(settings_.key_path), FileIdentity::of(settings_.ca_path),
            FileIdentity::of(settings_.crl_path)};
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
    std::vector<FileIdentity> seen = identities();
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
