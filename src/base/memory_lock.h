// --mlock: keep what the process has mapped so far (the model file above all) in RAM, so the
// operating system never pages it out. Called once the model is loaded.
#pragma once

#include <string>

namespace mmojo {

// Locks every page the process maps now (POSIX mlockall(MCL_CURRENT)); the pages are read
// in at once. Returns "" on success, else why it failed (e.g. the RLIMIT_MEMLOCK limit, or
// no such call on this platform), for a warning: like llama.cpp, a failed lock is not fatal.
std::string lock_mapped_memory();

}  // namespace mmojo
