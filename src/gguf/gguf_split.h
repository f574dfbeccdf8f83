// Split GGUF models, as llama.cpp's gguf-split and gguf-py's writer make them: the set
// PREFIX-00001-of-0000N.gguf ... PREFIX-0000N-of-0000N.gguf, each a complete GGUF file with
// the keys split.no (0-based part index), split.count (N) and split.tensors.count (tensors
// in all parts). The first part carries the model's metadata; every part carries some of
// the tensors. Loading the first part loads the set: each part is mapped in place and its
// tensors are added to the first part's GgufFile, so the model sees one file.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf.h"

namespace mmojo {

// Opens a model file; when it is the first part of a split model, also opens and adds the
// other parts found beside it. Throws GgufError naming the file for a missing part, a part
// from another set (wrong split.no/split.count), a repeated tensor, a tensor total that
// disagrees with split.tensors.count, or a later part given instead of the first.
// A byte range (offset/length, a GGUF inside an archive) must not be a split model.
GgufFile open_gguf_model(const std::string& path, uint64_t offset = 0, uint64_t length = 0);

// Path of part `index` (0-based) of `count`, given the first part's path: the name must end
// in -00001-of-NNNNN.gguf (five digits each, as the tools write them). Throws GgufError.
std::string split_part_path(const std::string& first_part, uint32_t index, uint32_t count);

}  // namespace mmojo
