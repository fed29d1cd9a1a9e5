#include "server/malloc_tuning.hpp"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace mcpmtls::server {
namespace {

// Why: glibc keeps at most 7 freed blocks of each size per thread (its tcache). Parsing a request
// into a JSON tree and dropping it frees more blocks of one size than that (the tree's map nodes),
// and the rest go back to an arena shared by many threads, under the arena's lock. With hundreds
// of connections, each on its own worker thread, those locks are contended: at 256 kept-alive
// connections the futex calls of malloc doubled for MCP 2026-07-28 requests (whose envelope makes
// the tree larger) and cost them about 8% more server CPU. 64 blocks per size hold a request's
// tree, and the memory they keep per thread is small (see the RSS rows of make bench).
constexpr const char* kTcacheTunable = "glibc.malloc.tcache_count=64";

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kOwnMalloc = false;  // the sanitizer's allocator replaces glibc's
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kOwnMalloc = false;
#else
constexpr bool kOwnMalloc = true;
#endif
#else
constexpr bool kOwnMalloc = true;
#endif

}  // namespace

void ensure_malloc_tuning(char** argv) {
#ifdef __GLIBC__
    if (!kOwnMalloc || argv == nullptr || argv[0] == nullptr) return;
    // Once only: the marker stops a second exec even where the loader drops GLIBC_TUNABLES.
    if (std::getenv("MCPMTLS_MALLOC_TUNED") != nullptr) return;
    const char* current = std::getenv("GLIBC_TUNABLES");
    const std::string tunables = current ? current : "";
    if (tunables.find("glibc.malloc.tcache_count=") != std::string::npos) return;  // the user's choice
    const std::string extended = tunables.empty() ? kTcacheTunable : tunables + ":" + kTcacheTunable;
    if (::setenv("GLIBC_TUNABLES", extended.c_str(), 1) != 0 || ::setenv("MCPMTLS_MALLOC_TUNED", "1", 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    // Not reached unless the exec failed (no /proc, say): run untuned, with the environment as it was.
    if (current) ::setenv("GLIBC_TUNABLES", current, 1);
    else ::unsetenv("GLIBC_TUNABLES");
#else
    (void)argv;
#endif
}

std::string malloc_tunables() {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    return tunables ? tunables : "";
}

}  // namespace mcpmtls::server
