// Pooling of per-token hidden states into embeddings (llama.cpp's pooling types): the mean
// of every row, the first (CLS) row, the last row, or every row as it is (none); then,
// optionally, each result scaled to unit L2 norm.
#pragma once

#include <cstddef>
#include <vector>

#include "model/model.h"

namespace mmojo {

class EmbeddingPooler {
public:
    EmbeddingPooler(Pooling pooling, size_t width) : pooling_(pooling), width_(width) {}

    // The next token's state (width floats).
    void add(const float* row);
    // The pooled rows: one, or one per token for kNone. kUnspecified pools like kMean.
    std::vector<std::vector<float>> finish(bool normalize);

private:
    Pooling pooling_;
    size_t width_;
    size_t count_ = 0;
    std::vector<double> sum_;
    std::vector<std::vector<float>> rows_;
};

}  // namespace mmojo
