#pragma once
// Errors carry a clear one-line message; the binaries' main() turn them into exit codes.
#include <stdexcept>
#include <string>

namespace mcpmtls {

// Exit codes shared by every command (shared/design.md).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,        // the operation failed or a verification was negative
    kExitUsage = 2,         // usage or input error
    kExitVerification = 3,  // client: TLS/certificate verification failed
};

class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

// Bad flags, unreadable or malformed input files, wrong passphrase: exit 2.
struct InputError : Error {
    explicit InputError(const std::string& message) : Error(kExitUsage, message) {}
};

// The operation was understood but cannot be done (CA exists, name taken...): exit 1.
struct OperationError : Error {
    explicit OperationError(const std::string& message) : Error(kExitFailed, message) {}
};

}  // namespace mcpmtls
