#include "server/worker_pool.hpp"

namespace mcpmtls::server {
namespace {
constexpr std::chrono::milliseconds kStewardInterval{50};
}

WorkerPool::WorkerPool(size_t threads, ConnectionGovernor& governor) : governor_(governor) {
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
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
    steward_.join();
    for (auto& thread : threads_) thread.join();
}

}  // namespace mcpmtls::server
