// Keeps the heap from holding on to the memory of big requests. glibc serves a block that
// was once freed from mmap out of its arenas from then on (its mmap threshold rises to
// the largest block freed, up to 32 MiB), and arena memory mostly stays resident: a few
// 10 MB prompts left the server 60-350 MB larger for good (measured). Fixing the
// threshold keeps blocks of 256 KiB and more on mmap, which free() unmaps at once.
// Other C libraries (musl's mallocng, the Windows and macOS heaps) already return large
// blocks when they are freed: no-ops there.
#pragma once

namespace mmojo {

// Call once at start-up, before serving.
void keep_large_blocks_unmapped();

// Hands free arena memory back to the OS (after a big request).
void return_free_memory();

}  // namespace mmojo
