// Every SIMD dot-product kernel against the generic kernel of its type, at every kernel level
// this CPU supports (kernels/dispatch.h), and the forcing of lower levels.
//
// Oracle: the generic kernels (quant_*.cpp), which quant_test.cpp checks against a double
// precision dot of the dequantized rows. Data: random weight blocks (random quant bytes with
// finite random f16 scales; Q8_0 weights and all activations from the quantizers, so their
// quants are in -127..127 as the kernels require), lengths of 1..64 blocks, buffers
// starting at odd byte offsets.
//
// Tolerance: |simd - generic| <= 1e-5 * sum_i |x_i * y_i| over the dequantized rows. Inside
// a block both kernels compute the same integers; they differ only in the order of the
// float additions of per-block (or per-element, for F32/F16/BF16) terms, whose error is
// bounded by (terms * 2^-24) * sum |terms| and stays orders of magnitude below 1e-5 for
// these lengths in practice.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <utility>
#include <random>
#include <string>
#include <vector>

#include "ops/matmul.h"
#include "kernels/dispatch.h"
#include "kernels/float16.h"
#include "kernels/tensor_type.h"
#include "kernel_test_data.h"

namespace mmojo {
namespace {

using namespace kernel_test;

const std::vector<TensorType> kDotTypes = dot_types();

// Runs `kernel` against the generic kernel of t on many lengths; returns the cases run.
int compare_with_generic(TensorType t, VecDotFn kernel, const char* level, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const TensorType ty = row.vec_dot_type;
    std::vector<int64_t> lengths;
    if (row.block_size == 1) {  // float types: every tail length, then longer rows
        for (int64_t n = 1; n <= 80; ++n) lengths.push_back(n);
        for (int64_t n : {127, 128, 129, 255, 256, 1000, 2048, 4099}) lengths.push_back(n);
    } else {
        const int64_t unit = tensor_type_traits(ty)->block_size > row.block_size
                                 ? tensor_type_traits(ty)->block_size
                                 : row.block_size;
        for (int64_t blocks = 1; blocks <= 64; ++blocks) lengths.push_back(blocks * unit);
    }
    int cases = 0;
    for (int64_t n : lengths) {
        for (bool extremes : {false, true}) {
            if (extremes && n % 7 != 0 && n > 2 * row.block_size) continue;  // a sample suffices
            const std::vector<uint8_t> x = random_weights(t, n, rng, extremes);
            const std::vector<uint8_t> y = quantize(ty, random_floats(n, rng, extremes));
            const Misaligned mx(x, size_t(1 + n % 31)), my(y, size_t(3 + n % 29));
            const float want = row.vec_dot_generic(n, mx.data, my.data);
            const float got = kernel(n, mx.data, my.data);
            const double scale = abs_products(t, mx.data, ty, my.data, n);
            EXPECT_TRUE(std::isfinite(want)) << row.name << " n=" << n;
            EXPECT_LE(std::fabs(double(got) - want), kRelTolerance * scale + 1e-30)
                << level << " " << row.name << " n=" << n << (extremes ? " (extremes)" : "")
                << ": simd " << got << " generic " << want;
            ++cases;
        }
    }
    return cases;
}

TEST(SimdKernels, EveryKernelMatchesTheGenericOneAtEverySupportedLevel) {
    std::mt19937 rng(20240611);
    int kernels = 0;
    for (CpuLevel level : supported_cpu_levels()) {
        if (level == CpuLevel::kGeneric) continue;
        for (TensorType t : kDotTypes) {
            const VecDotFn kernel = vec_dot_at_level(level, t);
            if (kernel == nullptr) continue;
            SCOPED_TRACE(std::string(cpu_level_name(level)) + " " + tensor_type_traits(t)->name);
            EXPECT_GT(compare_with_generic(t, kernel, cpu_level_name(level), rng), 0);
            ++kernels;
        }
    }
#if defined(MMOJO_HAVE_AVX2)
    const std::vector<CpuLevel> levels = supported_cpu_levels();
    if (std::find(levels.begin(), levels.end(), CpuLevel::kAvx2) != levels.end()) {
        EXPECT_GE(kernels, 2) << "this build has AVX2 kernels and the CPU runs them";
        // Every dot type has its own AVX2 kernel, so none of them is skipped above.
        for (TensorType t : kDotTypes) {
            EXPECT_NE(vec_dot_at_level(CpuLevel::kAvx2, t), nullptr) << tensor_type_traits(t)->name;
        }
    }
#endif
#if defined(MMOJO_HAVE_AVX512VNNI)
    if (std::find(levels.begin(), levels.end(), CpuLevel::kAvx512Vnni) != levels.end()) {
        // The low-bit formats have kernels of their own at this level too.
        for (TensorType t : {TensorType::kIQ2_XXS, TensorType::kIQ2_XS, TensorType::kIQ2_S, TensorType::kIQ3_XXS,
                             TensorType::kIQ3_S, TensorType::kIQ1_S, TensorType::kIQ1_M, TensorType::kTQ1_0,
                             TensorType::kTQ2_0, TensorType::kNVFP4, TensorType::kQ1_0, TensorType::kQ2_0}) {
            EXPECT_NE(vec_dot_at_level(CpuLevel::kAvx512Vnni, t), nullptr) << tensor_type_traits(t)->name;
        }
    }
#endif
    std::printf("compared %d SIMD kernels with the generic ones\n", kernels);
}

TEST(SimdKernels, ForcingALevelInstallsThatLevelsKernels) {
    const std::vector<CpuLevel> levels = supported_cpu_levels();
    for (CpuLevel level : levels) {
        select_kernels(level);
        EXPECT_EQ(selected_cpu_level(), level);
        for (TensorType t : kDotTypes) {
            const TensorTypeTraits& row = *tensor_type_traits(t);
            EXPECT_EQ(row.vec_dot, vec_dot_for_level(level, t)) << cpu_level_name(level) << " " << row.name;
            if (VecDotFn own = vec_dot_at_level(level, t)) {
                EXPECT_EQ(row.vec_dot, own) << cpu_level_name(level) << " " << row.name;
            }
            if (level == CpuLevel::kGeneric) {
                EXPECT_EQ(row.vec_dot, row.vec_dot_generic) << row.name;
            }
        }
        // A level's own kernels differ from every lower level's: forcing really changes code.
        for (CpuLevel lower : levels) {
            if (int(lower) >= int(level)) continue;
            for (TensorType t : kDotTypes) {
                const VecDotFn own = vec_dot_at_level(level, t);
                if (own) {
                    EXPECT_NE(own, vec_dot_for_level(lower, t)) << cpu_level_name(level);
                }
            }
        }
    }
    select_kernels(detect_cpu_level());
    EXPECT_EQ(selected_cpu_level(), detect_cpu_level());
}

// Rows [r0, r1) of random `n_rows` x `n_cols` weight matrices of type t times random
// activation batches of each size in `batches`, through `tile` and through
// matmul_tile_generic, for each row range; returns the number of products compared.
int compare_tile_with_generic(MatmulTileFn tile, const char* level, TensorType t, int64_t n_cols, int64_t n_rows,
                              const std::vector<int64_t>& batches,
                              const std::vector<std::pair<int64_t, int64_t>>& ranges, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const TensorType ty = row.vec_dot_type;
    int compared = 0;
    std::vector<uint8_t> w_bytes;
    for (int64_t r = 0; r < n_rows; ++r) {
        const std::vector<uint8_t> one = random_weights(t, n_cols, rng, r % 11 == 5);
        w_bytes.insert(w_bytes.end(), one.begin(), one.end());
    }
    const Misaligned mw(w_bytes, 5);
    const Matrix w = make_matrix("w", t, n_cols, n_rows, mw.data);
    for (int64_t n_batch : batches) {
        std::vector<uint8_t> x_bytes;
        for (int64_t b = 0; b < n_batch; ++b) {
            const std::vector<uint8_t> one = quantize(ty, random_floats(n_cols, rng, b == 2));
            x_bytes.insert(x_bytes.end(), one.begin(), one.end());
        }
        const Misaligned mx(x_bytes, 3);
        const size_t x_row = tensor_row_bytes(ty, n_cols);
        for (auto [r0, r1] : ranges) {
            std::vector<float> want(size_t(n_batch * n_rows), -1.0f), got = want;
            matmul_tile_generic(w, r0, r1, mx.data, x_row, n_batch, want.data(), n_rows);
            tile(w, r0, r1, mx.data, x_row, n_batch, got.data(), n_rows);
            for (int64_t b = 0; b < n_batch; ++b) {
                for (int64_t r = 0; r < n_rows; ++r) {
                    const size_t i = size_t(b * n_rows + r);
                    if (r < r0 || r >= r1) {
                        EXPECT_EQ(got[i], -1.0f) << "wrote outside its rows";
                        continue;
                    }
                    const double scale = abs_products(t, w.row(r), ty, mx.data + size_t(b) * x_row, n_cols);
                    EXPECT_LE(std::fabs(double(got[i]) - want[i]), kRelTolerance * scale + 1e-30)
                        << level << " " << row.name << " cols=" << n_cols << " batch=" << n_batch << " rows ["
                        << r0 << "," << r1 << ") r=" << r << " b=" << b << ": tile " << got[i] << " generic "
                        << want[i];
                    if (std::fabs(double(got[i]) - want[i]) > kRelTolerance * scale + 1e-30) return compared;
                }
            }
            ++compared;
        }
    }
    return compared;
}

// The matrix-product tile of every level (register-blocked where the level has one) against
// matmul_tile_generic: random weight matrices of every dot type, row ranges that start and
// end off the kernels' 16-row panels, and batch sizes on both sides of their column blocks.
TEST(SimdKernels, EveryLevelsMatmulTileMatchesTheGenericTile) {
    std::mt19937 rng(777);
    int compared = 0;
    for (CpuLevel level : supported_cpu_levels()) {
        select_kernels(level);
        const MatmulTileFn tile = matmul_tile();
        for (TensorType t : kDotTypes) {
            const TensorTypeTraits& row = *tensor_type_traits(t);
            const int64_t unit = std::max(row.block_size, tensor_type_traits(row.vec_dot_type)->block_size);
            for (int64_t n_cols : {unit, 3 * unit, (row.block_size == 1 ? 40 : 9) * unit}) {
                if (row.block_size == 1 && n_cols > 2048) continue;
                compared += compare_tile_with_generic(tile, cpu_level_name(level), t, n_cols, 53,
                                                      {1, 3, 4, 8, 11, 19}, {{0, 53}, {16, 48}, {7, 40}}, rng);
            }
        }
    }
    select_kernels(detect_cpu_level());
    std::printf("compared %d matrix tiles with the generic tile\n", compared);
    EXPECT_GT(compared, 0);
}

// The same for prompt-sized products of the types with GEMM kernels (the lattice low-bit
// formats: a tile that decodes each weight super-block once per batch): rows long enough for
// the kernels to split them into several passes (70 Q4_0/Q8_0 blocks, an odd number; 9
// K-quant super-blocks) and batches that fill whole groups of 16 activation rows, with and
// without a partial one.
TEST(SimdKernels, EveryLevelsMatmulTileMatchesTheGenericTileOnLongRows) {
    std::mt19937 rng(4242);
    int compared = 0;
    for (CpuLevel level : supported_cpu_levels()) {
        select_kernels(level);
        const MatmulTileFn tile = matmul_tile();
        for (TensorType t : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K,
                             TensorType::kIQ2_XXS, TensorType::kIQ3_XXS, TensorType::kIQ2_S}) {
            const int64_t n_cols = t == TensorType::kQ4_0 || t == TensorType::kQ8_0 ? 70 * 32 : 9 * 256;
            compared += compare_tile_with_generic(tile, cpu_level_name(level), t, n_cols, 48, {16, 21, 32, 37},
                                                  {{0, 48}, {5, 37}}, rng);
        }
    }
    select_kernels(detect_cpu_level());
    EXPECT_EQ(compared, int(supported_cpu_levels().size()) * 7 * 4 * 2);
}

}  // namespace
}  // namespace mmojo
