// Tests of src/kernels/: the tensor type table, F16/BF16 conversion, activation quantizers
// and the generic dot products.
//
// Oracles: F16/BF16 values are built from their bit fields with ldexp in double, and midpoints
// between neighbours are computed in double; dot products are compared with a double
// precision dot of the two dequantized rows (dequantization itself is checked bit-exactly
// against Python's gguf package in tests/integration/test_dequant.py); CPU detection is
// compared with /proc/cpuinfo on Linux.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/blocks_lowbit.h"
#include "kernels/dispatch.h"
#include "kernels/float16.h"
#include "kernels/mxfp4.h"
#include "kernels/tensor_type.h"

namespace mmojo {
namespace {

// Every row of the table: tests walk it (as ggml's test-quantize-fns does), so a new row is
// tested without editing them.
std::vector<TensorType> all_types() {
    std::vector<TensorType> types;
    for (const TensorTypeTraits& row : tensor_type_table()) types.push_back(row.type);
    return types;
}
const std::vector<TensorType> kAllTypes = all_types();

bool is_activation_only(TensorType t) { return t == TensorType::kQ8_1 || t == TensorType::kQ8_K; }

// ---------------------------------------------------------------------------------------
// Table

TEST(TensorTypeTable, EveryTypeHasAConsistentRow) {
    for (TensorType t : kAllTypes) {
        const auto raw = static_cast<uint32_t>(t);
        const TensorTypeTraits* row = tensor_type_traits(t);
        ASSERT_NE(row, nullptr) << raw;
        EXPECT_EQ(row->type, t);
        EXPECT_STREQ(row->name, tensor_type_name(raw));
        ASSERT_NE(row->to_float, nullptr) << row->name;
        const TensorTypeTraits* dot_row = tensor_type_traits(row->vec_dot_type);
        ASSERT_NE(dot_row, nullptr) << row->name;
        EXPECT_NE(dot_row->from_float, nullptr) << row->name << ": activations cannot be made";
        EXPECT_EQ(row->block_size % dot_row->block_size, 0) << row->name;
        if (!is_activation_only(t)) {
            EXPECT_NE(row->vec_dot, nullptr) << row->name;
            EXPECT_NE(row->vec_dot_generic, nullptr) << row->name;
        }
    }
}

// Block sizes and bytes as given by the GGUF specification (ggml-common.h).
TEST(TensorTypeTable, BlockLayoutsMatchTheSpecification) {
    struct Expected {
        TensorType type;
        int64_t block_size;
        size_t bytes;
        size_t struct_bytes;
    };
    const Expected expected[] = {
        {TensorType::kF32, 1, 4, 4},
        {TensorType::kF16, 1, 2, 2},
        {TensorType::kBF16, 1, 2, 2},
        {TensorType::kQ4_0, 32, 2 + 16, sizeof(BlockQ4_0)},
        {TensorType::kQ4_1, 32, 2 + 2 + 16, sizeof(BlockQ4_1)},
        {TensorType::kQ5_0, 32, 2 + 4 + 16, sizeof(BlockQ5_0)},
        {TensorType::kQ5_1, 32, 2 + 2 + 4 + 16, sizeof(BlockQ5_1)},
        {TensorType::kQ8_0, 32, 2 + 32, sizeof(BlockQ8_0)},
        {TensorType::kQ8_1, 32, 2 + 2 + 32, sizeof(BlockQ8_1)},
        {TensorType::kQ2_K, 256, 16 + 64 + 2 + 2, sizeof(BlockQ2_K)},
        {TensorType::kQ3_K, 256, 32 + 64 + 12 + 2, sizeof(BlockQ3_K)},
        {TensorType::kQ4_K, 256, 2 + 2 + 12 + 128, sizeof(BlockQ4_K)},
        {TensorType::kQ5_K, 256, 2 + 2 + 12 + 32 + 128, sizeof(BlockQ5_K)},
        {TensorType::kQ6_K, 256, 128 + 64 + 16 + 2, sizeof(BlockQ6_K)},
        {TensorType::kQ8_K, 256, 4 + 256 + 32, sizeof(BlockQ8_K)},
        {TensorType::kIQ4_NL, 32, 2 + 16, sizeof(BlockIQ4_NL)},
        {TensorType::kIQ4_XS, 256, 2 + 2 + 4 + 128, sizeof(BlockIQ4_XS)},
        {TensorType::kIQ2_XXS, 256, 2 + 64, sizeof(BlockIQ2_XXS)},
        {TensorType::kIQ2_XS, 256, 2 + 64 + 8, sizeof(BlockIQ2_XS)},
        {TensorType::kIQ2_S, 256, 2 + 64 + 8 + 8, sizeof(BlockIQ2_S)},
        {TensorType::kIQ3_XXS, 256, 2 + 96, sizeof(BlockIQ3_XXS)},
        {TensorType::kIQ3_S, 256, 2 + 64 + 8 + 32 + 4, sizeof(BlockIQ3_S)},
        {TensorType::kIQ1_S, 256, 2 + 32 + 16, sizeof(BlockIQ1_S)},
        {TensorType::kIQ1_M, 256, 32 + 16 + 8, sizeof(BlockIQ1_M)},
        {TensorType::kTQ1_0, 256, 48 + 4 + 2, sizeof(BlockTQ1_0)},
        {TensorType::kTQ2_0, 256, 64 + 2, sizeof(BlockTQ2_0)},
        {TensorType::kMXFP4, 32, 1 + 16, sizeof(BlockMXFP4)},
        {TensorType::kNVFP4, 64, 4 + 32, sizeof(BlockNVFP4)},
        {TensorType::kQ1_0, 128, 2 + 16, sizeof(BlockQ1_0)},
        {TensorType::kQ2_0, 64, 2 + 16, sizeof(BlockQ2_0)},
    };
    // Every row of the table has its specified layout here.
    for (TensorType t : kAllTypes) {
        bool listed = false;
        for (const Expected& e : expected) listed = listed || e.type == t;
        EXPECT_TRUE(listed) << tensor_type_traits(t)->name << " has no specified layout in this test";
    }
    for (const Expected& e : expected) {
        const TensorTypeTraits* row = tensor_type_traits(e.type);
        ASSERT_NE(row, nullptr);
        EXPECT_EQ(row->block_size, e.block_size) << row->name;
        EXPECT_EQ(row->block_bytes, e.bytes) << row->name;
        EXPECT_EQ(e.struct_bytes, e.bytes) << row->name;
        EXPECT_EQ(tensor_row_bytes(e.type, 3 * e.block_size), 3 * e.bytes) << row->name;
        EXPECT_EQ(tensor_row_bytes(e.type, 0), 0u) << row->name;
    }
}

TEST(TensorTypeTable, NamesOfEveryGgmlTypeNumber) {
    // ggml.h enum ggml_type, spelled as ggml's type_traits name it.
    const char* names[] = {"f32",    "f16",     "q4_0",    "q4_1",   "q4_2",    "q4_3",
                           "q5_0",   "q5_1",    "q8_0",    "q8_1",   "q2_K",    "q3_K",
                           "q4_K",   "q5_K",    "q6_K",    "q8_K",   "iq2_xxs", "iq2_xs",
                           "iq3_xxs", "iq1_s",  "iq4_nl",  "iq3_s",  "iq2_s",   "iq4_xs",
                           "i8",     "i16",     "i32",     "i64",    "f64",     "iq1_m",
                           "bf16"};
    for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        ASSERT_NE(tensor_type_name(i), nullptr) << i;
        EXPECT_STREQ(tensor_type_name(i), names[i]) << i;
    }
    EXPECT_STREQ(tensor_type_name(34), "tq1_0");
    EXPECT_STREQ(tensor_type_name(35), "tq2_0");
    EXPECT_STREQ(tensor_type_name(39), "mxfp4");
    EXPECT_STREQ(tensor_type_name(40), "nvfp4");
    EXPECT_STREQ(tensor_type_name(41), "q1_0");
    EXPECT_STREQ(tensor_type_name(42), "q2_0");
    EXPECT_EQ(tensor_type_name(1000), nullptr);
    EXPECT_EQ(tensor_type_name(0xffffffffu), nullptr);
    EXPECT_EQ(tensor_type_traits(static_cast<TensorType>(4)), nullptr);   // removed q4_2
}

TEST(TensorTypeTable, RowBytesRejectsBadInput) {
    EXPECT_THROW(tensor_row_bytes(TensorType::kQ4_0, 33), std::runtime_error);
    EXPECT_THROW(tensor_row_bytes(TensorType::kQ4_K, 32), std::runtime_error);
    EXPECT_THROW(tensor_row_bytes(TensorType::kF32, -1), std::runtime_error);
    EXPECT_THROW(tensor_row_bytes(static_cast<TensorType>(24), 256), std::runtime_error);  // i8
    EXPECT_THROW(tensor_row_bytes(static_cast<TensorType>(999), 1), std::runtime_error);
    EXPECT_THROW(tensor_row_bytes(TensorType::kF32, std::numeric_limits<int64_t>::max()),
                 std::runtime_error);
    try {
        tensor_row_bytes(TensorType::kQ4_0, 33);
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("q4_0"), std::string::npos) << e.what();
    }
}

