// Files embedded in the running executable's ZIP: the web UI (entries under "ui/"), the
// default args file ("mmojo-server-args" or "mmojo-server-args.yaml") and GGUF models
// (stored, 64 KiB aligned, mapped in place). Also resolves which model to load and builds
// the final argument list from embedded args, an adjacent args file and the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "package/args_file.h"
#include "package/archive/zip_reader.h"

namespace mmojo {

inline constexpr const char* kArgsEntry = "mmojo-server-args";
inline constexpr const char* kArgsYamlEntry = "mmojo-server-args.yaml";
inline constexpr const char* kUiPrefix = "ui/";
inline constexpr const char* kZipPathPrefix = "/zip/";

class Embedded {
public:
    // The running program's archive (self_path()), opened on first use. A program without
    // a ZIP, or one that cannot locate itself, gives an empty view. Throws ZipError once
    // per call while the executable's archive is malformed.
    static const Embedded& instance();
    // The archive of any file (tests, tools). No ZIP -> empty view.
    static Embedded open(const std::string& path);
    Embedded() = default;

    const std::string& path() const { return path_; }  // outer file ("" when unknown)
    bool has_archive() const { return zip_.has_value(); }
    const ZipReader* archive() const { return zip_ ? &*zip_ : nullptr; }

    std::vector<std::string> list() const;
    bool contains(std::string_view name) const;
    // Decompressed entry, CRC checked; nullopt when absent. Throws ZipError when corrupt.
    std::optional<std::vector<uint8_t>> read(std::string_view name) const;

    // An entry ready to send over HTTP: deflated entries come back as a gzip stream
    // (gzip = true) when the client accepts gzip, without recompressing.
    struct HttpBody {
        std::vector<uint8_t> bytes;
        bool gzip = false;
    };
    std::optional<HttpBody> read_for_http(std::string_view name, bool accept_gzip) const;
    // True when the archive has at least one "ui/..." file.
    bool has_ui() const;
    // "ui/" + path (path without leading '/'; "" or a trailing '/' means index.html).
    std::optional<HttpBody> ui_file(std::string_view path, bool accept_gzip) const;

    // The embedded args file (mmojo-server-args, else mmojo-server-args.yaml).
    std::optional<ArgsText> args() const;
    // Names of .gguf entries in archive order.
    std::vector<std::string> gguf_entries() const;

private:
    std::string path_;
    std::optional<ZipReader> zip_;
};

// Where the model comes from: a plain file (offset 0, length 0 = whole file) or a byte
// range of the executable (for ModelLoadOptions{offset, length}).
struct ModelLocation {
    std::string path;
    uint64_t offset = 0;
    uint64_t length = 0;
    bool embedded = false;
    std::string display;  // "/zip/name.gguf" or the path, for logs and /props
};

// Resolves the -m argument (empty when absent):
//   "/zip/NAME"          -> entry NAME of the archive (error if absent or not stored)
//   "NAME" naming an entry -> that entry
//   anything else        -> a file on disk (must exist)
//   empty                -> first .gguf entry, else the first .gguf (by name) in
//                           `exe_dir`, else in `cwd`; else an error listing where it looked.
// Throws std::runtime_error with a message that says what was looked for and where.
ModelLocation resolve_model(const std::string& model_arg, const Embedded& embedded,
                            const std::string& exe_dir, const std::string& cwd);

// Final argv (without the program name): embedded args, then the first existing adjacent
// args file (see adjacent_args_candidates), then the command line, layered as described in
// merge_arguments(). `sources` receives the args files used, for logging.
std::vector<std::string> startup_arguments(const std::vector<std::string>& command_line,
                                           const Embedded& embedded,
                                           std::vector<std::string>* sources = nullptr);

// What main() calls before option parsing: the command line unchanged when it starts with
// the `pack` subcommand (packing must not pick up defaults), else startup_arguments() for
// the running executable (Embedded::instance()). Throws ArgsFileError / ZipError with
// file, line:column or offset when an args file or the executable's ZIP is malformed, and
// std::runtime_error when the executable cannot be read (e.g. a wrong MMOJO_SELF).
std::vector<std::string> final_arguments(const std::vector<std::string>& command_line,
                                         std::vector<std::string>* sources = nullptr);

}  // namespace mmojo
