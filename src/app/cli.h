// CLI mode (--cli): load the model, evaluate the prompt, stream -n sampled tokens to stdout
// as their pieces arrive, print timings to stderr.
#pragma once

#include "app/options.h"

namespace mmojo {

// Returns the exit code; errors (no model, unreadable model, prompt longer than the
// context) are reported on stderr as "error: ..." with exit code 1.
int run_cli(const Options& options);

}  // namespace mmojo
