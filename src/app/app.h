// Top-level dispatch of the mmojo-server executable: `pack ...` goes to the packager,
// `--help` / `--version` print and exit, `--cli` runs one generation on stdout, anything
// else starts the HTTP server. The server and packager live in libraries that the engine
// library cannot depend on, so main() hands them in as callbacks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/options.h"
#include "kernels/dispatch.h"

namespace mmojo {

struct ModeHandlers {
    // Server mode: run_server(const Options&) from src/server/server.h (null: not built).
    std::function<int(const Options&)> server;
    // `pack` subcommand: run_pack(args after "pack") from src/package/pack.h (null: not built).
    std::function<int(std::vector<std::string>)> pack;
};

// The kernel level for --cpu-features: "" = the best this CPU has; otherwise the named level,
// which must belong to this CPU's family and not exceed what it supports (throws
// OptionsError naming --cpu-features otherwise).
CpuLevel resolve_cpu_level(const std::string& name);

// args: the command line without the program name (args files already merged in).
// Returns the process exit code: 0 on success, 1 on a bad command line or a failure, each
// with a one-line "error: ..." on stderr.
int run_main(const std::string& program, const std::vector<std::string>& args, const ModeHandlers& handlers);

}  // namespace mmojo
