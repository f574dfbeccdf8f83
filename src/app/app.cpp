// run_main: parse the command line and pick the mode (see app.h).
#include "app/app.h"

#include <cstdio>
#include <exception>

#include "app/cli.h"

namespace mmojo {

int run_main(const std::string& program, const std::vector<std::string>& args, const ModeHandlers& handlers) {
    if (!args.empty() && args[0] == "pack") {
        if (!handlers.pack) {
            std::fprintf(stderr, "error: the 'pack' subcommand is not built into this executable yet\n");
            return 1;
        }
        return handlers.pack(std::vector<std::string>(args.begin() + 1, args.end()));
    }
    Options options;
    try {
        options = parse_options(args, process_env());
    } catch (const OptionsError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    if (options.help) {
        std::fputs(help_text(program).c_str(), stdout);
        return 0;
    }
    if (options.version) {
        std::printf("mmojo-server %s\n", MMOJO_VERSION);
        return 0;
    }
    try {
        if (options.cli) return run_cli(options);
        if (!handlers.server) {
            std::fprintf(stderr, "error: server mode is not built yet; use --cli for command-line generation\n");
            return 1;
        }
        return handlers.server(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

}  // namespace mmojo
