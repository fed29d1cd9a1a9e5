#pragma once
// Shared by the libFuzzer targets: the contract they check is "every input either works or
// ends in mcpmtls::Error (a one-line message, an exit code)". Any other exception escaping,
// a crash, a leak or undefined behaviour is a finding.
#include "common/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <spdlog/spdlog.h>

namespace mcpmtls::fuzz {

inline void quiet_logging() {
    static const bool once = [] {
        spdlog::set_level(spdlog::level::off);
        return true;
    }();
    (void)once;
}

template <typename Body>
void expect_clean_outcome(Body&& body) {
    try {
        body();
    } catch (const mcpmtls::Error&) {
        // A refusal with a message: the outcome these inputs are supposed to get.
    } catch (const std::exception& e) {
        std::fprintf(stderr, "escaped exception: %s\n", e.what());
        std::abort();
    }
}

}  // namespace mcpmtls::fuzz
