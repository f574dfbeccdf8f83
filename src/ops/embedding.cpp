// Embedding lookup (see embedding.h).
#include "ops/embedding.h"

#include <stdexcept>
#include <string>

namespace mmojo {

void get_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out) {
    const ToFloatFn to_float = tensor_type_traits(table.type)->to_float;
    for (int64_t i = 0; i < n_ids; ++i) {
        if (ids[i] < 0 || ids[i] >= table.n_rows) {
            throw std::runtime_error("embedding lookup: id " + std::to_string(ids[i]) +
                                     " is outside the table of " +
                                     std::to_string(table.n_rows) + " rows");
        }
        to_float(table.row(ids[i]), out + i * table.n_cols, table.n_cols);
    }
}

}  // namespace mmojo
