// Catch2's main, with the product's log quiet: tests read the servers' logs from their files.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

int main(int argc, char* argv[]) {
    spdlog::set_level(spdlog::level::off);
    return Catch::Session().run(argc, argv);
}
