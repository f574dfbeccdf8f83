#include "base/memory_lock.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#endif

namespace mmojo {

std::string lock_mapped_memory() {
#if (defined(__unix__) || defined(__APPLE__)) && defined(MCL_CURRENT)
    if (mlockall(MCL_CURRENT) == 0) return "";
    const int err = errno;
    std::string why = std::string("mlockall failed: ") + std::strerror(err);
    struct rlimit limit {};
    if ((err == ENOMEM || err == EAGAIN || err == EPERM) && getrlimit(RLIMIT_MEMLOCK, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY) {
        why += " (the memory-lock limit is " + std::to_string(uint64_t(limit.rlim_cur) / 1024) +
               " KiB; raise it with ulimit -l)";
    }
    return why;
#else
    return "this platform has no mlockall";
#endif
}

}  // namespace mmojo
