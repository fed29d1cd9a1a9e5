#pragma once
// Landlock: once a server has read its settings and credentials and bound its listener, it gives
// up the file system except what it still reads (its certificate, key, trust bundle and CRL, by
// their directories, so that a file replaced by rename or a kubelet `..data` swap still
// reloads; the time-zone database; /proc/self), and writes nothing but the files a renewal
// (--renew-from) replaces. On kernels that allow it, it binds no further port and connects only
// to the ports of its --crl-url, --renew-from and OAuth authorization server (and DNS). Landlock
// restricts the thread that asks and the threads it starts later, so the server enters the
// sandbox before it starts any.
#include "common/options.hpp"

#include <string>
#include <vector>

namespace mcpmtls::server {

struct ServerConfig;

struct SandboxRules {
    std::vector<std::string> read;   // files, or directories with everything beneath them
    std::vector<std::string> system_read;  // the same, best effort: a rule the kernel refuses is left out
    std::vector<std::string> write;  // directories whose files may be created and replaced
    std::vector<int> connect_ports;  // TCP ports it may still connect to; none: no outgoing TCP
};

// The --no-sandbox row.
std::vector<Option> sandbox_option_rows();

// What a server with `config` needs once it serves.
SandboxRules server_sandbox_rules(const ServerConfig& config);

// Restricts the calling thread and every thread it starts from now on, with the highest Landlock
// ABI the kernel offers, and logs what it allowed. On a kernel without Landlock it logs that once
// and carries on (best effort). Throws Error when the kernel has Landlock but refuses the rules.
void enter_sandbox(const SandboxRules& rules);

}  // namespace mcpmtls::server
