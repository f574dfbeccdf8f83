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
// (llama.cpp's own CPU kernels round per SIMD lane.) tools/simd_selfcheck holds the NEON
// kernels to the same bound under qemu (tests/integration/test_simd_neon.py).
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
#include "kernel_test_data.h"

namespace mmojo {
namespace {

using namespace kernel_test;

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
            const double worst = worst_vec_dot_ratio(vec_dot_for_level(level, t), t, rng);
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