// ---------------------------------------------------------------------------------------
// F16 / BF16: oracles from bit fields

// Value of a binary16 pattern, from its fields, in double. NaN for NaN patterns.
double f16_value(uint16_t h) {
    const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    double v;
    if (exp == 31) {
        v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    } else if (exp == 0) {
        v = std::ldexp(static_cast<double>(mant), -24);
    } else {
        v = std::ldexp(static_cast<double>(mant + 1024), exp - 25);
    }
    return sign ? -v : v;
}

double bf16_value(uint16_t h) {
    const int sign = h >> 15, exp = (h >> 7) & 255, mant = h & 127;
    double v;
    if (exp == 255) {
        v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    } else if (exp == 0) {
        v = std::ldexp(static_cast<double>(mant), -133);
    } else {
        v = std::ldexp(static_cast<double>(mant + 128), exp - 134);
    }
    return sign ? -v : v;
}

TEST(Float16, EveryHalfConvertsExactlyAndBack) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto bits = static_cast<uint16_t>(h);
        const float f = f16_to_f32(bits);
        const double expected = f16_value(bits);
        if (std::isnan(expected)) {
            ASSERT_TRUE(std::isnan(f)) << h;
            ASSERT_EQ(std::signbit(f), (h >> 15) != 0) << h;
            const uint16_t back = f32_to_f16(f);
            ASSERT_EQ(back & 0xfe00u, (h & 0x8000u) | 0x7e00u) << h;  // quiet NaN, same sign
            ASSERT_EQ(back & 0x1ffu, h & 0x1ffu) << h;                // payload kept
        } else {
            ASSERT_EQ(static_cast<double>(f), expected) << h;
            ASSERT_EQ(std::signbit(f), (h >> 15) != 0) << h;  // -0 stays -0
            ASSERT_EQ(f32_to_f16(f), bits) << h;
        }
    }
}

