// CPU feature detection and the list of kernel levels (see base/cpu_features.h).
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
// Listed by cpu_features() only: AVX-VNNI (leaf 7 sub-leaf 1 EAX bit 4), AVX512-BF16 (same,
// bit 5), AMX-BF16 (leaf 7 EDX bit 22).
// AArch64: NEON is architectural; the dot-product extension comes from HWCAP_ASIMDDP on
// Linux/Android, sysctl hw.optional.arm.FEAT_DotProd on macOS, and
// PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE on Windows; likewise half-precision arithmetic
// (HWCAP_ASIMDHP, FEAT_FP16, PF_ARM_V82_FP16_...) and the int8 matrix multiply
// (HWCAP2_I8MM, FEAT_I8MM, PF_ARM_V82_I8MM_...), which cpu_features() reports.
#include "base/cpu_features.h"

#include <cstdint>

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

// Every level, its name (--cpu-features, /props, --version) and the level below it in its
// family; the one list of levels.
struct LevelRow {
    CpuLevel level;
    const char* name;
    CpuLevel below;
};
constexpr LevelRow kLevels[] = {
    {CpuLevel::kGeneric, "generic", CpuLevel::kGeneric},
    {CpuLevel::kAvx2, "avx2", CpuLevel::kGeneric},
    {CpuLevel::kAvx512, "avx512", CpuLevel::kAvx2},
    {CpuLevel::kAvx512Vnni, "avx512vnni", CpuLevel::kAvx512},
    {CpuLevel::kAmx, "amx", CpuLevel::kAvx512Vnni},
    {CpuLevel::kNeon, "neon", CpuLevel::kGeneric},
    {CpuLevel::kNeonDot, "neondot", CpuLevel::kNeon},
};

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

// What CPUID and XCR0 say, once.
struct X86Features {
    bool avx2 = false;         // with FMA, F16C, BMI2 and YMM state saved
    bool avx512 = false;       // F/DQ/BW/VL with opmask and ZMM state saved
    bool avx512_vnni = false, avx512_bf16 = false, avx_vnni = false;
    bool amx_tile = false, amx_int8 = false, amx_bf16 = false;   // with tile state saved
};

X86Features detect_x86_features() {
    X86Features f;
    const uint32_t max_leaf = cpuid(0, 0).eax;
    if (max_leaf < 7) return f;
    const CpuidRegs l1 = cpuid(1, 0);
    if (!bit(l1.ecx, 27)) return f;  // no OSXSAVE: cannot query XCR0
    const uint64_t xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6u) == 0x6u;
    const bool os_zmm = (xcr0 & 0xe6u) == 0xe6u;
    const bool os_tiles = (xcr0 & 0x60000u) == 0x60000u;
    const CpuidRegs l7 = cpuid(7, 0);
    const CpuidRegs l7s1 = l7.eax >= 1 ? cpuid(7, 1) : CpuidRegs{};
    f.avx2 = os_ymm && bit(l1.ecx, 28) && bit(l1.ecx, 12) && bit(l1.ecx, 29) && bit(l7.ebx, 5) &&
             bit(l7.ebx, 8);
    f.avx_vnni = f.avx2 && bit(l7s1.eax, 4);
    f.avx512 = f.avx2 && os_zmm && bit(l7.ebx, 16) && bit(l7.ebx, 17) && bit(l7.ebx, 30) &&
               bit(l7.ebx, 31);
    f.avx512_vnni = f.avx512 && bit(l7.ecx, 11);
    f.avx512_bf16 = f.avx512 && bit(l7s1.eax, 5);
    f.amx_tile = os_tiles && bit(l7.edx, 24);
    f.amx_int8 = f.amx_tile && bit(l7.edx, 25);
    f.amx_bf16 = f.amx_tile && bit(l7.edx, 22);
    return f;
}

CpuLevel detect_x86() {
    const X86Features f = detect_x86_features();
    if (!f.avx2) return CpuLevel::kGeneric;
    if (!f.avx512) return CpuLevel::kAvx2;
    if (!f.avx512_vnni) return CpuLevel::kAvx512;
#if defined(MMOJO_HAVE_AMX)   // the level exists only in builds with its kernel file
    if (f.amx_int8 && amx_permitted()) return CpuLevel::kAmx;
#endif
    return CpuLevel::kAvx512Vnni;
}

