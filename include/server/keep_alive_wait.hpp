#pragma once
// How a worker waits for the next request on a kept-alive connection (see keep_alive_wait.cpp).
#include <chrono>

namespace mcpmtls::server {

// The longest single wait for a kept-alive connection's next request: an idle connection wakes
// its worker this often instead of every 11 ms. Its keep-alive timeout ends it at most this late.
constexpr std::chrono::milliseconds kKeepAliveWaitSlice{1000};

// Tells the calling worker thread which connection (socket descriptor) it now serves.
void serving_connection(int fd);

}  // namespace mcpmtls::server
