#pragma once
// A program whose stdin and stdout are pipes held by the test, as an MCP host holds a stdio
// server's: the test writes lines, reads lines with a deadline, closes stdin, sends signals.
// stderr goes to a log file (the bridge logs there, and stdout must carry messages only).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mcpmtls::testing {

class StdioProcess {
public:
    StdioProcess(std::vector<std::string> argv, std::string log_path);
    ~StdioProcess();  // SIGKILL if still running
    StdioProcess(const StdioProcess&) = delete;
    StdioProcess& operator=(const StdioProcess&) = delete;

    bool write(const std::string& bytes);  // false once the program stopped reading
    bool write_line(const std::string& line) { return write(line + "\n"); }
    void close_stdin();
    // The next line the program wrote (without its newline), or nothing within `wait`.
    std::optional<std::string> read_line(std::chrono::milliseconds wait = std::chrono::seconds(20));
    // Every line read so far, in order.
    const std::vector<std::string>& lines() const { return lines_; }

    int pid() const { return pid_; }
    void signal(int sig) const;
    // The exit status once the program exits within `timeout`; -1 if it did not (it keeps running).
    int wait_exit(std::chrono::milliseconds timeout);
    std::string log() const;
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
    int pid_ = -1;
    int status_ = -1;
    int in_fd_ = -1;
    int out_fd_ = -1;
    std::string log_path_;
    std::string pending_;  // read from stdout, not yet a whole line
    std::vector<std::string> lines_;
};

}  // namespace mcpmtls::testing
