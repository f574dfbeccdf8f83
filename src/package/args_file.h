// Argument files: default command-line arguments stored in the executable's ZIP
// (`mmojo-server-args`, `mmojo-server-args.yaml`) or next to the executable.
//
// Text form (llamafile/Cosmopolitan convention): words separated by whitespace; 'text'
// single quotes keep everything literally; "text" double quotes keep everything except the
// escapes \" and \\; quoted and unquoted parts next to each other form one word; '#' at the
// start of a word comments out the rest of the line; a standalone unquoted `...` marks where
// the command-line arguments go. Backslashes outside quotes are literal (Windows paths).
//
// YAML form (a flat subset of YAML 1.2): `key: value` lines naming long flags
// (`ctx-size: 4096` -> `--ctx-size 4096`, one-letter keys -> `-m`), `key:` / `key: true` /
// `key: null` for a plain flag, `key: false` to leave it out, plain, 'single' or "double"
// quoted scalars, `key: [a, b]` or a block list of `- item` lines to repeat a flag,
// `#` comments, `---` at the top, and a line `...` marking where command-line arguments go.
//
// See docs/args-files.md for the precedence rules implemented by merge_arguments().
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mmojo {

// Syntax error; what() is "SOURCE:LINE:COLUMN: reason" (1-based, column in bytes).
class ArgsFileError : public std::runtime_error {
public:
    ArgsFileError(const std::string& source, size_t line, size_t column, const std::string& why);
    const std::string& source() const { return source_; }
    size_t line() const { return line_; }
    size_t column() const { return column_; }

private:
    std::string source_;
    size_t line_;
    size_t column_;
};

struct ParsedArgs {
    std::vector<std::string> args;
    // Index in `args` where the command-line arguments go (the `...` marker), if present.
    std::optional<size_t> insert_at;
};

ParsedArgs parse_args_text(std::string_view text, const std::string& source);
ParsedArgs parse_args_yaml(std::string_view text, const std::string& source);
// True for names ending in ".yaml" or ".yml" (case-insensitive).
bool is_yaml_args_name(std::string_view name);
// Picks the form from `source`'s extension.
ParsedArgs parse_args_any(std::string_view text, const std::string& source);

// One args file: where it came from (a path, or "<exe>/zip/mmojo-server-args") and its text.
struct ArgsText {
    std::string source;
    std::string text;
};

// Final argument list (without the program name). Each layer wraps the more specific one:
//   result = embedded[ adjacent[ command_line ] ]
// where file[inner] puts `inner` at the file's `...` marker, or after the file's arguments
// when it has none. Flags are parsed left to right and a repeated flag's last value wins,
// so the command line overrides the adjacent file, which overrides the embedded file —
// except for arguments a file deliberately places after its `...` marker.
std::vector<std::string> merge_arguments(const std::optional<ArgsText>& embedded,
                                         const std::optional<ArgsText>& adjacent,
                                         const std::vector<std::string>& command_line);

}  // namespace mmojo
