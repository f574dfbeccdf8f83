// The table of tensor types: block layout and kernels of every type this build supports,
// plus the ggml names of every type number a GGUF file may carry (ggml.h `enum ggml_type`,
// as numbered by the `gguf` Python package's GGMLQuantizationType).
#include "kernels/tensor_type.h"

#include "kernels/kernels.h"
#include "kernels/mxfp4.h"

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
    "q2_0",        // 42
};
constexpr uint32_t kTypeNameCount = sizeof(kTypeNames) / sizeof(kTypeNames[0]);

// One row per supported type. `vec_dot` starts as the generic kernel; kernels/dispatch.cpp
// may replace it with a SIMD one. Q8_1 and Q8_K exist only as activation (vec_dot_type)
// formats: they have no dot product of their own.
//
// Note: block_bytes of Q8_1 is 36 (f16 d, f16 s, 32 x int8) as in current ggml; the `gguf`
// Python package still lists 40 from an older layout. Q8_1 never appears in files.
TensorTypeTraits g_table[] = {
    // type, name, block_size, block_bytes, to_float, from_float, vec_dot_type, vec_dot,
    // vec_dot_generic
    {TensorType::kF32, "f32", 1, 4, f32_to_float, f32_from_float, TensorType::kF32,
     vec_dot_f32_generic, vec_dot_f32_generic},
    {TensorType::kF16, "f16", 1, 2, f16_to_float, f16_from_float, TensorType::kF16,
     vec_dot_f16_generic, vec_dot_f16_generic},
    {TensorType::kBF16, "bf16", 1, 2, bf16_to_float, bf16_from_float, TensorType::kBF16,
     vec_dot_bf16_generic, vec_dot_bf16_generic},
    {TensorType::kQ4_0, "q4_0", 32, 18, q4_0_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_q4_0_q8_0_generic, vec_dot_q4_0_q8_0_generic},
    {TensorType::kQ4_1, "q4_1", 32, 20, q4_1_to_float, nullptr, TensorType::kQ8_1,
     vec_dot_q4_1_q8_1_generic, vec_dot_q4_1_q8_1_generic},
    {TensorType::kQ5_0, "q5_0", 32, 22, q5_0_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_q5_0_q8_0_generic, vec_dot_q5_0_q8_0_generic},
    {TensorType::kQ5_1, "q5_1", 32, 24, q5_1_to_float, nullptr, TensorType::kQ8_1,
     vec_dot_q5_1_q8_1_generic, vec_dot_q5_1_q8_1_generic},
    {TensorType::kQ8_0, "q8_0", 32, 34, q8_0_to_float, q8_0_from_float, TensorType::kQ8_0,
     vec_dot_q8_0_q8_0_generic, vec_dot_q8_0_q8_0_generic},
    {TensorType::kQ8_1, "q8_1", 32, 36, q8_1_to_float, q8_1_from_float, TensorType::kQ8_1,
     nullptr, nullptr},
    {TensorType::kQ2_K, "q2_K", 256, 84, q2_k_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_q2_k_q8_k_generic, vec_dot_q2_k_q8_k_generic},
    {TensorType::kQ3_K, "q3_K", 256, 110, q3_k_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_q3_k_q8_k_generic, vec_dot_q3_k_q8_k_generic},
    {TensorType::kQ4_K, "q4_K", 256, 144, q4_k_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_q4_k_q8_k_generic, vec_dot_q4_k_q8_k_generic},
    {TensorType::kQ5_K, "q5_K", 256, 176, q5_k_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_q5_k_q8_k_generic, vec_dot_q5_k_q8_k_generic},
    {TensorType::kQ6_K, "q6_K", 256, 210, q6_k_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_q6_k_q8_k_generic, vec_dot_q6_k_q8_k_generic},
    {TensorType::kQ8_K, "q8_K", 256, 292, q8_k_to_float, q8_k_from_float, TensorType::kQ8_K,
     nullptr, nullptr},
    {TensorType::kIQ4_NL, "iq4_nl", 32, 18, iq4_nl_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_iq4_nl_q8_0_generic, vec_dot_iq4_nl_q8_0_generic},
    {TensorType::kIQ4_XS, "iq4_xs", 256, 136, iq4_xs_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq4_xs_q8_k_generic, vec_dot_iq4_xs_q8_k_generic},
    // Low-bit formats (quant_iq2/iq3/iq1/ternary/nvfp4/q1q2.cpp): read only.
    {TensorType::kIQ2_XXS, "iq2_xxs", 256, 66, iq2_xxs_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq2_xxs_q8_k_generic, vec_dot_iq2_xxs_q8_k_generic},
    {TensorType::kIQ2_XS, "iq2_xs", 256, 74, iq2_xs_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq2_xs_q8_k_generic, vec_dot_iq2_xs_q8_k_generic},
    {TensorType::kIQ2_S, "iq2_s", 256, 82, iq2_s_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq2_s_q8_k_generic, vec_dot_iq2_s_q8_k_generic},
    {TensorType::kIQ3_XXS, "iq3_xxs", 256, 98, iq3_xxs_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq3_xxs_q8_k_generic, vec_dot_iq3_xxs_q8_k_generic},
    {TensorType::kIQ3_S, "iq3_s", 256, 110, iq3_s_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq3_s_q8_k_generic, vec_dot_iq3_s_q8_k_generic},
    {TensorType::kIQ1_S, "iq1_s", 256, 50, iq1_s_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq1_s_q8_k_generic, vec_dot_iq1_s_q8_k_generic},
    {TensorType::kIQ1_M, "iq1_m", 256, 56, iq1_m_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_iq1_m_q8_k_generic, vec_dot_iq1_m_q8_k_generic},
    {TensorType::kTQ1_0, "tq1_0", 256, 54, tq1_0_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_tq1_0_q8_k_generic, vec_dot_tq1_0_q8_k_generic},
    {TensorType::kTQ2_0, "tq2_0", 256, 66, tq2_0_to_float, nullptr, TensorType::kQ8_K,
     vec_dot_tq2_0_q8_k_generic, vec_dot_tq2_0_q8_k_generic},
    {TensorType::kNVFP4, "nvfp4", 64, 36, nvfp4_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_nvfp4_q8_0_generic, vec_dot_nvfp4_q8_0_generic},
    {TensorType::kQ1_0, "q1_0", 128, 18, q1_0_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_q1_0_q8_0_generic, vec_dot_q1_0_q8_0_generic},
    {TensorType::kQ2_0, "q2_0", 64, 18, q2_0_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_q2_0_q8_0_generic, vec_dot_q2_0_q8_0_generic},
    {TensorType::kMXFP4, "mxfp4", 32, 17, mxfp4_to_float, nullptr, TensorType::kQ8_0,
     vec_dot_mxfp4_q8_0_generic, vec_dot_mxfp4_q8_0_generic},
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

std::span<const TensorTypeTraits> tensor_type_table() { return g_table; }

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
