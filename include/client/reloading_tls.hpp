#pragma once
// A client TLS context that follows its files. A long-running client (the bridge, started once by
// an MCP host and left running for days) must notice `pki rotate coordinator`, a new CA bundle
// or a new CRL without being restarted. ClientTlsContext is immutable, so this builds a new one
// when the identity (inode, size, modification time, following symlinks) of the certificate,
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

// What identifies one version of a file, as stat(2) sees it through symlinks (a kubelet `..data`
// swap or an atomic rename changes the inode even when size and time happen to match).
struct FileIdentity {
    bool exists = false;
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t modified_ns = 0;
    static FileIdentity of(const std::string& path);
    bool operator==(const FileIdentity& other) const;
    bool operator!=(const FileIdentity& other) const { return !(*this == other); }
};

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
    std::vector<FileIdentity> identities() const;

    const tls::ClientTlsSettings settings_;
    mutable std::mutex mutex_;
    std::shared_ptr<const tls::ClientTlsContext> context_;
    std::vector<FileIdentity> loaded_;     // the files as they were when context_ was built
    std::vector<FileIdentity> refused_;    // a set that failed to load: not tried again until it changes
    std::chrono::steady_clock::time_point next_check_;
    uint64_t generation_ = 1;
};

}  // namespace mcpmtls::client
