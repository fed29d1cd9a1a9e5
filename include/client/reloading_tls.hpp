#pragma once
// A client TLS context that follows its files. A long-running client (the bridge, started once by
// an MCP host and left running for days) must notice `pki rotate coordinator`, a new CA bundle
// or a new CRL without being restarted. ClientTlsContext is immutable, so this builds a new one
// when the file_stamp() (resolved path, inode, size, modification time) of the certificate,
// key, trust bundle or CRL changes, and hands it out for new connections; connections made with
// an older context keep it. A set that does not load (a certificate whose key is not written
// yet) is logged and the previous context stays in service until the files are right.
#include "tls/client_context.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mcpmtls::client {

class ReloadingTlsContext {
public:
    // Files are looked at again at most this often (a stat per file).
    static constexpr std::chrono::milliseconds kCheckInterval{250};

    explicit ReloadingTlsContext(tls::ClientTlsSettings settings);  // loads now; throws InputError
    ReloadingTlsContext(const ReloadingTlsContext&) = delete;
    ReloadingTlsContext& operator=(const ReloadingTlsContext&) = delete;

    // The context for a new connection, rebuilt first if a file changed. Thread-safe.
    std::shared_ptr<const tls::ClientTlsContext> current();
    // Bumped by every successful reload.
    uint64_t generation() const;
    const tls::ClientTlsSettings& settings() const { return settings_; }

private:
    std::vector<std::string> stamps() const;  // file_stamp() of each file

    const tls::ClientTlsSettings settings_;
    mutable std::mutex mutex_;
    std::shared_ptr<const tls::ClientTlsContext> context_;
    std::vector<std::string> loaded_;     // the files as they were when context_ was built
    std::vector<std::string> refused_;    // a set that failed to load: not tried again until it changes
    std::chrono::steady_clock::time_point next_check_;
    uint64_t generation_ = 1;
};

}  // namespace mcpmtls::client
