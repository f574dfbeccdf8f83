// The table of tensor types: block layout and kernels of every type this build supports,
// plus the ggml names of every type number a GGUF file may carry (ggml.h `enum ggml_type`,
// as numbered by the `gguf` Python package's GGMLQuantizationType).
#include "quant/tensor_type.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace mmojo {

namespace {

// Names of every ggml type number, including the ones we cannot compute with (so that an
// error can say "iq2_xxs is not supported" instead of "type 16"). Empty entries are numbers
// ggml never used.
constexpr const char* kTypeNames[] = {
    "f32",         // 0
    "f16",         // 1
    "q4_0",        // 2
    "q4_1",        // 3
    "q4_2",        // 4  removed from ggml in 2023
    "q4_3",        // 5  removed from ggml in 2023
    "q5_0",        // 6
    "q5_1",        // 7
    "q8_0",        // 8
    "q8_1",        // 9
    "q2_K",        // 10
    "q3_K",        // 11
    "q4_K",        // 12
    "q5_K",        // 13
    "q6_K",        // 14
    "q8_K",        // 15
    "iq2_xxs",     // 16
    "iq2_xs",      // 17
    "iq3_xxs",     // 18
    "iq1_s",       // 19
    "iq4_nl",      // 20
    "iq3_s",       // 21
    "iq2_s",       // 22
    "iq4_xs",      // 23
    "i8",          // 24
    "i16",         // 25
    "i32",         // 26
    "i64",         // 27
    "f64",         // 28
    "iq1_m",       // 29
    "bf16",        // 30
    "q4_0_4_4",    // 31 removed (repacked layouts are now made at load time)
    "q4_0_4_8",    // 32 removed
    "q4_0_8_8",    // 33 removed
    "tq1_0",       // 34
    "tq2_0",       // 35
    "iq4_nl_4_4",  // 36 removed
    "iq4_nl_4_8",  // 37 removed
    "iq4_nl_8_8",  // 38 removed
    "mxfp4",       // 39
    "nvfp4",       // 40
    "q1_0",        // 41
};
constexpr uint32_t kTypeNameCount = sizeof(kTypeNames) / sizeof(kTypeNames[0]);

// One row per supported type. Kernels are filled in by quant/kernels.h users below; a null
// to_float/vec_dot means "not implemented yet".
TensorTypeTraits g_table[] = {
    // type, name, block_size, block_bytes, to_float, from_float, vec_dot_type, vec_dot,
    // vec_dot_generic
    {TensorType::kF32, "f32", 1, 4, nullptr, nullptr, TensorType::kF32, nullptr, nullptr},
    {TensorType::kF16, "f16", 1, 2, nullptr, nullptr, TensorType::kF16, nullptr, nullptr},
    {TensorType::kBF16, "bf16", 1, 2, nullptr, nullptr, TensorType::kBF16, nullptr, nullptr},
    {TensorType::kQ4_0, "q4_0", 32, 18, nullptr, nullptr, TensorType::kQ8_0, nullptr, nullptr},
    {TensorType::kQ4_1, "q4_1", 32, 20, nullptr, nullptr, TensorType::kQ8_1, nullptr, nullptr},
    {TensorType::kQ5_0, "q5_0", 32, 22, nullptr, nullptr, TensorType::kQ8_0, nullptr, nullptr},
    {TensorType::kQ5_1, "q5_1", 32, 24, nullptr, nullptr, TensorType::kQ8_1, nullptr, nullptr},
    {TensorType::kQ8_0, "q8_0", 32, 34, nullptr, nullptr, TensorType::kQ8_0, nullptr, nullptr},
    {TensorType::kQ8_1, "q8_1", 32, 36, nullptr, nullptr, TensorType::kQ8_1, nullptr, nullptr},
    {TensorType::kQ2_K, "q2_K", 256, 84, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kQ3_K, "q3_K", 256, 110, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kQ4_K, "q4_K", 256, 144, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kQ5_K, "q5_K", 256, 176, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kQ6_K, "q6_K", 256, 210, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kQ8_K, "q8_K", 256, 292, nullptr, nullptr, TensorType::kQ8_K, nullptr, nullptr},
    {TensorType::kIQ4_NL, "iq4_nl", 32, 18, nullptr, nullptr, TensorType::kQ8_0, nullptr,
     nullptr},
    {TensorType::kIQ4_XS, "iq4_xs", 256, 136, nullptr, nullptr, TensorType::kQ8_K, nullptr,
     nullptr},
};

TensorTypeTraits* find_row(TensorType type) {
    for (TensorTypeTraits& row : g_table) {
        if (row.type == type) return &row;
    }
    return nullptr;
}

}  // namespace

const TensorTypeTraits* tensor_type_traits(TensorType type) { return find_row(type); }

TensorTypeTraits* tensor_type_traits_mutable(TensorType type) { return find_row(type); }

const char* tensor_type_name(uint32_t raw_type) {
    if (raw_type >= kTypeNameCount) return nullptr;
    return kTypeNames[raw_type];
}

size_t tensor_row_bytes(TensorType type, int64_t n) {
    const TensorTypeTraits* row = find_row(type);
    if (row == nullptr) {
        const char* name = tensor_type_name(static_cast<uint32_t>(type));
        throw std::runtime_error(std::string("tensor_row_bytes: unsupported tensor type ") +
                                 (name ? name : "#" + std::to_string(static_cast<uint32_t>(type))));
    }
    if (n < 0 || n % row->block_size != 0) {
        throw std::runtime_error("tensor_row_bytes: " + std::to_string(n) + " elements of " +
                                 row->name + " is not a multiple of its block size " +
                                 std::to_string(row->block_size));
    }
    const uint64_t blocks = static_cast<uint64_t>(n / row->block_size);
    if (blocks > std::numeric_limits<size_t>::max() / row->block_bytes) {
        throw std::runtime_error("tensor_row_bytes: " + std::to_string(n) + " elements of " +
                                 row->name + " overflow size_t");
    }
    return static_cast<size_t>(blocks) * row->block_bytes;
}

}  // namespace mmojo
