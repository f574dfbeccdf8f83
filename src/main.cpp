// mmojo-server entry point: merges args files into the command line (src/package/) and hands
// the result to run_main (src/app/app.h), which parses the options and picks the mode.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "app/app.h"
#include "package/portable/embedded.h"
#include "package/portable/launcher_windows.h"
#include "package/pack.h"
#include "server/server.h"

int main(int argc, char** argv) {
    // x86_64 Windows build on an ARM64 machine: run the embedded native ARM64 build instead.
    if (int rc = mmojo::relaunch_native_windows(); rc >= 0) return rc;
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        // Embedded args, then an adjacent args file, then the command line (unchanged for `pack`).
        args = mmojo::final_arguments(args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    mmojo::ModeHandlers handlers;
    handlers.pack = [](std::vector<std::string> pack_args) { return mmojo::run_pack(pack_args); };
    handlers.server = [](const mmojo::Options& options) { return mmojo::run_server(options); };
    return mmojo::run_main("mmojo-server", args, handlers);
}
