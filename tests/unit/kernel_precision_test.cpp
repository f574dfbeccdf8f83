// Rounding error of the K-quant matrix kernels, block by block. A K-quant dot product is
// exact in integers inside each 256-element super-block, so an implementation only has to
// round the few float operations that scale and add the super-block results; its error
// then stays within a few units in the last place of those terms:
//
//     |kernel - generic| <= (blocks + 4) * 2^-24 * sum_b (|r_b| + |m_b|),
//
// with r_b the generic kernel on block b alone and m_b its min term (the same block with its
// quants zeroed; 0 for Q6_K). This is much tighter than simd_kernels_test.cpp's bound
// (relative to sum_i |x_i y_i|), and it is what keeps us on the same side as llama.cpp and a
// float64 forward pass when an activation rounds to Q8_K near a tie (scripts/fidelity/): a
// kernel that scales each 16- or 32-element group in float and adds those terms cancels
// digits and missed this bound by 10-3000x, which made our greedy continuations leave
// llama.cpp's sooner on K-quant models.
//
// Held: every K-quant product at every x86 level: the register-blocked prompt kernels and
// the token-generation gemv kernels of Q4_K and Q6_K (batches of 1 to 32) and the vec_dot
// kernels of Q2_K..Q6_K, all of which sum a super-block in int32, SIMD lanes included.
// (llama.cpp's own CPU kernels round per SIMD lane; the NEON kernels are not measured here.)
//
// Oracle: the generic kernels (kernels/quant_kquants.cpp), checked against double precision by
// quant_test.cpp. Data: random weight blocks with small f16 scales and activation rows of
// normal random numbers quantized by the table's Q8_K quantizer, so results cancel as in a
// model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul_tile.h"
#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/float16.h"
#include "kernels/tensor_type.h"

namespace mmojo {
namespace {

std::vector<uint8_t> random_activations(int64_t n, std::mt19937& rng) {
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& f : v) f = g(rng);
    std::vector<uint8_t> out(tensor_row_bytes(TensorType::kQ8_K, n));
    tensor_type_traits(TensorType::kQ8_K)->from_float(v.data(), out.data(), n);
    return out;
}

// Random bytes with f16 scales in [0.001, 0.01): every quant and 6-bit scale pattern occurs.
std::vector<uint8_t> random_weight_row(TensorType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> bytes(tensor_row_bytes(t, n));
    for (uint8_t& b : bytes) b = uint8_t(rng());
    std::uniform_real_distribution<float> scale(0.001f, 0.01f);
    std::vector<size_t> fields;
    switch (t) {
        case TensorType::kQ2_K: fields = {80, 82}; break;
        case TensorType::kQ3_K: fields = {108}; break;
        case TensorType::kQ4_K: case TensorType::kQ5_K: fields = {0, 2}; break;
        default: fields = {208}; break;   // Q6_K
    }
    for (size_t base = 0; base < bytes.size(); base += tensor_type_traits(t)->block_bytes) {
        for (size_t off : fields) {
            const uint16_t h = f32_to_f16(scale(rng));
            std::memcpy(&bytes[base + off], &h, sizeof h);
        }
    }
    return bytes;
}

// The bound of the file comment for weight row w and activation row x of n elements.
double block_bound(TensorType t, const uint8_t* w, const uint8_t* x, int64_t n) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const size_t x_bytes = tensor_row_bytes(TensorType::kQ8_K, kQK_K);
    double sum = 0.0;
    int64_t blocks = 0;
    for (int64_t b = 0; b * kQK_K < n; ++b, ++blocks) {
        std::vector<uint8_t> block(w + size_t(b) * row.block_bytes, w + size_t(b + 1) * row.block_bytes);
        const uint8_t* xb = x + size_t(b) * x_bytes;
        sum += std::fabs(double(row.vec_dot_generic(kQK_K, block.data(), xb)));
        // The min term: the block with its quants (and Q5_K's high bits) zeroed.
        if (t == TensorType::kQ4_K || t == TensorType::kQ5_K || t == TensorType::kQ2_K) {
            if (t == TensorType::kQ4_K) std::memset(block.data() + offsetof(BlockQ4_K, qs), 0, sizeof(BlockQ4_K::qs));
            if (t == TensorType::kQ5_K) std::memset(block.data() + offsetof(BlockQ5_K, qh), 0, sizeof(BlockQ5_K::qh) + sizeof(BlockQ5_K::qs));
            if (t == TensorType::kQ2_K) std::memset(block.data() + offsetof(BlockQ2_K, qs), 0, sizeof(BlockQ2_K::qs));
            sum += std::fabs(double(row.vec_dot_generic(kQK_K, block.data(), xb)));
        }
    }
    return double(blocks + 4) * std::ldexp(1.0, -24) * sum + 1e-30;
}

