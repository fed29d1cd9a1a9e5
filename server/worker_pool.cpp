#include "server/worker_pool.hpp"

#include "common/error.hpp"

#include <cstring>

namespace mcpmtls::server {
namespace {

constexpr std::chrono::milliseconds kStewardInterval{50};

// A worker's stack: a handshake (OpenSSL, the Botan path validation) and a request (JSON
// parsing, a tool) need well under this; the default 8 MiB would make a thousand workers cost
// 8 GiB of address space. Sanitizers need room for their own frames.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kWorkerStack = 8 * 1024 * 1024;
#else
constexpr size_t kWorkerStack = 512 * 1024;
#endif

void* run_worker(void* pool) {
    static_cast<WorkerPool*>(pool)->work();
    return nullptr;
}

}  // namespace

WorkerPool::WorkerPool(size_t threads, ConnectionGovernor& governor) : governor_(governor) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, kWorkerStack);
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
        pthread_t thread;
        if (const int error = pthread_create(&thread, &attributes, run_worker, this); error != 0) {
            pthread_attr_destroy(&attributes);
            shutdown();
            throw Error(kExitFailed, "cannot start worker thread " + std::to_string(i + 1) + ": " + std::strerror(error));
        }
        threads_.push_back(thread);
    }
    pthread_attr_destroy(&attributes);
    steward_ = std::thread([this] { steward(); });
}

WorkerPool::~WorkerPool() {
    shutdown();
}

size_t WorkerPool::short_of_locked() const {
    const size_t promised = idle_workers_ + room_being_made_;
    return jobs_.size() > promised ? jobs_.size() - promised : 0;
}

void WorkerPool::enqueue(std::function<void()> job) {
    bool short_of_workers;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(std::move(job));
        short_of_workers = short_of_locked() > 0;
    }
    wake_.notify_one();
    if (short_of_workers) steward_wake_.notify_one();
}

bool WorkerPool::should_yield() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (short_of_locked() == 0) return false;
    ++room_being_made_;
    return true;
}

void WorkerPool::work() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            ++idle_workers_;
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            --idle_workers_;
            if (jobs_.empty()) return;  // stopping, and every accepted connection has been served
            job = std::move(jobs_.front());
            jobs_.pop_front();
            if (room_being_made_ > 0) --room_being_made_;
        }
        job();
    }
}

// Ends handshakes that have run out of time and, while connections wait for a worker, closes
// idle keep-alive connections for them. Lock order: pool, then governor (the governor never
// calls back into the pool).
void WorkerPool::steward() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        steward_wake_.wait_for(lock, kStewardInterval);
        if (stopping_) break;
        governor_.close_overdue_handshakes();
        const size_t short_of = short_of_locked();
        room_being_made_ = governor_.make_room(short_of);
    }
}

void WorkerPool::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    steward_wake_.notify_all();
    if (steward_.joinable()) steward_.join();
    governor_.close_idle();  // workers waiting for a kept-alive connection's next request return at once
    for (pthread_t thread : threads_) pthread_join(thread, nullptr);
    threads_.clear();
    governor_.flush_failure_summaries();  // every connection is gone: their reasons are all in
}

}  // namespace mcpmtls::server
