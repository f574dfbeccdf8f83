// run_main: parse the command line and pick the mode (see app.h).
#include "app/app.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>

#include "app/cli.h"

namespace mmojo {

CpuLevel resolve_cpu_level(const std::string& name) {
    const CpuLevel best = detect_cpu_level();
    if (name.empty() || name == "auto") return best;
    const std::optional<CpuLevel> level = cpu_level_from_name(name);
    if (level) {
        const std::vector<CpuLevel> supported = supported_cpu_levels();
        if (std::find(supported.begin(), supported.end(), *level) == supported.end()) {
            throw OptionsError("--cpu-features " + name + ": this CPU supports at most " +
                               std::string(cpu_level_name(best)));
        }
        return *level;
    }
    throw OptionsError("--cpu-features: unknown level '" + name + "'");
}

namespace {

// --log-file appends the log (stderr) to a file; --log-disable discards it. Standard output
// (the CLI's text, --help) is left alone.
bool redirect_log(const Options& options) {
#if defined(_WIN32)
    const char* null_device = "NUL";
#else
    const char* null_device = "/dev/null";
#endif
    if (!options.log_file.empty() && !options.log_disable) {
        if (!std::freopen(options.log_file.c_str(), "a", stderr)) {
            std::fprintf(stdout, "error: cannot open the log file '%s' given to --log-file\n", options.log_file.c_str());
            return false;
        }
        std::setvbuf(stderr, nullptr, _IONBF, 0);
    } else if (options.log_disable) {
        if (!std::freopen(null_device, "w", stderr)) return true;   // keep logging rather than fail
    }
    return true;
}

}  // namespace

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
    for (const std::string& notice : options.notices) std::fprintf(stderr, "%s\n", notice.c_str());
    if (!redirect_log(options)) return 1;
    if (options.help) {
        std::fputs(help_text(program).c_str(), stdout);
        return 0;
    }
    if (options.version) {
        std::printf("mmojo-server %s\n", MMOJO_VERSION);
        // The kernel level a run with these options would use (--cpu-features, or the best).
        CpuLevel level = detect_cpu_level();
        try {
            level = resolve_cpu_level(options.cpu_features);
        } catch (const OptionsError&) {
        }
        std::printf("cpu kernels: %s (this CPU supports up to %s)\n", cpu_level_name(level),
                    cpu_level_name(detect_cpu_level()));
        std::string features;
        for (const std::string& f : cpu_features()) features += " " + f;
        std::printf("cpu features:%s\n", features.empty() ? " none" : features.c_str());
        return 0;
    }
    try {
        select_kernels(resolve_cpu_level(options.cpu_features));
    } catch (const OptionsError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
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
