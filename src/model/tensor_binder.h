// Binds a model's named GGUF tensors to typed views while it loads: checks each shape
// against what the architecture expects, reports load progress, and names the tensor in
// every error ("missing tensor 'blk.3.ffn_up.weight'", "tensor 'output.weight' has shape
// [64, 500], expected [64, 512]").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "ops/matmul.h"

namespace mmojo {

class TensorBinder {
public:
    TensorBinder(const GgufFile& file, std::function<void(float)> progress);

    // A 2-D weight of n_rows rows of n_cols elements (GGUF dims [n_cols, n_rows]).
    Matrix matrix(const std::string& name, int64_t n_cols, int64_t n_rows);
    // The same, or an empty Matrix when the file has no such tensor.
    Matrix optional_matrix(const std::string& name, int64_t n_cols, int64_t n_rows);
    // A 3-D tensor of n_expert matrices of n_rows x n_cols (GGUF dims [n_cols, n_rows,
    // n_expert]: a mixture-of-experts weight), seen as one matrix of n_expert * n_rows rows.
    Matrix experts(const std::string& name, int64_t n_cols, int64_t n_rows, int64_t n_expert);
    // A 2-D tensor of n_expert vectors of n elements (per-expert biases), widened to float.
    std::vector<float> expert_vectors(const std::string& name, int64_t n, int64_t n_expert);
    // A 1-D tensor of n elements (norm weights, biases, rope factors), widened to float.
    std::vector<float> vector(const std::string& name, int64_t n);
    // The same, or an empty vector when absent.
    std::vector<float> optional_vector(const std::string& name, int64_t n);

    bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
    // Reports progress 1 (call when every tensor is bound).
    void finish();

private:
    const GgufTensorInfo& lookup(const std::string& name, std::vector<int64_t> expected);
    void bound();
    std::vector<float> floats(const std::string& name, const GgufTensorInfo& info, int64_t n);

    const GgufFile& file_;
    std::function<void(float)> progress_;
    size_t n_bound_ = 0;
};

}  // namespace mmojo
