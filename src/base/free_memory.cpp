// See free_memory.h.
#include "base/free_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mmojo {

void return_free_memory() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

}  // namespace mmojo
