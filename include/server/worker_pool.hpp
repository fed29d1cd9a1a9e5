#pragma once
// The server's worker threads: cpp-httplib's TaskQueue, one job per accepted connection, which
// holds its worker until the connection closes. Unlike httplib's ThreadPool, a connection that
// has to wait for a worker gets one within a fraction of a second: connections that just got
// an answer are asked to close, and the ConnectionGovernor closes idle keep-alive connections
// (and, every round, handshakes that have run out of time).
#include "server/connection_governor.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <httplib.h>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

namespace mcpmtls::server {

class WorkerPool : public httplib::TaskQueue {
public:
    WorkerPool(size_t threads, ConnectionGovernor& governor);
    ~WorkerPool() override;

    void enqueue(std::function<void()> job) override;
    void shutdown() override;

    // Called as a request's answer is ready: true if connections are waiting for a worker and
    // this one should give its worker up ("Connection: close").
    bool should_yield();

    // A worker's life: take jobs (connections) until shut down.
    void work();

private:
    void steward();
    size_t short_of_locked() const;

    ConnectionGovernor& governor_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable steward_wake_;
    std::deque<std::function<void()>> jobs_;
    size_t idle_workers_ = 0;
    // Workers promised to waiting jobs (connections told to close) since the steward's last
    // round; reset each round so that a client that ignores "Connection: close" cannot make
    // the pool believe room is on its way for ever.
    size_t room_being_made_ = 0;
    bool stopping_ = false;
    std::vector<pthread_t> threads_;  // created with a small stack (pthread, not std::thread)
    std::thread steward_;
};

}  // namespace mcpmtls::server
