// What this CPU and operating system let the kernels use: the kernel levels (one list, with
// their names), detection of the best level, and the extension names for --version and
// /props. Detection only; kernels/dispatch.h installs the kernels of a level.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// "generic", "avx2", "avx512", "avx512vnni", "amx", "neon", "neondot" (every level, in the
// order above), and back (nullopt for an unknown name).
const char* cpu_level_name(CpuLevel level);
std::optional<CpuLevel> cpu_level_from_name(std::string_view name);
std::vector<std::string> cpu_level_names();

// The next level down within a family; kGeneric ends every chain (and is below itself).
CpuLevel cpu_level_below(CpuLevel level);

// The best level this CPU and OS support (kGeneric on other architectures).
CpuLevel detect_cpu_level();

// The levels select_kernels may be given on this machine: kGeneric, then each level of the
// CPU's family up to detect_cpu_level(), in ascending order.
std::vector<CpuLevel> supported_cpu_levels();

// The instruction-set extensions of interest to the kernels that this CPU and OS make
// usable, named as Linux's /proc/cpuinfo names them: "avx2", "fma", "f16c", "bmi2",
// "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
// "amx_tile", "amx_int8", "amx_bf16" on x86; "asimd", "asimdhp", "asimddp", "i8mm" on
// AArch64. Extensions no level uses yet are listed too: --version and /props show them.
std::vector<std::string> cpu_features();

}  // namespace mmojo
