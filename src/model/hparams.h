// Reading a model's hyperparameters from the `<arch>.*` GGUF keys, with llama.cpp's
// defaults for the optional ones (see ModelHparams in model.h for the key of each field).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/model.h"

namespace mmojo {

// Fills every field of `hp` that comes from architecture-independent keys (sizes, heads,
// norm epsilon, RoPE). hp.arch must be set. n_vocab comes from `<arch>.vocab_size`, else
// from the tokenizer's token list. Throws std::runtime_error naming the key for a missing
// required key or an impossible value.
void read_common_hparams(const GgufFile& file, ModelHparams& hp);

// A count that llama.cpp allows to be given per layer (an array). Returns the single value;
// an array whose entries differ is reported as unsupported. `fallback` < 0: required.
uint32_t read_uniform_u32(const GgufFile& file, const std::string& key, int64_t fallback);

// Which of n_layer blocks use sliding-window attention, from
// `<arch>.attention.sliding_window_pattern` as llama.cpp reads it: an array of booleans
// (one per block, true = sliding), or a period p (default `period`): block l slides unless
// l % p == p - 1 (the last of each period is global), or, with dense_first, unless
// l % p == 0. A period of 0 makes every block slide.
std::vector<bool> read_sliding_layers(const GgufFile& file, const std::string& arch, uint32_t n_layer,
                                      uint32_t period, bool dense_first = false);

}  // namespace mmojo
