// CPU feature detection and kernel installation (see quant/dispatch.h).
//
// x86: CPUID leaf 1 (ECX: FMA bit 12, OSXSAVE 27, AVX 28, F16C 29) and leaf 7 sub-leaf 0
// (EBX: AVX2 bit 5, BMI2 8, AVX512F 16, AVX512DQ 17, AVX512BW 30, AVX512VL 31; ECX:
// AVX512_VNNI 11; EDX: AMX-TILE 24, AMX-INT8 25), plus XGETBV(0) to check that the OS saves
// YMM (XCR0 bits 1-2), opmask/ZMM state (bits 5-7) and tile state (XTILECFG 17, XTILEDATA
// 18); an instruction set the OS does not save is unusable. Linux also wants each process
// to ask for tile data before its first AMX instruction (arch_prctl ARCH_REQ_XCOMP_PERM,
// Documentation/arch/x86/xstate.rst); without it that instruction faults. Windows and macOS
// are never given the AMX level (our Windows build also runs under wine on Linux, where
// nobody asks).
// AArch64: NEON is architectural; the dot-product extension comes from HWCAP_ASIMDDP on
// Linux/Android, sysctl hw.optional.arm.FEAT_DotProd on macOS, and
// PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE on Windows.
#include "quant/dispatch.h"

#include <cstdint>

#include "quant/simd_kernels.h"
#include "quant/tensor_type.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define MMOJO_X86 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#define MMOJO_AARCH64 1
#if defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(_WIN32)
#include <windows.h>
#elif defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

namespace mmojo {

namespace {

#if defined(MMOJO_X86)

struct CpuidRegs {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
    CpuidRegs r;
#if defined(_MSC_VER) && !defined(__clang__)
    int regs[4] = {0, 0, 0, 0};
    __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
    r.eax = static_cast<uint32_t>(regs[0]);
    r.ebx = static_cast<uint32_t>(regs[1]);
    r.ecx = static_cast<uint32_t>(regs[2]);
    r.edx = static_cast<uint32_t>(regs[3]);
#else
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_count(leaf, subleaf, &a, &b, &c, &d)) {
        r.eax = a;
        r.ebx = b;
        r.ecx = c;
        r.edx = d;
    }
#endif
    return r;
}

uint64_t read_xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
    return _xgetbv(0);
#else
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

inline bool bit(uint32_t reg, int n) { return ((reg >> n) & 1u) != 0; }

// Whether this process may execute AMX instructions. Asked once per process (the answer
// holds for every thread, including ones created later).
[[maybe_unused]] bool amx_permitted() {
#if defined(__linux__)
    constexpr int kArchReqXcompPerm = 0x1023;   // arch_prctl code, asm/prctl.h
    constexpr unsigned long kXfeatureXtiledata = 18;
    static const bool granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
    return granted;
#else
    return false;
#endif
}

CpuLevel detect_x86() {
    const uint32_t max_leaf = cpuid(0, 0).eax;
    if (max_leaf < 7) return CpuLevel::kGeneric;
    const CpuidRegs l1 = cpuid(1, 0);
    if (!bit(l1.ecx, 27)) return CpuLevel::kGeneric;  // no OSXSAVE: cannot query XCR0
    const uint64_t xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6u) == 0x6u;
    const bool os_zmm = (xcr0 & 0xe6u) == 0xe6u;
    const CpuidRegs l7 = cpuid(7, 0);
    const bool avx2 = os_ymm && bit(l1.ecx, 28) && bit(l1.ecx, 12) && bit(l1.ecx, 29) &&
                      bit(l7.ebx, 5) && bit(l7.ebx, 8);
    if (!avx2) return CpuLevel::kGeneric;
    const bool avx512 = os_zmm && bit(l7.ebx, 16) && bit(l7.ebx, 17) && bit(l7.ebx, 30) &&
                        bit(l7.ebx, 31);
    if (!avx512) return CpuLevel::kAvx2;
    if (!bit(l7.ecx, 11)) return CpuLevel::kAvx512;
#if defined(MMOJO_HAVE_AMX)   // the level exists only in builds with its kernel file
    const bool os_tiles = (xcr0 & 0x60000u) == 0x60000u;
    const bool amx = os_tiles && bit(l7.edx, 24) && bit(l7.edx, 25);
    if (amx && amx_permitted()) return CpuLevel::kAmx;
#endif
    return CpuLevel::kAvx512Vnni;
}

