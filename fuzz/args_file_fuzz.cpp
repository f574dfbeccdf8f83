// Fuzz target for both args-file parsers: any outcome other than a result or an
// ArgsFileError (a crash, a hang, another exception, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "package/args_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto p = mmojo::parse_args_text(text, "fuzz-args");
        (void)mmojo::merge_arguments(mmojo::ArgsText{"e", std::string(text)}, std::nullopt, {"--x"});
        (void)p;
    } catch (const mmojo::ArgsFileError&) {
    }
    try {
        (void)mmojo::parse_args_yaml(text, "fuzz-args.yaml");
    } catch (const mmojo::ArgsFileError&) {
    }
    return 0;
}