// Between two neighbouring halves a < b: the midpoint goes to the one with an even
// mantissa, anything above/below it to the nearer one.
TEST(Float16, RoundsToNearestEvenEverywhere) {
    for (uint32_t sign = 0; sign <= 0x8000u; sign += 0x8000u) {
        for (uint32_t h = 0; h < 0x7c00u; ++h) {
            const auto lo = static_cast<uint16_t>(sign | h);
            const auto hi = static_cast<uint16_t>(sign | (h + 1));
            const double a = std::fabs(f16_value(lo));
            // Past the largest finite half the next step would be 2^16 (rounds to Inf).
            const double b = h + 1 == 0x7c00u ? 65536.0 : std::fabs(f16_value(hi));
            const double mid_d = (a + b) / 2;
            const float mid = static_cast<float>(sign ? -mid_d : mid_d);
            ASSERT_EQ(static_cast<double>(std::fabs(mid)), mid_d) << h;  // exact in binary32
            const uint16_t even = (h & 1u) ? hi : lo;
            ASSERT_EQ(f32_to_f16(mid), even) << h;
            const float above = std::nextafter(mid, sign ? -INFINITY : INFINITY);
            const float below = std::nextafter(mid, 0.0f);
            ASSERT_EQ(f32_to_f16(above), hi) << h;
            ASSERT_EQ(f32_to_f16(below), lo) << h;
        }
    }
}

TEST(Float16, SpecialValues) {
    EXPECT_EQ(f32_to_f16(INFINITY), 0x7c00);
    EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
    EXPECT_EQ(f32_to_f16(1e30f), 0x7c00);
    EXPECT_EQ(f32_to_f16(-65520.0f), 0xfc00);
    EXPECT_EQ(f32_to_f16(65519.996f), 0x7bff);
    EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::denorm_min()), 0x8000);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);                   // tie to even 0
    EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -26)), 0x0001);                   // 0.75 ulp
    EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);                   // 1.5: even
    EXPECT_EQ(f32_to_f16(std::ldexp(5.0f, -25)), 0x0002);                   // 2.5: even
    EXPECT_EQ(f32_to_f16(std::ldexp(1023.5f, -24)), 0x0400);                // into normals
    EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
    EXPECT_EQ(f32_to_f16(f32_from_bits(0x7f800001u)) & 0x7e00, 0x7e00);     // sNaN -> qNaN
    EXPECT_EQ(f32_to_f16(f32_from_bits(0xff800001u)) & 0xfe00, 0xfe00);
}

