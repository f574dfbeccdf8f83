// simd_selfcheck: compares every SIMD dot-product kernel of this build with the generic
// kernel of its type, and the matrix-product tile (ops/matmul.h's matmul_tile(): the
// register-blocked GEMM of kernels/gemm_<isa>.cpp where the level has one) with
// matmul_tile_generic, at every kernel level this CPU supports, and exits non-zero on any
// mismatch; it also holds the K-quant kernels to kernel_precision_test.cpp's rounding bound
// (a super-block summed exactly in integers, rounded once). It needs no test framework, so
// it can be cross-built (zig c++) and run under an emulator (tests/integration/
// test_simd_neon.py runs it under qemu-aarch64-static).
//
//   simd_selfcheck [--expect-level LEVEL] [--min-kernels N] [--min-tiles N]
//
// --expect-level: also fail unless detect_cpu_level() names LEVEL (checks detection under
// an emulated CPU model). --min-kernels / --min-tiles: fail unless at least N (level, type)
// kernels / tiles were compared (so a build without kernel files cannot pass by comparing
// nothing).
//
// Data and tolerance as tests/unit/simd_kernels_test.cpp: random weights (finite random f16
// scales; Q8_0 weights and activations from the quantizers; now and then a row or an
// activation row of extremes), 1..64 blocks, odd byte offsets; |simd - generic| <= 1e-5 *
// sum |x_i y_i| of the dequantized rows. The tiles as that file's
// EveryLevelsMatmulTileMatchesTheGenericTile: 53 weight rows of 1, 3 and 9 blocks, batches
// of 1, 3, 4, 8, 11 and 19 activation rows, row ranges [0, 53), [16, 48) and [7, 40) (not
// multiples of any panel height), and nothing written outside the range.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/matmul.h"
#include "kernels/dispatch.h"
#include "kernels/float16.h"
#include "kernels/tensor_type.h"
#include "kernel_test_data.h"

