#pragma once
namespace mcpmtls::client {
// The whole main() of bin/client; returns the exit code (0 ok, 1 failed, 2 usage, 3 TLS).
int run_client(int argc, char** argv);
}  // namespace mcpmtls::client