// The largest |tile - generic| / bound over `tile` (rows [0, 32) of random matrices of
// 1, 3 and 8 super-blocks per row) times n_batch random activation rows.
double worst_ratio(MatmulTileFn tile, TensorType t, int64_t n_batch, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    constexpr int64_t kRows = 32;
    double worst = 0.0;
    for (int64_t blocks : {1, 3, 8}) {
        const int64_t n_cols = blocks * kQK_K;
        std::vector<uint8_t> w_bytes;
        for (int64_t r = 0; r < kRows; ++r) {
            const std::vector<uint8_t> one = random_weight_row(t, n_cols, rng);
            w_bytes.insert(w_bytes.end(), one.begin(), one.end());
        }
        const Matrix w = make_matrix("w", t, n_cols, kRows, w_bytes.data());
        const size_t x_row = tensor_row_bytes(TensorType::kQ8_K, n_cols);
        std::vector<uint8_t> x_bytes;
        for (int64_t b = 0; b < n_batch; ++b) {
            const std::vector<uint8_t> one = random_activations(n_cols, rng);
            x_bytes.insert(x_bytes.end(), one.begin(), one.end());
        }
        std::vector<float> got(size_t(n_batch * kRows));
        tile(w, 0, kRows, x_bytes.data(), x_row, n_batch, got.data(), kRows);
        for (int64_t b = 0; b < n_batch; ++b) {
            const uint8_t* x = x_bytes.data() + size_t(b) * x_row;
            for (int64_t r = 0; r < kRows; ++r) {
                const double want = row.vec_dot_generic(n_cols, w.row(r), x);
                const double err = std::fabs(double(got[size_t(b * kRows + r)]) - want);
                worst = std::max(worst, err / block_bound(t, w.row(r), x, n_cols));
            }
        }
    }
    return worst;
}

TEST(KernelPrecision, KQuantProductsRoundOnlySuperBlockResults) {
    std::mt19937 rng(15);
    int held = 0;
    for (CpuLevel level : supported_cpu_levels()) {
        select_kernels(level);
        const MatmulTileFn tile = matmul_tile();
        for (TensorType t : {TensorType::kQ4_K, TensorType::kQ6_K}) {
            std::string line;
            for (int64_t batch : {1, 2, 4, 8, 9, 16, 19, 32}) {
                const double ratio = worst_ratio(tile, t, batch, rng);
                char cell[32];
                std::snprintf(cell, sizeof cell, " b%lld:%.2f", static_cast<long long>(batch), ratio);
                line += cell;
                EXPECT_LE(ratio, 1.0) << cpu_level_name(level) << " " << tensor_type_traits(t)->name << " batch "
                                      << batch;
                ++held;
            }
            std::printf("[precision] %-10s %s worst error / bound:%s\n", cpu_level_name(level),
                        tensor_type_traits(t)->name, line.c_str());
        }
    }
    select_kernels(detect_cpu_level());
    std::printf("[precision] %d level/type/batch cases held to the bound\n", held);
}


// The K-quant vec_dot kernels (what the tiles use for Q2_K, Q3_K and Q5_K) against the same
// bound.
TEST(KernelPrecision, KQuantVecDotsRoundOnlySuperBlockResults) {
    std::mt19937 rng(16);
    for (CpuLevel level : supported_cpu_levels()) {
        std::string line;
        for (TensorType t : {TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                             TensorType::kQ6_K}) {
            const TensorTypeTraits& row = *tensor_type_traits(t);
            const VecDotFn kernel = vec_dot_for_level(level, t);
            double worst = 0.0;
            for (int64_t blocks : {1, 2, 5, 16}) {
                const int64_t n = blocks * kQK_K;
                for (int rep = 0; rep < 40; ++rep) {
                    const std::vector<uint8_t> w = random_weight_row(t, n, rng);
                    const std::vector<uint8_t> x = random_activations(n, rng);
                    const double err = std::fabs(double(kernel(n, w.data(), x.data())) -
                                                 double(row.vec_dot_generic(n, w.data(), x.data())));
                    worst = std::max(worst, err / block_bound(t, w.data(), x.data(), n));
                }
            }
            char cell[40];
            std::snprintf(cell, sizeof cell, " %s:%.2f", row.name, worst);
            line += cell;
            EXPECT_LE(worst, 1.0) << cpu_level_name(level) << " " << row.name;
        }
        std::printf("[precision] vec_dot %-10s worst error / bound:%s\n", cpu_level_name(level), line.c_str());
    }
}

}  // namespace
}  // namespace mmojo