TEST(BFloat16, EveryPatternConvertsExactlyAndRoundsToNearestEven) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto bits = static_cast<uint16_t>(h);
        const float f = bf16_to_f32(bits);
        const double v = bf16_value(bits);
        if (std::isnan(v)) {
            ASSERT_TRUE(std::isnan(f));
            ASSERT_EQ(f32_to_bf16(f), bits | 0x40u) << h;  // made quiet, sign and payload kept
            continue;
        }
        ASSERT_EQ(static_cast<double>(f), v) << h;
        ASSERT_EQ(f32_to_bf16(f), bits) << h;
        if ((h & 0x7fffu) >= 0x7f80u) continue;  // no finite neighbour above Inf
        // Midpoint to the next pattern away from zero (0x7f7f -> 0x7f80 is Inf: 2^128).
        const auto next = static_cast<uint16_t>(h + 1);
        const double b = (next & 0x7fffu) == 0x7f80u ? std::ldexp(h >> 15 ? -1.0 : 1.0, 128)
                                                     : bf16_value(next);
        const double mid_d = (v + b) / 2;
        if (std::fabs(mid_d) > std::numeric_limits<float>::max()) continue;  // not a float
        const float mid = static_cast<float>(mid_d);
        ASSERT_EQ(static_cast<double>(mid), mid_d) << h;
        ASSERT_EQ(f32_to_bf16(mid), (h & 1u) ? next : bits) << h;
        const float away = std::nextafter(mid, mid_d < 0 ? -INFINITY : INFINITY);
        const float toward = std::nextafter(mid, 0.0f);
        ASSERT_EQ(f32_to_bf16(away), next) << h;
        ASSERT_EQ(f32_to_bf16(toward), bits) << h;
    }
    EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to Inf
    EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(f32_to_bf16(f32_from_bits(0x00008000u)), 0x0000);  // tie to even 0
    EXPECT_EQ(f32_to_bf16(f32_from_bits(0x00018000u)), 0x0002);  // tie to even 2
}

// ---------------------------------------------------------------------------------------
// Random data

// Activations: blocks of varied magnitude (1e-6 .. 1e4), plus an all-zero block, a block
// with one spike, and a block of large values, so every code path of the quantizers runs.
// (Values stay well inside the f16 range: F16 activations and the f16 block sum s of Q8_1
// overflow to Inf beyond 65504, in llama.cpp as here.)
std::vector<float> random_activations(int64_t n, int64_t block, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> exponent(-6.0f, 4.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t b = 0; b * block < n; ++b) {
        const float scale = std::pow(10.0f, exponent(rng));
        for (int64_t j = b * block; j < (b + 1) * block && j < n; ++j) {
            x[static_cast<size_t>(j)] = normal(rng) * scale;
        }
        const int64_t kind = b % 7;
        for (int64_t j = b * block; j < (b + 1) * block && j < n; ++j) {
            if (kind == 1) x[static_cast<size_t>(j)] = 0.0f;
            if (kind == 3) x[static_cast<size_t>(j)] = j == b * block + 5 ? -2.5f : 0.0f;
            if (kind == 5) x[static_cast<size_t>(j)] *= 1e3f / scale;
        }
    }
    return x;
}

// Offsets of the f16 scale fields ("d") and offset fields ("m"/"dmin") within a block.
struct ScaleFields {
    std::vector<size_t> d;
    std::vector<size_t> m;
};

