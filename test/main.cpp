// Catch2's main, with the product's log quiet: tests read the servers' logs from their files.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <csignal>
#include <spdlog/spdlog.h>

int main(int argc, char* argv[]) {
    spdlog::set_level(spdlog::level::off);
    // Like the binaries: a peer that closes a connection is an error to handle, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    return Catch::Session().run(argc, argv);
}
