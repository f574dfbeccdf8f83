// A thread with a stack of a chosen size. std::thread takes the platform's default for new
// threads: 8 MiB on glibc Linux, but 512 KiB on macOS and 128 KiB on musl (our static
// Linux builds), where a chat template at the interpreter's recursion limit (400 nested
// calls, about 200 KiB) overflowed the stack. POSIX threads get the size asked for;
// Windows threads keep the executable's default reservation (1 MiB), which is enough.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace mmojo {

class SizedThread {
public:
    static constexpr size_t kDefaultStackBytes = 8u << 20;

    // Starts `fn` on a new thread; throws std::system_error when the OS refuses.
    explicit SizedThread(std::function<void()> fn, size_t stack_bytes = kDefaultStackBytes);
    ~SizedThread();   // joins
    SizedThread(const SizedThread&) = delete;
    SizedThread& operator=(const SizedThread&) = delete;

    void join();

    struct Impl;   // (public so the platform's thread entry function can reach it)

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace mmojo
