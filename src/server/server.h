// The llama-server-compatible HTTP server: starts listening at once (GET /health answers
// 503 with load progress while the model loads), loads the model, then serves the API
// until SIGINT/SIGTERM. Returns the process exit code.
#pragma once

#include "app/options.h"

namespace mmojo {

int run_server(const Options& options);

}  // namespace mmojo
