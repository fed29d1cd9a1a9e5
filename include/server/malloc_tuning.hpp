#pragma once
#include <string>

// glibc's malloc, tuned for a server that answers each request on a thread of its own.

namespace mcpmtls::server {

// Makes sure the process runs with a larger per-thread cache of freed blocks
// (glibc.malloc.tcache_count), which glibc reads only at start: when it is not set yet, the
// program executes itself again, same PID and arguments, with GLIBC_TUNABLES extended. A value
// the user set is kept. Returns normally when there is nothing to do or the exec fails.
void ensure_malloc_tuning(char** argv);

// GLIBC_TUNABLES as this process runs with it ("" when unset), for the start-up log line.
std::string malloc_tunables();

}  // namespace mcpmtls::server