ScaleFields scale_fields(TensorType t) {
    switch (t) {
        case TensorType::kQ4_0: return {{offsetof(BlockQ4_0, d)}, {}};
        case TensorType::kQ4_1: return {{offsetof(BlockQ4_1, d)}, {offsetof(BlockQ4_1, m)}};
        case TensorType::kQ5_0: return {{offsetof(BlockQ5_0, d)}, {}};
        case TensorType::kQ5_1: return {{offsetof(BlockQ5_1, d)}, {offsetof(BlockQ5_1, m)}};
        case TensorType::kQ8_0: return {{offsetof(BlockQ8_0, d)}, {}};
        case TensorType::kQ2_K: return {{offsetof(BlockQ2_K, d)}, {offsetof(BlockQ2_K, dmin)}};
        case TensorType::kQ3_K: return {{offsetof(BlockQ3_K, d)}, {}};
        case TensorType::kQ4_K: return {{offsetof(BlockQ4_K, d)}, {offsetof(BlockQ4_K, dmin)}};
        case TensorType::kQ5_K: return {{offsetof(BlockQ5_K, d)}, {offsetof(BlockQ5_K, dmin)}};
        case TensorType::kQ6_K: return {{offsetof(BlockQ6_K, d)}, {}};
        case TensorType::kIQ4_NL: return {{offsetof(BlockIQ4_NL, d)}, {}};
        case TensorType::kIQ4_XS: return {{offsetof(BlockIQ4_XS, d)}, {}};
        case TensorType::kIQ2_XXS: return {{offsetof(BlockIQ2_XXS, d)}, {}};
        case TensorType::kIQ2_XS: return {{offsetof(BlockIQ2_XS, d)}, {}};
        case TensorType::kIQ2_S: return {{offsetof(BlockIQ2_S, d)}, {}};
        case TensorType::kIQ3_XXS: return {{offsetof(BlockIQ3_XXS, d)}, {}};
        case TensorType::kIQ3_S: return {{offsetof(BlockIQ3_S, d)}, {}};
        case TensorType::kIQ1_S: return {{offsetof(BlockIQ1_S, d)}, {}};
        case TensorType::kTQ1_0: return {{offsetof(BlockTQ1_0, d)}, {}};
        case TensorType::kTQ2_0: return {{offsetof(BlockTQ2_0, d)}, {}};
        case TensorType::kQ1_0: return {{offsetof(BlockQ1_0, d)}, {}};
        case TensorType::kQ2_0: return {{offsetof(BlockQ2_0, d)}, {}};
        // IQ1_M's f16 is spread over nibbles (put_iq1_m_d); NVFP4's byte scales are all finite;
        // MXFP4's is a one-byte power of two (set in random_weights).
        case TensorType::kIQ1_M: case TensorType::kNVFP4: case TensorType::kMXFP4: return {};
        case TensorType::kF32: case TensorType::kF16: case TensorType::kBF16:
        case TensorType::kQ8_1: case TensorType::kQ8_K: return {};  // made by from_float
        default:
            ADD_FAILURE() << tensor_type_traits(t)->name << ": say where its scales are";
            return {};
    }
}

void put_f16(uint8_t* p, uint16_t h) { std::memcpy(p, &h, 2); }

// IQ1_M keeps its f16 in the top nibbles of its four u16 scale words (word i: bits 4i..4i+3).
void put_iq1_m_d(uint8_t* block, uint16_t h) {
    uint8_t* words = block + offsetof(BlockIQ1_M, scales);
    for (int i = 0; i < 4; ++i) {
        words[2 * i + 1] = static_cast<uint8_t>((words[2 * i + 1] & 0x0f) | (((h >> (4 * i)) & 0x0f) << 4));
    }
}

// A row of n weights of type t: random bytes (every quant pattern), with the f16 scales
// replaced by finite values of varied magnitude, including 0, +-65504 and subnormals.
std::vector<uint8_t> random_weights(TensorType t, int64_t n, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    std::vector<uint8_t> data(tensor_row_bytes(t, n));
    if (t == TensorType::kF32 || t == TensorType::kF16 || t == TensorType::kBF16) {
        const std::vector<float> x = random_activations(n, 32, rng);
        row.from_float(x.data(), data.data(), n);
        return data;
    }
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> exponent(-14, 2);
    const ScaleFields fields = scale_fields(t);
    const int64_t blocks = n / row.block_size;
    for (int64_t b = 0; b < blocks; ++b) {
        uint8_t* block = data.data() + b * row.block_bytes;
        for (const std::vector<size_t>* list : {&fields.d, &fields.m}) {
            for (size_t off : *list) {
                uint16_t h = f32_to_f16(std::ldexp(normal(rng), exponent(rng)));
                if (b % 11 == 4) h = 0x7bff;   // 65504
                if (b % 11 == 6) h = 0xfbff;   // -65504
                if (b % 11 == 8) h = 0x0001;   // 2^-24
                if (b % 11 == 9) h = 0x0000;
                put_f16(block + off, h);
            }
        }
        if (t == TensorType::kIQ1_M) put_iq1_m_d(block, f32_to_f16(std::ldexp(normal(rng), exponent(rng))));
        // MXFP4's E8M0 scale byte: 2^-10 .. 2^5, as in real weights (255 encodes NaN).
        if (t == TensorType::kMXFP4) block[offsetof(BlockMXFP4, e)] = static_cast<uint8_t>(117 + rng() % 16);
    }
    return data;
}

std::vector<float> dequantize(TensorType t, const std::vector<uint8_t>& data, int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    tensor_type_traits(t)->to_float(data.data(), out.data(), n);
    return out;
}

// ---------------------------------------------------------------------------------------
// Activation quantizers: round-trip error

