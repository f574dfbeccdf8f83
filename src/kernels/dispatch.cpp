// Kernel installation per CPU level (see kernels/dispatch.h); detection is in
// base/cpu_features.cpp.
#include "kernels/dispatch.h"

#include <cstdint>

#include "kernels/gemm_kernels.h"
#include "kernels/kernels.h"
#include "kernels/matmul_tile.h"
#include "kernels/simd_kernels.h"
#include "kernels/tensor_type.h"
#include "kernels/vector_kernels.h"

namespace mmojo {

namespace {

// What select_kernels installed: read at every product and row operation, written once at
// start-up before any thread runs kernels.
CpuLevel g_selected = CpuLevel::kGeneric;
MatmulTileFn g_tile = matmul_tile_generic;
const VectorKernels* g_vector = vector_kernels_generic();

// The register-blocked matrix tile of a level (matmul_tile_generic when it has none).
MatmulTileFn tile_for_level(CpuLevel level) {
    switch (level) {
#if defined(MMOJO_HAVE_AVX2)
        case CpuLevel::kAvx2:
        case CpuLevel::kAvx512: return matmul_tile_avx2();
#endif
#if defined(MMOJO_HAVE_AVX512VNNI)
        case CpuLevel::kAvx512Vnni: return matmul_tile_avx512vnni();
#endif
#if defined(MMOJO_HAVE_AMX)
        case CpuLevel::kAmx: return matmul_tile_amx();
#endif
#if defined(MMOJO_HAVE_NEON)
        case CpuLevel::kNeon: return matmul_tile_neon();
#endif
#if defined(MMOJO_HAVE_NEONDOT)
        case CpuLevel::kNeonDot: return matmul_tile_neondot();
#endif
        default: return matmul_tile_generic;
    }
}

// The float row table of a level, else of the next lower one.
const VectorKernels* vector_kernels_for_level(CpuLevel level) {
    for (CpuLevel l = level;; l = cpu_level_below(l)) {
        if (const VectorKernels* k = vector_kernels_at_level(l)) return k;
    }
}

}  // namespace

CpuLevel selected_cpu_level() { return g_selected; }
MatmulTileFn matmul_tile() { return g_tile; }
const VectorKernels& vector_kernels() { return *g_vector; }

const VectorKernels* vector_kernels_at_level(CpuLevel level) {
    switch (level) {
        case CpuLevel::kGeneric: return vector_kernels_generic();
#if defined(MMOJO_HAVE_AVX2)
        case CpuLevel::kAvx2: return vector_kernels_avx2();
#endif
        default: return nullptr;
    }
}

VecDotFn vec_dot_at_level(CpuLevel level, TensorType type) {
    switch (level) {
        case CpuLevel::kGeneric: {
            const TensorTypeTraits* row = tensor_type_traits(type);
            return row ? row->vec_dot_generic : nullptr;
        }
#if defined(MMOJO_HAVE_AVX2)
        case CpuLevel::kAvx2: return vec_dot_avx2(type);
#endif
        // Level avx512 has no dot products of its own: it uses the AVX2 ones.
#if defined(MMOJO_HAVE_AVX512VNNI)
        case CpuLevel::kAvx512Vnni: return vec_dot_avx512vnni(type);
#endif
#if defined(MMOJO_HAVE_NEON)
        case CpuLevel::kNeon: return vec_dot_neon(type);
#endif
#if defined(MMOJO_HAVE_NEONDOT)
        case CpuLevel::kNeonDot: return vec_dot_neondot(type);
#endif
        default: return nullptr;
    }
}

VecDotFn vec_dot_for_level(CpuLevel level, TensorType type) {
    for (CpuLevel l = level;; l = cpu_level_below(l)) {
        if (VecDotFn fn = vec_dot_at_level(l, type)) return fn;
        if (l == CpuLevel::kGeneric) return nullptr;
    }
}

ToFloatFn to_float_at_level(CpuLevel level, TensorType type) {
    switch (level) {
        case CpuLevel::kGeneric:
            switch (type) {
                case TensorType::kF16: return f16_to_float;
                case TensorType::kBF16: return bf16_to_float;
                default: return nullptr;
            }
#if defined(MMOJO_HAVE_AVX2)
        case CpuLevel::kAvx2: return to_float_avx2(type);
#endif
#if defined(MMOJO_HAVE_AVX512)
        case CpuLevel::kAvx512: return to_float_avx512(type);
#endif
        default: return nullptr;
    }
}

FromFloatFn from_float_at_level(CpuLevel level, TensorType type) {
    switch (level) {
        case CpuLevel::kGeneric:
            switch (type) {
                case TensorType::kF16: return f16_from_float;
                case TensorType::kBF16: return bf16_from_float;
                case TensorType::kQ8_0: return q8_0_from_float;
                case TensorType::kQ8_1: return q8_1_from_float;
                case TensorType::kQ8_K: return q8_k_from_float;
                default: return nullptr;
            }
#if defined(MMOJO_HAVE_AVX2)
        case CpuLevel::kAvx2: return from_float_avx2(type);
#endif
#if defined(MMOJO_HAVE_AVX512)
        case CpuLevel::kAvx512: return from_float_avx512(type);
#endif
        default: return nullptr;
    }
}

ToFloatFn to_float_for_level(CpuLevel level, TensorType type) {
    for (CpuLevel l = level;; l = cpu_level_below(l)) {
        if (ToFloatFn fn = to_float_at_level(l, type)) return fn;
        if (l == CpuLevel::kGeneric) return nullptr;
    }
}

FromFloatFn from_float_for_level(CpuLevel level, TensorType type) {
    for (CpuLevel l = level;; l = cpu_level_below(l)) {
        if (FromFloatFn fn = from_float_at_level(l, type)) return fn;
        if (l == CpuLevel::kGeneric) return nullptr;
    }
}

void select_kernels(CpuLevel level) {
    // Walk every raw type number that has a row (the enum is sparse). Conversions are
    // replaced only for the types that have SIMD versions; the others keep their row's.
    for (uint32_t raw = 0; raw < 64; ++raw) {
        const auto type = static_cast<TensorType>(raw);
        TensorTypeTraits* row = tensor_type_traits_mutable(type);
        if (row == nullptr) continue;
        row->vec_dot = vec_dot_for_level(level, type);
        if (ToFloatFn fn = to_float_for_level(level, type)) row->to_float = fn;
        if (FromFloatFn fn = from_float_for_level(level, type)) row->from_float = fn;
    }
    g_tile = tile_for_level(level);
    g_vector = vector_kernels_for_level(level);
    g_selected = level;
}

}  // namespace mmojo
