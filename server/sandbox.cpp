#include "server/sandbox.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "server/server_settings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mcpmtls::server {
namespace {

// <linux/landlock.h> of the build machine may predate the kernel that runs the server: the
// rights and structures of later ABIs are spelled out here, and used only when the kernel
// reports that ABI.
constexpr uint64_t kFsRightsAbi1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kFsRefer = 1ULL << 13;             // ABI 2
constexpr uint64_t kFsTruncate = 1ULL << 14;          // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;          // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0;           // ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;        // ABI 4
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;              // ABI 6
constexpr int kRuleNetPort = 2;

constexpr uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// A renewal writes a temporary file beside the target and renames it over the target.
constexpr uint64_t kReplaceFiles = kReadDir | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
                                   LANDLOCK_ACCESS_FS_REMOVE_FILE | kFsTruncate;

struct RulesetAttr {  // landlock_ruleset_attr as of ABI 6
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct NetPortAttr {  // landlock_net_port_attr (ABI 4)
    uint64_t allowed_access;
    uint64_t port;
};

uint64_t fs_rights(int abi) {
    uint64_t rights = kFsRightsAbi1;
    if (abi >= 2) rights |= kFsRefer;
    if (abi >= 3) rights |= kFsTruncate;
    if (abi >= 5) rights |= kFsIoctlDev;
    return rights;
}

size_t ruleset_size(int abi) { return abi >= 6 ? sizeof(RulesetAttr) : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t); }

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string errno_text() { return std::strerror(errno); }

// Allows `access` beneath `path` (only the file rights for a file). A path that does not exist
// (an optional CRL, a time-zone file this system lacks) is skipped: nothing to allow.
bool allow_path(int ruleset, const std::string& path, uint64_t access, uint64_t handled) {
    const Fd target(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (target.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return false;
        throw Error(kExitFailed, "sandbox: cannot open " + path + ": " + errno_text());
    }
    struct stat st {};
    if (::fstat(target.get(), &st) != 0) throw Error(kExitFailed, "sandbox: cannot stat " + path + ": " + errno_text());
    constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                                     kFsTruncate | kFsIoctlDev;
    if (!S_ISDIR(st.st_mode)) access &= kFileRights;
    landlock_path_beneath_attr rule{};
    rule.allowed_access = access & handled;
    rule.parent_fd = target.get();
    if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        throw Error(kExitFailed, "sandbox: the kernel refused the rule for " + path + ": " + errno_text());
    return true;
}

// Absolute, so that the log names each directory once however it was spelled.
std::string parent_of(const std::string& path) {
    std::error_code error;
    const auto absolute = std::filesystem::absolute(path, error);
    return (error ? std::filesystem::path(path) : absolute).lexically_normal().parent_path().string();
}

// The directory of `path` as named, and of the file it finally names when it is a symlink
// (kubelet's NAME -> ..data/NAME -> ..TIMESTAMP/NAME stays within the first).
void add_directories_of(const std::string& path, std::vector<std::string>& into) {
    if (path.empty()) return;
    into.push_back(parent_of(path));
    std::error_code error;
    const auto resolved = std::filesystem::canonical(path, error);
    if (!error) into.push_back(resolved.parent_path().string());
}

void add_port_of(const std::string& url, std::vector<int>& into) {
    if (url.empty()) return;
    const auto scheme_end = url.find("://");
    const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    const auto host_end = url.find('/', host_start);
    const std::string authority = url.substr(host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start);
    const auto colon = authority.rfind(':');
    const bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
    into.push_back(has_port ? std::stoi(authority.substr(colon + 1)) : 443);
}

}  // namespace

std::vector<Option> sandbox_option_rows() {
    return {Option::flag("no-sandbox",
                         "do not restrict the running server with Landlock (by default, once started, it may read only "
                         "its certificate, key, trust bundle and CRL directories and the time zones, write only what "
                         "--renew-from replaces, and connect only to --crl-url, --renew-from, the OAuth authorization "
                         "server and DNS)")
                .configurable()};
}

SandboxRules server_sandbox_rules(const ServerConfig& config) {
    SandboxRules rules;
    const auto& files = config.tls.files;
    for (const auto* path : {&files.cert_path, &files.key_path, &files.ca_path, &files.crl_path})
        add_directories_of(*path, rules.read);
    // The time-zone database is read when a zone is first used; /proc/self by the C library.
    for (const char* system : {"/usr/share/zoneinfo", "/etc/localtime", "/etc/timezone", "/proc/self", "/dev/urandom"})
        rules.system_read.push_back(system);
    add_port_of(files.crl_url, rules.connect_ports);
    add_port_of(config.renew_from, rules.connect_ports);
    // OAuth: the authorization server's metadata, keys (where discovery at start found them) and
    // introspection, and the bundle that judges it.
    add_port_of(config.oauth.settings.issuer, rules.connect_ports);
    add_port_of(config.oauth.settings.introspection_url, rules.connect_ports);
    if (config.runtime.oauth) add_port_of(config.runtime.oauth->jwks_uri(), rules.connect_ports);
    add_directories_of(config.oauth.ca_path, rules.read);
    if (!rules.connect_ports.empty()) {
        // Looking the CA's name up, and the system's trust folders a TLS client may consult.
        for (const char* resolver : {"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
                                     "/etc/services", "/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/lib/ssl"})
            rules.system_read.push_back(resolver);
        rules.connect_ports.push_back(53);  // DNS over TCP
    }
    if (!config.renew_from.empty())
        for (const auto* path : {&config.renewal_paths.cert_path, &config.renewal_paths.key_path, &config.renewal_paths.roots_path})
            if (!path->empty()) rules.write.push_back(parent_of(*path));
    for (auto* list : {&rules.read, &rules.write}) {
        std::vector<std::string> unique;
        for (auto& path : *list)
            if (std::find(unique.begin(), unique.end(), path) == unique.end()) unique.push_back(std::move(path));
        *list = std::move(unique);
    }
    return rules;
}

void enter_sandbox(const SandboxRules& rules) {
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        const std::string why = errno == ENOSYS       ? "the kernel has no Landlock"
                                : errno == EOPNOTSUPP ? "Landlock is disabled in this kernel (boot option lsm=)"
                                                      : "Landlock is unavailable: " + errno_text();
        log_event(spdlog::level::warn, "sandbox_unavailable",
                  {{"reason", why}, {"effect", "the server runs without a file-system sandbox"}});
        return;
    }
    const int version = static_cast<int>(abi);
    RulesetAttr attr{fs_rights(version), version >= 4 ? kNetBindTcp | kNetConnectTcp : 0,
                     version >= 6 ? kScopeAbstractUnixSocket | kScopeSignal : 0};
    const Fd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, ruleset_size(version), 0)));
    if (ruleset.get() < 0) throw Error(kExitFailed, "sandbox: cannot create a Landlock ruleset: " + errno_text() + " (--no-sandbox runs without)");
    nlohmann::json read = nlohmann::json::array(), write = nlohmann::json::array();
    for (const auto& path : rules.read)
        if (allow_path(ruleset.get(), path, kReadDir, attr.handled_access_fs)) read.push_back(path);
    for (const auto& path : rules.system_read) try {
            if (allow_path(ruleset.get(), path, kReadDir, attr.handled_access_fs)) read.push_back(path);
        } catch (const Error& e) {
            log_event(spdlog::level::debug, "sandbox_rule_skipped", {{"reason", e.what()}});
        }
    for (const auto& path : rules.write)
        if (allow_path(ruleset.get(), path, kReplaceFiles, attr.handled_access_fs)) write.push_back(path);
    if (attr.handled_access_net)
        for (int port : rules.connect_ports) {
            NetPortAttr rule{kNetConnectTcp, static_cast<uint64_t>(port)};
            if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRuleNetPort, &rule, 0) != 0)
                throw Error(kExitFailed, "sandbox: the kernel refused the rule for port " + std::to_string(port) + ": " + errno_text());
        }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw Error(kExitFailed, "sandbox: cannot set no_new_privs: " + errno_text());
    if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
        throw Error(kExitFailed, "sandbox: Landlock refused to restrict the server: " + errno_text() + " (--no-sandbox runs without)");
    log_event(spdlog::level::info, "sandbox",
              {{"landlock_abi", version},
               {"read", read},
               {"write", write},
               {"connect_ports", attr.handled_access_net ? nlohmann::json(rules.connect_ports) : nlohmann::json("any (Landlock ABI < 4)")}});
}

}  // namespace mcpmtls::server