namespace {

using namespace mmojo;

using namespace kernel_test;

const std::vector<TensorType> kDotTypes = dot_types();

constexpr CpuLevel kAllLevels[] = {CpuLevel::kGeneric, CpuLevel::kAvx2,  CpuLevel::kAvx512,
                                   CpuLevel::kAvx512Vnni, CpuLevel::kAmx, CpuLevel::kNeon, CpuLevel::kNeonDot};

bool is_x86(CpuLevel l) {
    return l == CpuLevel::kAvx2 || l == CpuLevel::kAvx512 || l == CpuLevel::kAvx512Vnni || l == CpuLevel::kAmx;
}
bool is_arm(CpuLevel l) { return l == CpuLevel::kNeon || l == CpuLevel::kNeonDot; }

// Returns the number of mismatching lengths.
int check(CpuLevel level, TensorType t, VecDotFn kernel, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const TensorType ty = row.vec_dot_type;
    const int64_t unit = row.block_size > tensor_type_traits(ty)->block_size
                             ? row.block_size
                             : tensor_type_traits(ty)->block_size;
    int bad = 0;
    for (int64_t k = 1; k <= 64; ++k) {
        const int64_t n = row.block_size == 1 ? k * 7 : k * unit;  // float types: odd tails
        const std::vector<uint8_t> x = random_weights(t, n, rng);
        const std::vector<uint8_t> y = quantize(ty, random_floats(n, rng));
        std::vector<uint8_t> bx(x.size() + 64), by(y.size() + 64);
        uint8_t* px = bx.data() + 1 + k % 31;
        uint8_t* py = by.data() + 3 + k % 29;
        std::memcpy(px, x.data(), x.size());
        std::memcpy(py, y.data(), y.size());
        const float want = row.vec_dot_generic(n, px, py);
        const float got = kernel(n, px, py);
        const double tol = kRelTolerance * abs_products(t, px, ty, py, n) + 1e-30;
        if (!(std::fabs(double(got) - want) <= tol)) {
            std::printf("MISMATCH %s %s n=%lld: simd %.9g generic %.9g (tolerance %.3g)\n",
                        cpu_level_name(level), row.name, static_cast<long long>(n), got, want, tol);
            ++bad;
        }
    }
    return bad;
}

// matmul_tile() (of the level select_kernels installed) against matmul_tile_generic on
// random matrices of type t. Adds the tiles compared to `tiles`; returns the mismatches
// (each case stops at its first bad output).
int check_tile(CpuLevel level, TensorType t, std::mt19937& rng, int& tiles) {
    const MatmulTileFn tile = matmul_tile();
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const TensorType ty = row.vec_dot_type;
    const int64_t unit = row.block_size > tensor_type_traits(ty)->block_size
                             ? row.block_size
                             : tensor_type_traits(ty)->block_size;
    constexpr int64_t kRows = 53;
    int bad = 0;
    for (int64_t n_cols : {unit, 3 * unit, (row.block_size == 1 ? 40 : 9) * unit}) {
        if (row.block_size == 1 && n_cols > 2048) continue;
        std::vector<uint8_t> w_bytes;
        for (int64_t r = 0; r < kRows; ++r) {
            const std::vector<uint8_t> one = random_weights(t, n_cols, rng, r % 11 == 5);
            w_bytes.insert(w_bytes.end(), one.begin(), one.end());
        }
        const Misaligned mw(w_bytes, 5);
        const Matrix w = make_matrix("w", t, n_cols, kRows, mw.data);
        for (int64_t n_batch : {1, 3, 4, 8, 11, 19}) {
            std::vector<uint8_t> x_bytes;
            for (int64_t b = 0; b < n_batch; ++b) {
                const std::vector<uint8_t> one = quantize(ty, random_floats(n_cols, rng, b == 2));
                x_bytes.insert(x_bytes.end(), one.begin(), one.end());
            }
            const Misaligned mx(x_bytes, 3);
            const size_t x_row = tensor_row_bytes(ty, n_cols);
            const int64_t ranges[3][2] = {{0, kRows}, {16, 48}, {7, 40}};
            for (const auto& range : ranges) {
                const int64_t r0 = range[0], r1 = range[1];
                std::vector<float> want(size_t(n_batch * kRows), -1.0f), got = want;
                matmul_tile_generic(w, r0, r1, mx.data, x_row, n_batch, want.data(), kRows);
                tile(w, r0, r1, mx.data, x_row, n_batch, got.data(), kRows);
                bool ok = true;
                for (int64_t b = 0; b < n_batch && ok; ++b) {
                    for (int64_t r = 0; r < kRows && ok; ++r) {
                        const size_t i = size_t(b * kRows + r);
                        if (r < r0 || r >= r1) {
                            if (got[i] != -1.0f) {
                                std::printf("MISMATCH tile %s %s cols=%lld batch=%lld rows [%lld,%lld): "
                                            "wrote row %lld of activation %lld\n",
                                            cpu_level_name(level), row.name, static_cast<long long>(n_cols),
                                            static_cast<long long>(n_batch), static_cast<long long>(r0),
                                            static_cast<long long>(r1), static_cast<long long>(r),
                                            static_cast<long long>(b));
                                ok = false;
                            }
                            continue;
                        }
                        const double tol =
                            kRelTolerance * abs_products(t, w.row(r), ty, mx.data + size_t(b) * x_row, n_cols) +
                            1e-30;
                        if (!(std::fabs(double(got[i]) - want[i]) <= tol)) {
                            std::printf("MISMATCH tile %s %s cols=%lld batch=%lld rows [%lld,%lld) r=%lld b=%lld: "
                                        "tile %.9g generic %.9g (tolerance %.3g)\n",
                                        cpu_level_name(level), row.name, static_cast<long long>(n_cols),
                                        static_cast<long long>(n_batch), static_cast<long long>(r0),
                                        static_cast<long long>(r1), static_cast<long long>(r),
                                        static_cast<long long>(b), got[i], want[i], tol);
                            ok = false;
                        }
                    }
                }
                if (!ok) ++bad;
                ++tiles;
            }
        }
    }
    return bad;
}

// The K-quant kernels of `level` against kernel_precision_test.cpp's rounding bound: the
// prompt tiles of Q4_K and Q6_K and the vec_dot kernels of Q2_K..Q6_K. Returns the failures.
int check_precision(CpuLevel level, std::mt19937& rng) {
    int bad = 0;
    for (TensorType t : {TensorType::kQ4_K, TensorType::kQ6_K}) {
        for (int64_t batch : {1, 4, 9}) {
            const double ratio = worst_ratio(matmul_tile(), t, batch, rng);
            const bool ok = ratio <= 1.0;
            std::printf("precision tile %-10s %-5s batch %lld: worst error / bound %.2f %s\n",
                        cpu_level_name(level), tensor_type_traits(t)->name,
                        static_cast<long long>(batch), ratio, ok ? "ok" : "FAIL");
            bad += ok ? 0 : 1;
        }
    }
    for (TensorType t : {TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                         TensorType::kQ5_K, TensorType::kQ6_K}) {
        const double ratio = worst_vec_dot_ratio(vec_dot_for_level(level, t), t, rng);
        const bool ok = ratio <= 1.0;
        std::printf("precision vec_dot %-10s %-5s: worst error / bound %.2f %s\n",
                    cpu_level_name(level), tensor_type_traits(t)->name, ratio, ok ? "ok" : "FAIL");
        bad += ok ? 0 : 1;
    }
    return bad;
}

}  // namespace