#endif  // MMOJO_X86

#if defined(MMOJO_AARCH64)

struct ArmFeatures {
    bool dotprod = false, fp16 = false, i8mm = false;
};

#if defined(__APPLE__)
bool sysctl_flag(const char* name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}
#endif

ArmFeatures detect_arm_features() {
    ArmFeatures f;
#if defined(__APPLE__)
    f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
    f.fp16 = sysctl_flag("hw.optional.arm.FEAT_FP16");
    f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
#elif defined(_WIN32)
#if defined(PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE)
    f.dotprod = IsProcessorFeaturePresent(PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE) != 0;
#endif
#if defined(PF_ARM_V82_FP16_INSTRUCTIONS_AVAILABLE)
    f.fp16 = IsProcessorFeaturePresent(PF_ARM_V82_FP16_INSTRUCTIONS_AVAILABLE) != 0;
#endif
#if defined(PF_ARM_V82_I8MM_INSTRUCTIONS_AVAILABLE)
    f.i8mm = IsProcessorFeaturePresent(PF_ARM_V82_I8MM_INSTRUCTIONS_AVAILABLE) != 0;
#endif
#elif defined(__linux__)
    // asm/hwcap.h: HWCAP_ASIMDHP bit 10, HWCAP_ASIMDDP bit 20, HWCAP2_I8MM bit 13.
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    f.fp16 = (hwcap & (1ul << 10)) != 0;
    f.dotprod = (hwcap & (1ul << 20)) != 0;
    f.i8mm = (hwcap2 & (1ul << 13)) != 0;
#endif
    return f;
}

#endif  // MMOJO_AARCH64

}  // namespace

CpuLevel detect_cpu_level() {
#if defined(MMOJO_X86)
    return detect_x86();
#elif defined(MMOJO_AARCH64)
    return detect_arm_features().dotprod ? CpuLevel::kNeonDot : CpuLevel::kNeon;
#else
    return CpuLevel::kGeneric;
#endif
}

const char* cpu_level_name(CpuLevel level) {
    for (const LevelRow& row : kLevels) {
        if (row.level == level) return row.name;
    }
    return "unknown";
}

std::optional<CpuLevel> cpu_level_from_name(std::string_view name) {
    for (const LevelRow& row : kLevels) {
        if (name == row.name) return row.level;
    }
    return std::nullopt;
}

std::vector<std::string> cpu_level_names() {
    std::vector<std::string> names;
    for (const LevelRow& row : kLevels) names.emplace_back(row.name);
    return names;
}

CpuLevel cpu_level_below(CpuLevel level) {
    for (const LevelRow& row : kLevels) {
        if (row.level == level) return row.below;
    }
    return CpuLevel::kGeneric;
}

std::vector<CpuLevel> supported_cpu_levels() {
    std::vector<CpuLevel> levels;
    for (CpuLevel l = detect_cpu_level(); l != CpuLevel::kGeneric; l = cpu_level_below(l)) {
        levels.insert(levels.begin(), l);
    }
    levels.insert(levels.begin(), CpuLevel::kGeneric);
    return levels;
}

std::vector<std::string> cpu_features() {
    std::vector<std::string> names;
    auto add = [&](bool present, const char* name) {
        if (present) names.emplace_back(name);
    };
#if defined(MMOJO_X86)
    const X86Features f = detect_x86_features();
    for (const char* name : {"avx2", "fma", "f16c", "bmi2"}) add(f.avx2, name);
    for (const char* name : {"avx512f", "avx512dq", "avx512bw", "avx512vl"}) add(f.avx512, name);
    add(f.avx512_vnni, "avx512_vnni");
    add(f.avx512_bf16, "avx512_bf16");
    add(f.avx_vnni, "avx_vnni");
    add(f.amx_tile, "amx_tile");
    add(f.amx_int8, "amx_int8");
    add(f.amx_bf16, "amx_bf16");
#elif defined(MMOJO_AARCH64)
    const ArmFeatures f = detect_arm_features();
    add(true, "asimd");
    add(f.fp16, "asimdhp");
    add(f.dotprod, "asimddp");
    add(f.i8mm, "i8mm");
#endif
    (void)add;
    return names;
}

}  // namespace mmojo
