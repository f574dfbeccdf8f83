// Row conversions of every CPU level (kernels/convert_<isa>.cpp) against the generic ones of
// kernels/kernels.h: F16/BF16 <-> F32 and the Q8_0, Q8_1, Q8_K activation quantizers must give
// the same bytes, on random rows of odd lengths and on special values (zeros, ties of the
// rounding, subnormals, infinities, NaNs with payloads).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/kernels.h"
#include "kernels/tensor_type.h"

namespace mmojo {
namespace {

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Normal values of several magnitudes, with some exact ties of the Q8 rounding and some
// special values mixed in when `specials` is set.
std::vector<float> random_row(int64_t n, std::mt19937& rng, bool specials) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 39);
    std::uniform_int_distribution<uint32_t> any_bits;
    std::vector<float> x(static_cast<size_t>(n));
    const float magnitude = std::ldexp(1.0f, int(any_bits(rng) % 40) - 20);
    for (float& v : x) {
        v = normal(rng) * magnitude;
        if (!specials) continue;
        switch (pick(rng)) {
            case 0: v = 0.0f; break;
            case 1: v = -0.0f; break;
            case 2: v = std::round(v * 2.0f) * 0.5f; break;                  // halves
            case 3: v = from_bits(any_bits(rng) & 0x807fffffu); break;       // subnormal
            case 4: v = from_bits(any_bits(rng)); break;                     // any bits
            case 5: v = std::numeric_limits<float>::infinity(); break;
            case 6: v = from_bits(0x7f800001u | (any_bits(rng) & 0x803fffffu)); break;  // sNaN
            case 7: v = from_bits(0x38fff000u); break;  // F16 rounding tie near 2^-13
            default: break;
        }
    }
    return x;
}

std::vector<uint16_t> random_halves(int64_t n, std::mt19937& rng) {
    std::uniform_int_distribution<uint32_t> bits(0, 0xffff);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    for (uint16_t& v : h) v = uint16_t(bits(rng));
    return h;
}

const CpuLevel kAllLevels[] = {CpuLevel::kAvx2,       CpuLevel::kAvx512, CpuLevel::kAvx512Vnni,
                               CpuLevel::kAmx,        CpuLevel::kNeon,   CpuLevel::kNeonDot};

bool supported(CpuLevel level) {
    for (CpuLevel l : supported_cpu_levels()) {
        if (l == level) return true;
    }
    return false;
}

TEST(Convert, ToFloatIsBitExactAtEveryLevel) {
    std::mt19937 rng(11);
    int compared = 0;
    for (CpuLevel level : kAllLevels) {
        if (!supported(level)) continue;
        for (TensorType t : {TensorType::kF16, TensorType::kBF16}) {
            const ToFloatFn simd = to_float_at_level(level, t);
            if (!simd) continue;
            const ToFloatFn generic = to_float_at_level(CpuLevel::kGeneric, t);
            SCOPED_TRACE(std::string(cpu_level_name(level)) + " " + tensor_type_traits(t)->name);
            for (int64_t n : {1, 3, 7, 8, 15, 16, 17, 31, 64, 100, 129, 1000}) {
                // Every bit pattern once, then random rows; a sentinel after each row.
                std::vector<uint16_t> h = random_halves(n, rng);
                std::vector<float> a(size_t(n) + 1, 7.0f), b(size_t(n) + 1, 7.0f);
                generic(h.data(), a.data(), n);
                simd(h.data(), b.data(), n);
                ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "n=" << n;
            }
            std::vector<uint16_t> all(65536);
            for (uint32_t i = 0; i < 65536; ++i) all[i] = uint16_t(i);
            std::vector<float> a(65536), b(65536);
            generic(all.data(), a.data(), 65536);
            simd(all.data(), b.data(), 65536);
            for (uint32_t i = 0; i < 65536; ++i) {
                uint32_t ua, ub;
                std::memcpy(&ua, &a[i], 4);
                std::memcpy(&ub, &b[i], 4);
                ASSERT_EQ(ua, ub) << "half 0x" << std::hex << i;
            }
            ++compared;
        }
    }
    std::printf("compared %d SIMD to_float kernels\n", compared);
}

TEST(Convert, FromFloatIsBitExactAtEveryLevel) {
    std::mt19937 rng(12);
    int compared = 0;
    for (CpuLevel level : kAllLevels) {
        if (!supported(level)) continue;
        for (TensorType t : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0,
                             TensorType::kQ8_1, TensorType::kQ8_K}) {
            const FromFloatFn simd = from_float_at_level(level, t);
            if (!simd) continue;
            const FromFloatFn generic = from_float_at_level(CpuLevel::kGeneric, t);
            const TensorTypeTraits* row = tensor_type_traits(t);
            SCOPED_TRACE(std::string(cpu_level_name(level)) + " " + row->name);
            for (bool specials : {false, true}) {
                for (int64_t blocks : {1, 2, 3, 5, 8, 13}) {
                    for (int64_t extra : {0, 1, 7, 9}) {
                        // Odd lengths only for the one-element types.
                        if (row->block_size > 1 && extra != 0) continue;
                        const int64_t n = blocks * (row->block_size > 1 ? row->block_size : 16) + extra;
                        for (int rep = 0; rep < 4; ++rep) {
                            const std::vector<float> x = random_row(n, rng, specials);
                            const size_t bytes = tensor_row_bytes(t, n);
                            std::vector<uint8_t> a(bytes + 8, 0xa5), b(bytes + 8, 0xa5);
                            generic(x.data(), a.data(), n);
                            simd(x.data(), b.data(), n);
                            ASSERT_EQ(a, b) << "n=" << n << " specials=" << specials;
                        }
                    }
                }
            }
            // An all-zero block and one whose largest magnitude appears twice with both signs.
            const int64_t n = row->block_size > 1 ? row->block_size : 64;
            std::vector<float> x(size_t(n), 0.0f);
            for (int pass = 0; pass < 2; ++pass) {
                const size_t bytes = tensor_row_bytes(t, n);
                std::vector<uint8_t> a(bytes, 1), b(bytes, 2);
                generic(x.data(), a.data(), n);
                simd(x.data(), b.data(), n);
                EXPECT_EQ(a, b) << "pass " << pass;
                x[3] = -2.5f;
                x[size_t(n) - 2] = 2.5f;
                x[5] = 1.25f;
            }
            ++compared;
        }
    }
    std::printf("compared %d SIMD from_float kernels\n", compared);
#if defined(MMOJO_HAVE_AVX2)
    if (supported(CpuLevel::kAvx2)) {
        EXPECT_GE(compared, 5);
    }
#endif
}

TEST(Convert, SelectKernelsInstallsTheLevelsConversions) {
    for (CpuLevel level : supported_cpu_levels()) {
        select_kernels(level);
        for (TensorType t : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0,
                             TensorType::kQ8_1, TensorType::kQ8_K}) {
            const TensorTypeTraits* row = tensor_type_traits(t);
            EXPECT_EQ(row->from_float, from_float_for_level(level, t)) << cpu_level_name(level);
            if (ToFloatFn fn = to_float_for_level(level, t)) {
                EXPECT_EQ(row->to_float, fn);
            }
        }
    }
    select_kernels(detect_cpu_level());
}

}  // namespace
}  // namespace mmojo
