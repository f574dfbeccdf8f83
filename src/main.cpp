// mmojo-server entry point: collects argv and hands it to run_main (src/app/app.h), which
// parses the options and picks the mode.
#include <string>
#include <vector>

#include "app/app.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    mmojo::ModeHandlers handlers;
    // Wired once they exist: handlers.server = mmojo::run_server (src/server/server.h) and
    // handlers.pack = mmojo::run_pack (src/package/pack.h); args files are merged into
    // `args` here by src/package/ before run_main.
    return mmojo::run_main("mmojo-server", args, handlers);
}
