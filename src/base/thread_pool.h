// A persistent fork-join thread pool shared by all matrix work of a context.
//
// `run(fn)` calls fn(ith, nth) on nth threads (the caller is thread 0) and returns when all
// of them are done. Token generation on small models makes thousands of such calls per
// second, so the hand-off is cheap: workers spin on a generation counter for a short while
// after each job and only then sleep on a condition variable. Only std::thread, std::atomic
// and std::condition_variable are used, so it builds with mingw and on macOS alike.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmojo {

// Physical cores of this machine (not hyper-threads); falls back to
// std::thread::hardware_concurrency() and never returns less than 1.
int physical_core_count();

class ThreadPool {
public:
    // n_threads <= 0: physical_core_count(). The pool keeps n_threads - 1 workers.
    explicit ThreadPool(int n_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return n_threads_; }

    // Jobs use at most n threads from now on (clamped to [1, n_threads()]); lets one pool
    // serve llama.cpp's two counts, -t for generation and -tb for prompt batches. Call
    // between jobs, from the thread that calls run().
    void set_active_threads(int n);
    int active_threads() const { return active_; }

    // Calls fn(ith, nth) for ith in [0, nth) on nth threads and waits for all of them.
    // nth = min(max_threads, n_threads()) (max_threads <= 0: all). Must not be called
    // from inside a job or from two threads at once.
    void run(const std::function<void(int ith, int nth)>& fn, int max_threads = 0);

    // Splits [0, n) into contiguous ranges, each a multiple of `grain` (except the last),
    // and calls fn(begin, end, ith) for each, on whichever thread is free next: a few
    // ranges per thread, so a thread that the OS or a neighbour slows down (or that got
    // the heavier rows, as in causal attention) does not hold the others up. Uses fewer
    // threads when there is too little work for all of them.
    void parallel_for(int64_t n, int64_t grain,
                      const std::function<void(int64_t begin, int64_t end, int ith)>& fn);

private:
    void worker_loop(int ith);

    int n_threads_ = 1;
    int active_ = 1;
    std::vector<std::thread> workers_;

    // The current job; written by run() before the generation is published.
    const std::function<void(int, int)>* job_ = nullptr;
    int job_nth_ = 1;

    std::atomic<uint64_t> generation_{0};   // bumped once per job
    std::atomic<int> pending_{0};           // workers that have not finished the job
    std::atomic<int> sleepers_{0};          // workers blocked on wake_
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable wake_;

    // The first exception a worker threw in the current job, rethrown by run().
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

}  // namespace mmojo
