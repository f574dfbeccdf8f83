// Run-time choice of kernels: install, once, the kernels of the CPU level chosen at start-up
// (base/cpu_features.h detects the best one) --
// `vec_dot` and conversions in the tensor type table (kernels/tensor_type.h). One binary carries the
// generic kernels plus one variant per instruction-set level (files named *_avx2.cpp, ...).
#pragma once

#include "base/cpu_features.h"
#include "kernels/tensor_type.h"

namespace mmojo {

// The one dispatch point: installs the kernels for `level` (falling back to lower levels,
// then to generic, for each type that has no kernel at that level): vec_dot and the row
// conversions in the type table, the matrix tile (matmul_tile()) and the float row table
// (vector_kernels()). Nothing else looks at the level. Call once at start-up, before any thread runs
// dot products. Asking for a level the CPU lacks is the caller's mistake; tests may use it
// only for levels up to detect_cpu_level().
void select_kernels(CpuLevel level);

// The level installed by the last select_kernels call (kGeneric before the first).
CpuLevel selected_cpu_level();

// The kernel written for exactly `level` (nullptr when that level has none for `type`, or
// its file is not part of this build). For tests and diagnostics.
VecDotFn vec_dot_at_level(CpuLevel level, TensorType type);

// What select_kernels(level) installs for `type`: the kernel of `level`, else of the next
// lower level of the same family, ..., else the generic one (nullptr for types without a
// dot product, such as Q8_K).
VecDotFn vec_dot_for_level(CpuLevel level, TensorType type);

// The same for row conversions: the to_float / from_float written for exactly `level`
// (nullptr when none; the generic ones of kernels/kernels.h at kGeneric for the types that
// have SIMD versions: F16, BF16, Q8_0, Q8_1, Q8_K), and what select_kernels installs. Every
// version gives the same bits as the generic one.
ToFloatFn to_float_at_level(CpuLevel level, TensorType type);
FromFloatFn from_float_at_level(CpuLevel level, TensorType type);
ToFloatFn to_float_for_level(CpuLevel level, TensorType type);
FromFloatFn from_float_for_level(CpuLevel level, TensorType type);

}  // namespace mmojo
