// `mmojo-server pack`: writes a new single-file executable from the running one (or from
// --input FILE): the bytes before its ZIP (the executables) are kept (or, with --native,
// built from the six native builds: see polyglot.h), ZIP entries are
// replaced, added or removed. Models are stored with their data 64 KiB aligned (mapped in
// place), UI files deflated when that helps, the args file stored. Same inputs give
// byte-identical output. See docs/package.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mmojo {

struct PackOptions {
    std::string output;                  // -o
    std::string input;                   // --input (default: self_path())
    std::string model;                   // --model FILE.gguf
    std::string args_file;               // --args FILE
    std::string ui_dir;                  // --ui DIR
    std::vector<std::pair<std::string, std::string>> add;  // --add NAME=FILE
    std::vector<std::string> remove;     // --remove NAME (NAME/ removes a folder)
    bool allow_over_4g = false;          // --allow-over-4g
    // --native TARGET=FILE: build the executable part from these native builds (the
    // polyglot file, polyglot.h) instead of keeping the input's. Without --input the
    // archive then starts empty.
    std::vector<std::pair<std::string, std::string>> natives;
};

inline constexpr uint64_t kModelAlignment = 65536;
inline constexpr uint64_t kWindowsExeLimit = uint64_t(1) << 32;

// Parses the arguments after "pack". Throws std::invalid_argument with a usage message.
PackOptions parse_pack_args(const std::vector<std::string>& args);

struct PackResult {
    uint64_t size = 0;
    uint64_t prefix_size = 0;
    std::vector<std::string> entries;  // in archive order
    std::vector<std::string> natives;  // "target offset size" of each native build
    bool signature_removed = false;    // the input was Authenticode-signed, the output is not
};

// Builds the output. Throws std::runtime_error (or ZipError/ArgsFileError) with a message
// naming the file and the problem; nothing is left at `output` on failure.
PackResult pack(const PackOptions& options);

// The subcommand: prints a summary or "pack: <error>" and returns the exit code
// (0 ok, 1 failure, 2 usage error).
int run_pack(const std::vector<std::string>& args);

// Usage text for `mmojo-server pack --help`.
const char* pack_usage();

}  // namespace mmojo
