#pragma once
// Test support: temporary directories, running the real binaries, background servers.
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
    std::string all() const { return out + err; }
};

// Runs argv (no shell) with a timeout; stdout and stderr captured separately.
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));
// Runs a shell command line (for openssl pipelines); same capture.
CommandResult run_shell(const std::string& command_line);

// A loopback TCP port that was free a moment ago (for programs that cannot take port 0).
int free_tcp_port();

// A plain TCP connection to a loopback port, for sending exactly the bytes a test wants (or
// none) and watching what the server does with the connection.
class TcpConnection {
public:
    explicit TcpConnection(int port);  // throws std::runtime_error if the connect fails
    ~TcpConnection();
    TcpConnection(const TcpConnection&) = delete;
    TcpConnection& operator=(const TcpConnection&) = delete;
    bool send(const std::string& bytes);
    // Everything received until the server closes the connection or `wait` passes.
    std::string receive(std::chrono::milliseconds wait);
    // True if the server closed (or reset) the connection within `wait`; data it sends is skipped.
    bool closed_by_server_within(std::chrono::milliseconds wait);

private:
    int fd_ = -1;
};

// A file of the source tree (tests run from its root, as make test runs them).
std::string source_path(const std::string& relative);

// Absolute path of a built program, from MCPMTLS_BIN.
std::string bin_path(const std::string& name);
// True when the binaries under test are sanitizer builds (make test-sanitize / test-tsan set
// MCPMTLS_SANITIZED=1): their allocator replaces glibc's.
bool binaries_are_sanitized();
// False for sanitizer builds: their shadow memory and quarantine make RSS figures meaningless.
bool rss_is_meaningful();
// The resident memory of process `pid` in KiB (VmRSS), -1 if unreadable.
long rss_kib(int pid);

std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text);

// A program running in the background, output to a log file; killed by the destructor.
class BackgroundProcess {
public:
    BackgroundProcess(std::vector<std::string> argv, const std::string& log_path);
    ~BackgroundProcess();
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    int pid() const { return pid_; }
    void signal(int sig) const;
    int stop(std::chrono::seconds timeout = std::chrono::seconds(15));  // SIGTERM, wait; the exit status
    bool running();
    std::string log() const;
    // Waits until the log contains `text` (true) or the time runs out (false).
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
                      size_t occurrences = 1) const;

private:
    int pid_ = -1;
    int status_ = -1;
    std::string log_path_;
};

}  // namespace mcpmtls::testing
