// llama-server's flags that mmojo-server accepts without acting on them: GPU placement,
// speculative decoding, multimodal input, adapters, the multi-model router and others we do
// not have. Each is parsed with llama-server's value syntax and environment variable, so a
// llama-server command line starts unchanged, and leaves a one-line notice in
// Options::notices saying why it has no effect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/options.h"

namespace mmojo {

// Appends the accepted-and-ignored flags to the option table (after the implemented ones).
void add_compat_options(std::vector<OptionSpec>& table);

// The notice for a flag (or environment variable) that was accepted and ignored.
std::string ignored_notice(const std::string& flag, std::string_view why);

}  // namespace mmojo
