// Tensor element types of GGUF/ggml, and the one table that describes each of them.
//
// A type is a block layout: `block_size` elements stored in `block_bytes` bytes. Each row of
// the table gives the readable generic kernels (to_float, from_float, vec_dot) and the type
// that activations are quantized to before a dot product with this type (vec_dot_type), as
// the GGUF formats are designed for. SIMD kernels replace `vec_dot` at start-up
// (kernels/dispatch.h); the `*_generic` pointers stay for tests and for CPUs with nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mmojo {

// Numbered as in the GGUF file (ggml_type).
enum class TensorType : uint32_t {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ2_K = 10,
    kQ3_K = 11,
    kQ4_K = 12,
    kQ5_K = 13,
    kQ6_K = 14,
    kQ8_K = 15,
    kIQ2_XXS = 16,
    kIQ2_XS = 17,
    kIQ3_XXS = 18,
    kIQ1_S = 19,
    kIQ4_NL = 20,
    kIQ3_S = 21,
    kIQ2_S = 22,
    kIQ4_XS = 23,
    kIQ1_M = 29,
    kBF16 = 30,
    kTQ1_0 = 34,
    kTQ2_0 = 35,
    kMXFP4 = 39,
    kNVFP4 = 40,
    kQ1_0 = 41,
    kQ2_0 = 42,
};

// x: n elements of the row type; y: n elements of its vec_dot_type. n is a multiple of the
// block size of both.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);

struct TensorTypeTraits {
    TensorType type;
    const char* name;         // "q4_0", as llama.cpp prints it
    int64_t block_size;       // elements per block
    size_t block_bytes;       // bytes per block
    ToFloatFn to_float;       // dequantize
    FromFloatFn from_float;   // quantize (null for types only read, never written)
    TensorType vec_dot_type;  // activations are converted to this before vec_dot
    VecDotFn vec_dot;         // the selected kernel (generic or SIMD)
    VecDotFn vec_dot_generic; // the readable definition, for tests
};

// The row for `type`, or nullptr when this build does not support it.
const TensorTypeTraits* tensor_type_traits(TensorType type);
// Every row of the table (for tests and tools that walk all supported types).
std::span<const TensorTypeTraits> tensor_type_table();
// The ggml name of any raw type number ("iq2_xxs", ...), or nullptr if unknown.
const char* tensor_type_name(uint32_t raw_type);
// Bytes of a row of n elements; n must be a multiple of the block size.
size_t tensor_row_bytes(TensorType type, int64_t n);

// Mutable access used only by kernels/dispatch.cpp to install SIMD kernels.
TensorTypeTraits* tensor_type_traits_mutable(TensorType type);

}  // namespace mmojo
