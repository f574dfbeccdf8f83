// Fork-join thread pool (see thread_pool.h) and the physical core count per platform.
//
// Hand-off protocol: run() stores the job, sets `pending_` to the number of workers and
// bumps `generation_`. Each worker notices the new generation (spinning, or woken from the
// condition variable), calls the job if its index is below nth and decrements `pending_`.
// Every worker acknowledges every job, so the job fields are never written while a worker
// could still read them. A worker sleeps only after announcing itself in `sleepers_`; run()
// reads `sleepers_` after the bump (both sequentially consistent), so either the worker
// sees the new generation before sleeping or run() sees the sleeper and notifies it.
#include "base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

namespace mmojo {

namespace {

// A hint to the CPU that we are in a spin-wait loop.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// How long a worker keeps polling for the next job before it sleeps. Generation on a small
// model issues a job every few microseconds, so this covers the gap between two jobs.
constexpr auto kSpinTime = std::chrono::microseconds(300);
// Polls with only a pause instruction in between before polls start yielding the core.
constexpr int kPureSpins = 1000;

#if defined(__linux__)
// Counts distinct (package, core) pairs in /sys; 0 when the topology is not readable.
int linux_physical_cores() {
    std::set<std::pair<int, int>> cores;
    for (int cpu = 0; cpu < 4096; ++cpu) {
        const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        std::ifstream core_file(dir + "core_id");
        if (!core_file) {
            if (cpu > 0 && cores.empty()) return 0;
            // CPUs may be numbered with holes when some are offline; stop after a long gap.
            bool any_later = false;
            for (int next = cpu + 1; next < cpu + 64 && next < 4096; ++next) {
                std::ifstream probe("/sys/devices/system/cpu/cpu" + std::to_string(next) +
                                    "/topology/core_id");
                if (probe) {
                    any_later = true;
                    break;
                }
            }
            if (!any_later) break;
            continue;
        }
        int core_id = -1;
        int package_id = 0;
        core_file >> core_id;
        std::ifstream package_file(dir + "physical_package_id");
        if (package_file) package_file >> package_id;
        if (core_id >= 0) cores.insert({package_id, core_id});
    }
    return int(cores.size());
}
#endif

}  // namespace

int physical_core_count() {
    int logical = int(std::thread::hardware_concurrency());
    int physical = 0;
#if defined(_WIN32)
    DWORD length = 0;
    GetLogicalProcessorInformationEx(RelationProcessorCore, nullptr, &length);
    if (length > 0) {
        std::vector<char> buffer(length);
        auto* info = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data());
        if (GetLogicalProcessorInformationEx(RelationProcessorCore, info, &length)) {
            for (DWORD offset = 0; offset < length;) {
                auto* item = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(
                    buffer.data() + offset);
                if (item->Relationship == RelationProcessorCore) ++physical;
                if (item->Size == 0) break;
                offset += item->Size;
            }
        }
    }
#elif defined(__APPLE__)
    int32_t value = 0;
    size_t size = sizeof(value);
    if (sysctlbyname("hw.physicalcpu", &value, &size, nullptr, 0) == 0) physical = int(value);
#elif defined(__linux__)
    physical = linux_physical_cores();
#endif
    if (physical <= 0) physical = logical;
    if (logical > 0) physical = std::min(physical, logical);
    return std::max(physical, 1);
}

ThreadPool::ThreadPool(int n_threads) {
    n_threads_ = n_threads > 0 ? n_threads : physical_core_count();
    active_ = n_threads_;
    workers_.reserve(size_t(n_threads_ - 1));
    for (int ith = 1; ith < n_threads_; ++ith) {
        workers_.emplace_back([this, ith] { worker_loop(ith); });
    }
}

ThreadPool::~ThreadPool() {
    stop_.store(true, std::memory_order_seq_cst);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    {
        std::lock_guard<std::mutex> lock(mutex_);
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void ThreadPool::worker_loop(int ith) {
    uint64_t seen = 0;
    for (;;) {
        // Wait for a generation other than the one we handled last.
        uint64_t current = generation_.load(std::memory_order_acquire);
        if (current == seen) {
            const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
            int spins = 0;
            while ((current = generation_.load(std::memory_order_acquire)) == seen) {
                // Busy-wait briefly, then keep polling but give the core away between
                // polls, so that an oversubscribed machine still makes progress.
                if (++spins < kPureSpins) {
                    cpu_relax();
                } else {
                    std::this_thread::yield();
                }
                if (spins % 64 == 0 && std::chrono::steady_clock::now() > deadline) break;
            }
        }
        if (current == seen) {
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] {
                    return generation_.load(std::memory_order_seq_cst) != seen;
                });
            }
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
            current = generation_.load(std::memory_order_acquire);
        }
        seen = current;
        if (stop_.load(std::memory_order_acquire)) return;

        if (ith < job_nth_) {
            try {
                (*job_)(ith, job_nth_);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex_);
                if (!error_) error_ = std::current_exception();
            }
        }
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::set_active_threads(int n) { active_ = std::clamp(n, 1, n_threads_); }

void ThreadPool::run(const std::function<void(int, int)>& fn, int max_threads) {
    int nth = active_;
    if (max_threads > 0) nth = std::min(nth, max_threads);
    if (nth <= 1 || workers_.empty()) {
        fn(0, 1);
        return;
    }

    job_ = &fn;
    job_nth_ = nth;
    pending_.store(int(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
        }
        wake_.notify_all();
    }

    std::exception_ptr own_error;
    try {
        fn(0, nth);
    } catch (...) {
        own_error = std::current_exception();
    }

    int spins = 0;
    while (pending_.load(std::memory_order_acquire) != 0) {
        cpu_relax();
        if (++spins > kPureSpins) std::this_thread::yield();
    }
    job_ = nullptr;

    if (own_error) std::rethrow_exception(own_error);
    std::exception_ptr worker_error;
    {
        std::lock_guard<std::mutex> lock(error_mutex_);
        std::swap(worker_error, error_);
    }
    if (worker_error) std::rethrow_exception(worker_error);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    const int64_t n_grains = (n + grain - 1) / grain;
    const int nth = int(std::min<int64_t>(active_, n_grains));
    if (nth <= 1) {
        fn(0, n, 0);
        return;
    }
    // kRangesPerThread ranges per thread on average: enough to even out a slow thread,
    // few enough that each range stays long (a kernel's prefetch stops at a range's end).
    constexpr int64_t kRangesPerThread = 4;
    const int64_t chunk = std::max<int64_t>(1, n_grains / (nth * kRangesPerThread)) * grain;
    std::atomic<int64_t> next{0};
    run(
        [&](int ith, int) {
            for (;;) {
                const int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
                if (begin >= n) break;
                fn(begin, std::min(n, begin + chunk), ith);
            }
        },
        nth);
}

}  // namespace mmojo