TEST(ActivationQuantize, RoundTripErrorIsWithinHalfAStep) {
    std::mt19937 rng(42);
    for (TensorType t : {TensorType::kQ8_0, TensorType::kQ8_1, TensorType::kQ8_K,
                         TensorType::kF16, TensorType::kBF16, TensorType::kF32}) {
        const TensorTypeTraits& row = *tensor_type_traits(t);
        const int64_t block = row.block_size == 1 ? 32 : row.block_size;
        for (int64_t blocks : {1, 2, 7, 40}) {
            const int64_t n = blocks * block;
            const std::vector<float> x = random_activations(n, block, rng);
            std::vector<uint8_t> q(tensor_row_bytes(t, n));
            row.from_float(x.data(), q.data(), n);
            const std::vector<float> y = dequantize(t, q, n);
            for (int64_t b = 0; b < blocks; ++b) {
                double amax = 0;
                for (int64_t j = b * block; j < (b + 1) * block; ++j) {
                    amax = std::max(amax, std::fabs(static_cast<double>(x[j])));
                }
                for (int64_t j = b * block; j < (b + 1) * block; ++j) {
                    const double err = std::fabs(static_cast<double>(y[j]) - x[j]);
                    double bound = 0;
                    switch (t) {
                        // Half a step of amax/127, plus the f16 rounding of the scale
                        // (2^-11 relative on up to 127 steps), plus f16 underflow (2^-24).
                        case TensorType::kQ8_0:
                        case TensorType::kQ8_1:
                            bound = amax / 127 * (0.5 + 127.0 / 2048) * (1 + 1e-6) + 0x1p-24 * 128;
                            break;
                        case TensorType::kQ8_K:  // binary32 scale: half a step
                            bound = amax / 127 * 0.5 * (1 + 1e-5);
                            break;
                        case TensorType::kF16:
                            bound = std::max(std::fabs(x[j]) * 0x1p-11, 0x1p-25);
                            break;
                        case TensorType::kBF16:
                            bound = std::fabs(x[j]) * 0x1p-8;
                            break;
                        default:
                            bound = 0;
                    }
                    ASSERT_LE(err, bound) << row.name << " n=" << n << " j=" << j
                                          << " x=" << x[j] << " y=" << y[j];
                }
            }
            if (t == TensorType::kQ8_1) {  // s approximates the block sum of the values
                for (int64_t b = 0; b < blocks; ++b) {
                    BlockQ8_1 blk;
                    std::memcpy(&blk, q.data() + b * sizeof blk, sizeof blk);
                    double sum = 0;
                    for (int j = 0; j < kQK; ++j) sum += y[b * kQK + j];
                    const double d = f16_to_f32(blk.d);
                    const double s = f16_to_f32(blk.s);
                    // s uses the unrounded scale: each of s and d is one f16 rounding away
                    // (2^-11 relative, or 2^-25 absolute when subnormal).
                    ASSERT_LE(std::fabs(s - sum), (std::fabs(s) + std::fabs(sum)) * 0x1p-10 +
                                                      (d * 0x1p-11 + 0x1p-25) * 32 * 127 +
                                                      0x1p-24)
                        << b;
                }
            }
            if (t == TensorType::kQ8_K) {  // bsums are the 16-element sums of the quants
                for (int64_t b = 0; b < blocks; ++b) {
                    BlockQ8_K blk;
                    std::memcpy(&blk, q.data() + b * sizeof blk, sizeof blk);
                    for (int i = 0; i < 16; ++i) {
                        int sum = 0;
                        for (int j = 0; j < 16; ++j) sum += blk.qs[16 * i + j];
                        ASSERT_EQ(blk.bsums[i], sum);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dot products against the dequantized rows

// The dot product of every weight type with its activation type, against a double dot
// product of the dequantized rows. The kernels accumulate exact integer products per block
// and one float term per block, so the error is bounded by a few float roundings per block:
// (8 + blocks) * 2^-24 times S, where S sums |scale part| and |offset part| of every product
// (so that the offset terms that cancel in x = d*q - m are still counted).
// For Q8_1 activations the format's s = f16(d * sum q) replaces d_f16 * sum q, so the
// reference adds m * (s - d_f16 * sum q) per block (a designed property of Q4_1/Q5_1).
void check_dot(TensorType t, int64_t n, std::mt19937& rng, size_t misalign, bool use_selected) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const TensorTypeTraits& act = *tensor_type_traits(row.vec_dot_type);
    const std::vector<uint8_t> w = random_weights(t, n, rng);
    std::vector<float> a = random_activations(n, act.block_size == 1 ? 32 : act.block_size, rng);
    if (act.type == TensorType::kQ8_1) {
        // Q8_1's f16 block sum s overflows past 65504 (to Inf, as in llama.cpp): keep every
        // block's sum of magnitudes below that, so the dot has a finite reference.
        for (float& v : a) v = std::clamp(v, -1000.0f, 1000.0f);
    }
    std::vector<uint8_t> q(tensor_row_bytes(act.type, n));
    act.from_float(a.data(), q.data(), n);
    const std::vector<float> x = dequantize(t, w, n);
    const std::vector<float> y = dequantize(act.type, q, n);

    // Scale-only and offset-only dequantizations for the bound S.
    std::vector<float> x_scale = x, x_offset(x.size(), 0.0f);
    const ScaleFields fields = scale_fields(t);
    if (!fields.m.empty()) {
        std::vector<uint8_t> no_m = w, no_d = w;
        for (int64_t b = 0; b < n / row.block_size; ++b) {
            for (size_t off : fields.m) put_f16(no_m.data() + b * row.block_bytes + off, 0);
            for (size_t off : fields.d) put_f16(no_d.data() + b * row.block_bytes + off, 0);
        }
        x_scale = dequantize(t, no_m, n);
        x_offset = dequantize(t, no_d, n);
    }
    double ref = 0, bound_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        ref += static_cast<double>(x[i]) * y[i];
        bound_sum += (std::fabs(static_cast<double>(x_scale[i])) + std::fabs(x_offset[i])) *
                     std::fabs(y[i]);
    }
    if (act.type == TensorType::kQ8_1) {
        for (int64_t b = 0; b < n / kQK; ++b) {
            BlockQ8_1 yb;
            std::memcpy(&yb, q.data() + b * sizeof yb, sizeof yb);
            int sum_q = 0;
            for (int j = 0; j < kQK; ++j) sum_q += yb.qs[j];
            uint16_t m_bits;
            std::memcpy(&m_bits, w.data() + b * row.block_bytes + fields.m.at(0), 2);
            const double s_exact = static_cast<double>(f16_to_f32(yb.d)) * sum_q;
            const double correction = f16_to_f32(m_bits) * (f16_to_f32(yb.s) - s_exact);
            ref += correction;
            bound_sum += std::fabs(f16_to_f32(m_bits) * static_cast<double>(f16_to_f32(yb.s)));
        }
    }
    // Misaligned copies: kernels must accept rows at any byte address.
    std::vector<uint8_t> wbuf(w.size() + misalign), qbuf(q.size() + misalign);
    if (!w.empty()) std::memcpy(wbuf.data() + misalign, w.data(), w.size());
    if (!q.empty()) std::memcpy(qbuf.data() + misalign, q.data(), q.size());
    std::vector<float> x_misaligned(x.size());
    row.to_float(wbuf.data() + misalign, x_misaligned.data(), n);
    ASSERT_EQ(std::memcmp(x_misaligned.data(), x.data(), x.size() * sizeof(float)), 0)
        << row.name << ": to_float depends on the address";
    const VecDotFn fn = use_selected ? row.vec_dot : row.vec_dot_generic;
    const float got = fn(n, wbuf.data() + misalign, qbuf.data() + misalign);
    const double blocks = static_cast<double>(n / row.block_size);
    const double tol = (8 + blocks) * 0x1p-24 * bound_sum + 1e-30;
    ASSERT_TRUE(std::isfinite(got)) << row.name << " n=" << n;
    ASSERT_NEAR(got, ref, tol) << row.name << " n=" << n << " misalign=" << misalign;
}

TEST(VecDot, GenericMatchesDequantizedDotForEveryType) {
    std::mt19937 rng(2024);
    int checked = 0;
    for (TensorType t : kAllTypes) {
        if (is_activation_only(t)) continue;
        const TensorTypeTraits& row = *tensor_type_traits(t);
        const int64_t unit = std::max<int64_t>(row.block_size, 32);
        for (int64_t blocks : {1, 2, 3, 7, 16, 33}) {
            for (size_t misalign : {size_t{0}, size_t{1}, size_t{3}}) {
                check_dot(t, blocks * unit, rng, misalign, false);
                ++checked;
            }
        }
    }
    int dot_types = 0;
    for (TensorType t : kAllTypes) dot_types += is_activation_only(t) ? 0 : 1;
    EXPECT_EQ(checked, dot_types * 6 * 3);
    EXPECT_GE(dot_types, 27);  // the 15 types before the low-bit formats and 12 low-bit ones
}

TEST(VecDot, ZeroLengthIsZero) {
    for (TensorType t : kAllTypes) {
        const TensorTypeTraits& row = *tensor_type_traits(t);
        if (row.vec_dot_generic == nullptr) continue;
        const uint8_t dummy[4] = {0, 0, 0, 0};
        EXPECT_EQ(row.vec_dot_generic(0, dummy, dummy), 0.0f) << row.name;
    }
}

// A hand-made case with a known exact answer, for every quantized weight type: all weight
// quants equal to the same value and the activation all ones. Uses only the documented
// layouts (blocks.h), not our kernels, to build the expectation.
TEST(VecDot, Q4_0KnownValue) {
    BlockQ4_0 x[2];
    BlockQ8_0 y[2];
    for (int b = 0; b < 2; ++b) {
        x[b].d = f32_to_f16(0.5f);
        std::memset(x[b].qs, 0xB3, sizeof x[b].qs);  // low nibble 3 -> -5, high 11 -> +3
        y[b].d = f32_to_f16(0.25f);
        for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(j - 10);
    }
    double expected = 0;
    for (int b = 0; b < 2; ++b) {
        for (int j = 0; j < kQK; ++j) expected += 0.5 * (j < 16 ? -5 : 3) * 0.25 * (j - 10);
    }
    const float got = tensor_type_traits(TensorType::kQ4_0)->vec_dot_generic(64, x, y);
    EXPECT_EQ(static_cast<double>(got), expected);
}

// ---------------------------------------------------------------------------------------
// Dispatch

std::set<std::string> linux_cpu_flags() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    std::set<std::string> flags;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0 || line.rfind("Features", 0) == 0) {
            std::istringstream words(line.substr(line.find(':') + 1));
            std::string w;
            while (words >> w) flags.insert(w);
            break;
        }
    }
    return flags;
}

TEST(Dispatch, LevelNamesAreDistinct) {
    std::set<std::string> names;
    for (CpuLevel l : {CpuLevel::kGeneric, CpuLevel::kAvx2, CpuLevel::kAvx512,
                       CpuLevel::kAvx512Vnni, CpuLevel::kAmx, CpuLevel::kNeon, CpuLevel::kNeonDot}) {
        names.insert(cpu_level_name(l));
    }
    EXPECT_EQ(names.size(), 7u);
    EXPECT_STREQ(cpu_level_name(CpuLevel::kAvx512Vnni), "avx512vnni");
    EXPECT_STREQ(cpu_level_name(CpuLevel::kAmx), "amx");
}

TEST(Dispatch, DetectionAgreesWithProcCpuinfo) {
    const CpuLevel level = detect_cpu_level();
    const std::set<std::string> f = linux_cpu_flags();
    if (f.empty()) GTEST_SKIP() << "no /proc/cpuinfo on this system";
#if defined(__x86_64__)
    const bool avx2 = f.count("avx2") && f.count("fma") && f.count("f16c") && f.count("bmi2");
    const bool avx512 = avx2 && f.count("avx512f") && f.count("avx512bw") &&
                        f.count("avx512vl") && f.count("avx512dq");
    const bool vnni = avx512 && f.count("avx512_vnni");
    // Linux lists the AMX flags only when it supports tile state for processes.
    const bool amx = vnni && f.count("amx_tile") && f.count("amx_int8");
    const CpuLevel expected = amx      ? CpuLevel::kAmx
                              : vnni   ? CpuLevel::kAvx512Vnni
                              : avx512 ? CpuLevel::kAvx512
                              : avx2   ? CpuLevel::kAvx2
                                       : CpuLevel::kGeneric;
    EXPECT_EQ(cpu_level_name(level), std::string(cpu_level_name(expected)));
#elif defined(__aarch64__)
    const CpuLevel expected = f.count("asimddp") ? CpuLevel::kNeonDot : CpuLevel::kNeon;
    EXPECT_EQ(cpu_level_name(level), std::string(cpu_level_name(expected)));
#else
    EXPECT_EQ(level, CpuLevel::kGeneric);
#endif
}

TEST(Dispatch, SelectedKernelsAgreeWithTheDequantizedDot) {
    select_kernels(detect_cpu_level());
    std::mt19937 rng(77);
    for (TensorType t : kAllTypes) {
        if (is_activation_only(t)) continue;
        const TensorTypeTraits& row = *tensor_type_traits(t);
        ASSERT_NE(row.vec_dot, nullptr) << row.name;
        const int64_t unit = std::max<int64_t>(row.block_size, 32);
        for (int64_t blocks : {1, 5, 12}) check_dot(t, blocks * unit, rng, 1, true);
    }
    select_kernels(CpuLevel::kGeneric);
    for (TensorType t : kAllTypes) {
        const TensorTypeTraits& row = *tensor_type_traits(t);
        EXPECT_EQ(row.vec_dot, row.vec_dot_generic) << row.name;
    }
}

}  // namespace
}  // namespace mmojo
