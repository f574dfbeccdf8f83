// Tensor binding with shape checks and progress (see tensor_binder.h).
#include "model/tensor_binder.h"

#include <algorithm>
#include <stdexcept>

namespace mmojo {

namespace {

std::string shape_string(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(dims[i]);
    }
    return s + "]";
}

}  // namespace

TensorBinder::TensorBinder(const GgufFile& file, std::function<void(float)> progress)
    : file_(file), progress_(std::move(progress)) {
    if (progress_) progress_(0.0f);
}

const GgufTensorInfo& TensorBinder::lookup(const std::string& name, std::vector<int64_t> expected) {
    const GgufTensorInfo* info = file_.find_tensor(name);
    if (!info) throw std::runtime_error("missing tensor '" + name + "' in " + file_.name());
    // GGUF may store trailing dimensions of 1 explicitly; compare without them.
    std::vector<int64_t> actual(info->dims.begin(), info->dims.end());
    while (actual.size() > expected.size() && actual.back() == 1) actual.pop_back();
    if (actual != expected) {
        throw std::runtime_error("tensor '" + name + "' has shape " + shape_string(actual) +
                                 ", expected " + shape_string(expected));
    }
    return *info;
}

void TensorBinder::bound() {
    ++n_bound_;
    if (progress_) {
        const size_t total = std::max<size_t>(file_.tensors().size(), 1);
        progress_(std::min(1.0f, float(n_bound_) / float(total)));
    }
}

Matrix TensorBinder::matrix(const std::string& name, int64_t n_cols, int64_t n_rows) {
    const GgufTensorInfo& info = lookup(name, {n_cols, n_rows});
    Matrix m = make_matrix(name.c_str(), info.type, n_cols, n_rows, info.data);
    bound();
    return m;
}

Matrix TensorBinder::optional_matrix(const std::string& name, int64_t n_cols, int64_t n_rows) {
    return has(name) ? matrix(name, n_cols, n_rows) : Matrix{};
}

Matrix TensorBinder::experts(const std::string& name, int64_t n_cols, int64_t n_rows, int64_t n_expert) {
    const GgufTensorInfo& info = lookup(name, {n_cols, n_rows, n_expert});
    Matrix m = make_matrix(name.c_str(), info.type, n_cols, n_rows * n_expert, info.data);
    bound();
    return m;
}

std::vector<float> TensorBinder::expert_vectors(const std::string& name, int64_t n, int64_t n_expert) {
    return floats(name, lookup(name, {n, n_expert}), n * n_expert);
}

std::vector<float> TensorBinder::vector(const std::string& name, int64_t n) {
    return floats(name, lookup(name, {n}), n);
}

std::vector<float> TensorBinder::floats(const std::string& name, const GgufTensorInfo& info, int64_t n) {
    const TensorTypeTraits* traits = tensor_type_traits(info.type);
    if (!traits || !traits->to_float || n % traits->block_size != 0) {
        const char* type_name = tensor_type_name(uint32_t(info.type));
        throw std::runtime_error("tensor '" + name + "' has type " +
                                 (type_name ? type_name : std::to_string(uint32_t(info.type))) +
                                 ", which cannot be read as a vector of " + std::to_string(n));
    }
    std::vector<float> values(static_cast<size_t>(n));
    traits->to_float(info.data, values.data(), n);
    bound();
    return values;
}

std::vector<float> TensorBinder::optional_vector(const std::string& name, int64_t n) {
    return has(name) ? vector(name, n) : std::vector<float>{};
}

void TensorBinder::finish() {
    if (progress_) progress_(1.0f);
}

}  // namespace mmojo