int main(int argc, char** argv) {
    std::string expect;
    int min_kernels = 0;
    int min_tiles = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--expect-level" && i + 1 < argc) {
            expect = argv[++i];
        } else if (a == "--min-kernels" && i + 1 < argc) {
            min_kernels = std::atoi(argv[++i]);
        } else if (a == "--min-tiles" && i + 1 < argc) {
            min_tiles = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--expect-level LEVEL] [--min-kernels N] [--min-tiles N]\n",
                         argv[0]);
            return 2;
        }
    }
    const CpuLevel best = detect_cpu_level();
    std::printf("detected level: %s\n", cpu_level_name(best));
    std::printf("cpu features:");
    for (const std::string& f : cpu_features()) std::printf(" %s", f.c_str());
    std::printf("\n");
    int failures = 0;
    if (!expect.empty() && expect != cpu_level_name(best)) {
        std::printf("FAIL: expected level %s\n", expect.c_str());
        ++failures;
    }
    std::mt19937 rng(12345);
    int kernels = 0;
    int tiles = 0;
    for (CpuLevel level : kAllLevels) {
        const bool supported = level == CpuLevel::kGeneric ||
                               ((is_x86(level) && is_x86(best)) || (is_arm(level) && is_arm(best)));
        if (!supported || int(level) > int(best)) continue;
        select_kernels(level);
        for (TensorType t : kDotTypes) {
            const TensorTypeTraits& row = *tensor_type_traits(t);
            if (row.vec_dot != vec_dot_for_level(level, t)) {
                std::printf("FAIL: %s: select_kernels installed the wrong %s kernel\n",
                            cpu_level_name(level), row.name);
                ++failures;
            }
            if (level == CpuLevel::kGeneric) continue;
            const VecDotFn kernel = vec_dot_at_level(level, t);
            if (kernel == nullptr) continue;
            const int bad = check(level, t, kernel, rng);
            std::printf("%-10s %-7s %s\n", cpu_level_name(level), row.name, bad ? "FAIL" : "ok");
            failures += bad;
            ++kernels;
        }
        // The generic tile is the oracle: at level generic only check that it is installed;
        // elsewhere say whether the level has a GEMM of its own (the test asks for one).
        const bool own_tile = matmul_tile() != matmul_tile_generic;
        if (level == CpuLevel::kGeneric) {
            if (own_tile) {
                std::printf("FAIL: level generic installed a tile other than matmul_tile_generic\n");
                ++failures;
            }
            continue;
        }
        std::printf("tile %-10s %s\n", cpu_level_name(level), own_tile ? "register-blocked" : "generic");
        failures += check_precision(level, rng);
        for (TensorType t : kDotTypes) {
            const int bad = check_tile(level, t, rng, tiles);
            std::printf("tile %-10s %-7s %s\n", cpu_level_name(level), tensor_type_traits(t)->name,
                        bad ? "FAIL" : "ok");
            failures += bad;
        }
    }
    select_kernels(best);
    std::printf("%d kernels compared, %d tiles compared, %d failures\n", kernels, tiles, failures);
    if (kernels < min_kernels) {
        std::printf("FAIL: fewer than %d kernels compared\n", min_kernels);
        return 1;
    }
    if (tiles < min_tiles) {
        std::printf("FAIL: fewer than %d tiles compared\n", min_tiles);
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
