// Run-time choice of kernels: detect what the CPU supports, once, and install the matching
// `vec_dot` kernels in the tensor type table (quant/tensor_type.h). One binary carries the
// generic kernels plus one variant per instruction-set level (files named *_avx2.cpp, ...).
#pragma once

#include <string>
#include <vector>

#include "quant/tensor_type.h"

namespace mmojo {

// Ordered within each family: a level implies the ones before it.
//   kAvx2:       AVX2 + FMA + F16C + BMI2 (the flags *_avx2.cpp files are built with)
//   kAvx512:     kAvx2 + AVX-512 F/BW/VL/DQ, with the OS saving ZMM state
//   kAvx512Vnni: kAvx512 + AVX512-VNNI (vpdpbusd)
//   kAmx:        kAvx512Vnni + AMX-TILE + AMX-INT8 with the OS saving tile state, and on
//                Linux the process's permission to use it granted (never on Windows or
//                macOS); only the prompt-processing GEMM uses it, vec_dot is avx512vnni's
//   kNeon:       AArch64 Advanced SIMD (always present on aarch64)
//   kNeonDot:    kNeon + the dot-product extension (sdot/udot, FEAT_DotProd)
enum class CpuLevel { kGeneric, kAvx2, kAvx512, kAvx512Vnni, kAmx, kNeon, kNeonDot };

// The best level this CPU and OS support (kGeneric on other architectures).
CpuLevel detect_cpu_level();

// The levels select_kernels may be given on this machine: kGeneric, then each level of the
// CPU's family up to detect_cpu_level(), in ascending order.
std::vector<CpuLevel> supported_cpu_levels();

// Installs the kernels for `level` (falling back to lower levels, then to generic, for each
// type that has no kernel at that level). Call once at start-up, before any thread runs
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
// (nullptr when none; the generic ones of quant/kernels.h at kGeneric for the types that
// have SIMD versions: F16, BF16, Q8_0, Q8_1, Q8_K), and what select_kernels installs. Every
// version gives the same bits as the generic one.
ToFloatFn to_float_at_level(CpuLevel level, TensorType type);
FromFloatFn from_float_at_level(CpuLevel level, TensorType type);
ToFloatFn to_float_for_level(CpuLevel level, TensorType type);
FromFloatFn from_float_for_level(CpuLevel level, TensorType type);

// The instruction-set extensions of interest to these kernels that this CPU and OS make
// usable, named as Linux's /proc/cpuinfo names them: "avx2", "fma", "f16c", "bmi2",
// "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
// "amx_tile", "amx_int8", "amx_bf16" on x86; "asimd", "asimdhp", "asimddp", "i8mm" on
// AArch64. Extensions no level uses yet are listed too: --version and /props show them.
std::vector<std::string> cpu_features();

// "generic", "avx2", "avx512", "avx512vnni", "amx", "neon", "neondot".
const char* cpu_level_name(CpuLevel level);

}  // namespace mmojo
