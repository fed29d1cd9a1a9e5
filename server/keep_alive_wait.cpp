// cpp-httplib 0.11 waits for a kept-alive connection's next request with a loop of poll() with a
// 10 ms timeout and a 1 ms sleep, until its keep-alive timeout: about 90 wake-ups a second for
// every idle connection (100 idle connections cost 15% of a core, 1,000 more than a core). The
// library is Debian's shared build, so that loop cannot be changed where it is written; its
// poll() call can: this definition in the server binary is found before libc's, and turns exactly
// that call (the descriptor of the connection this worker serves, POLLIN, 10 ms) into one wait
// of up to kKeepAliveWaitSlice. Every other poll() in the process is passed on unchanged.
// Nothing is lost by waiting longer: a request, the client closing, the governor shutting the
// socket down to make room or at shutdown all make the socket readable and end the wait at once,
// and the library still enforces the keep-alive timeout after each wait.
#include "server/keep_alive_wait.hpp"

#include <ctime>
#include <poll.h>

namespace mcpmtls::server {
namespace {

// cpp-httplib's keep-alive poll timeout (detail::keep_alive: select_read(sock, 0, 10000)).
constexpr int kLibraryKeepAlivePollMs = 10;

thread_local int served_fd = -1;

int wait_for(struct pollfd* fds, nfds_t count, int timeout_ms) {
    if (timeout_ms < 0) return ::ppoll(fds, count, nullptr, nullptr);
    const timespec timeout{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
    return ::ppoll(fds, count, &timeout, nullptr);
}

}  // namespace

void serving_connection(int fd) { served_fd = fd; }

}  // namespace mcpmtls::server

// glibc declares poll()'s array write-only when fortified (it is read and written): reading
// `events` here is right.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
extern "C" int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
    using namespace mcpmtls::server;
    if (count == 1 && timeout_ms == kLibraryKeepAlivePollMs && fds[0].events == POLLIN && fds[0].fd >= 0 && fds[0].fd == served_fd)
        timeout_ms = static_cast<int>(kKeepAliveWaitSlice.count());
    return wait_for(fds, count, timeout_ms);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
