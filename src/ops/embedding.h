// Embedding lookup (ggml's get_rows): row ids[i] of a table of any tensor type, widened to
// float with the quant table's to_float.
#pragma once

#include <cstdint>

#include "ops/matmul.h"

namespace mmojo {

// out: n_ids rows of table.n_cols floats. Throws std::runtime_error for an id outside
// [0, table.n_rows).
void get_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out);

}  // namespace mmojo