#endif  // MMOJO_X86

#if defined(MMOJO_AARCH64)

bool has_arm_dotprod() {
#if defined(__APPLE__)
    int value = 0;
    size_t size = sizeof value;
    if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, nullptr, 0) != 0) {
        return false;
    }
    return value != 0;
#elif defined(_WIN32)
#if defined(PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE)
    return IsProcessorFeaturePresent(PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE) != 0;
#else
    return false;
#endif
#elif defined(__linux__)
    constexpr unsigned long kHwcapAsimdDp = 1ul << 20;  // HWCAP_ASIMDDP in asm/hwcap.h
    return (getauxval(AT_HWCAP) & kHwcapAsimdDp) != 0;
#else
    return false;
#endif
}

#endif  // MMOJO_AARCH64

}  // namespace

CpuLevel detect_cpu_level() {
#if defined(MMOJO_X86)
    return detect_x86();
#elif defined(MMOJO_AARCH64)
    return has_arm_dotprod() ? CpuLevel::kNeonDot : CpuLevel::kNeon;
#else
    return CpuLevel::kGeneric;
#endif
}

namespace {

CpuLevel g_selected = CpuLevel::kGeneric;

// The next level down within a family; kGeneric ends every chain.
CpuLevel lower_level(CpuLevel level) {
    switch (level) {
        case CpuLevel::kAmx: return CpuLevel::kAvx512Vnni;
        case CpuLevel::kAvx512Vnni: return CpuLevel::kAvx512;
        case CpuLevel::kAvx512: return CpuLevel::kAvx2;
        case CpuLevel::kNeonDot: return CpuLevel::kNeon;
        default: return CpuLevel::kGeneric;
    }
}

}  // namespace

CpuLevel selected_cpu_level() { return g_selected; }

std::vector<CpuLevel> supported_cpu_levels() {
    std::vector<CpuLevel> levels;
    for (CpuLevel l = detect_cpu_level(); l != CpuLevel::kGeneric; l = lower_level(l)) {
        levels.insert(levels.begin(), l);
    }
    levels.insert(levels.begin(), CpuLevel::kGeneric);
    return levels;
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
#if defined(MMOJO_HAVE_AVX512)
        case CpuLevel::kAvx512: return vec_dot_avx512(type);
#endif
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
    for (CpuLevel l = level;; l = lower_level(l)) {
        if (VecDotFn fn = vec_dot_at_level(l, type)) return fn;
        if (l == CpuLevel::kGeneric) return nullptr;
    }
}

void select_kernels(CpuLevel level) {
    // Walk every raw type number that has a row (the enum is sparse).
    for (uint32_t raw = 0; raw < 64; ++raw) {
        const auto type = static_cast<TensorType>(raw);
        TensorTypeTraits* row = tensor_type_traits_mutable(type);
        if (row != nullptr) row->vec_dot = vec_dot_for_level(level, type);
    }
    g_selected = level;
}

const char* cpu_level_name(CpuLevel level) {
    switch (level) {
        case CpuLevel::kGeneric: return "generic";
        case CpuLevel::kAvx2: return "avx2";
        case CpuLevel::kAvx512: return "avx512";
        case CpuLevel::kAvx512Vnni: return "avx512vnni";
        case CpuLevel::kAmx: return "amx";
        case CpuLevel::kNeon: return "neon";
        case CpuLevel::kNeonDot: return "neondot";
    }
    return "unknown";
}

}  // namespace mmojo
