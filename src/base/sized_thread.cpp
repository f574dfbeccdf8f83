// See sized_thread.h.
#include "base/sized_thread.h"

#include <system_error>

#if defined(_WIN32)
#include <thread>
#else
#include <pthread.h>
#endif

namespace mmojo {

#if defined(_WIN32)

struct SizedThread::Impl {
    std::thread thread;
};

SizedThread::SizedThread(std::function<void()> fn, size_t) : impl_(std::make_unique<Impl>()) {
    impl_->thread = std::thread(std::move(fn));
}

void SizedThread::join() {
    if (impl_ && impl_->thread.joinable()) impl_->thread.join();
}

#else

struct SizedThread::Impl {
    pthread_t thread{};
    bool joinable = false;
    std::function<void()> fn;
};

namespace {
void* run_sized_thread(void* arg) {
    auto* impl = static_cast<SizedThread::Impl*>(arg);
    impl->fn();
    return nullptr;
}
}  // namespace

SizedThread::SizedThread(std::function<void()> fn, size_t stack_bytes) : impl_(std::make_unique<Impl>()) {
    impl_->fn = std::move(fn);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_bytes);
    const int r = pthread_create(&impl_->thread, &attr, run_sized_thread, impl_.get());
    pthread_attr_destroy(&attr);
    if (r != 0) throw std::system_error(r, std::generic_category(), "pthread_create");
    impl_->joinable = true;
}

void SizedThread::join() {
    if (impl_ && impl_->joinable) {
        pthread_join(impl_->thread, nullptr);
        impl_->joinable = false;
    }
}

#endif

SizedThread::~SizedThread() { join(); }

}  // namespace mmojo
