// Hands freed heap memory back to the operating system. glibc keeps freed blocks of a big
// request (a 10 MB prompt's tokens and JSON) in its arenas, so the server's resident size
// stayed at its peak; malloc_trim releases them. Other C libraries (musl's mallocng, the
// Windows and macOS heaps) already return large blocks when they are freed: a no-op there.
#pragma once

namespace mmojo {

void return_free_memory();

}  // namespace mmojo
