// The float row kernels of every CPU level (kernels/vector_kernels_<isa>.cpp) against the
// generic table (kernels/vector_kernels.cpp), on random rows of odd lengths, and the vector
// exp against std::exp in double over the whole float range.
//
// Tolerances: exp and everything built on it within 2e-7 relative (measured worst: about
// 7.6e-8, under 1.5 ulp); the scale/multiply kernel exactly; sums and axpy within float rounding of
// a different order (1e-6 relative to the sum of magnitudes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/vector_kernels.h"

namespace mmojo {
namespace {

const CpuLevel kAllLevels[] = {CpuLevel::kAvx2,       CpuLevel::kAvx512, CpuLevel::kAvx512Vnni,
                               CpuLevel::kAmx,        CpuLevel::kNeon,   CpuLevel::kNeonDot};

bool supported(CpuLevel level) {
    for (CpuLevel l : supported_cpu_levels()) {
        if (l == level) return true;
    }
    return false;
}

std::vector<float> random_row(int64_t n, std::mt19937& rng, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

constexpr float kExpTolerance = 2e-7f;
const int64_t kLengths[] = {1, 2, 7, 8, 9, 15, 16, 17, 33, 64, 100, 255, 2048, 5633};

// The SIMD tables to test, each with its level's name.
std::vector<std::pair<CpuLevel, const VectorKernels*>> simd_tables() {
    std::vector<std::pair<CpuLevel, const VectorKernels*>> tables;
    for (CpuLevel level : kAllLevels) {
        if (!supported(level)) continue;
        if (const VectorKernels* k = vector_kernels_at_level(level)) tables.push_back({level, k});
    }
    return tables;
}

// exp through the kernel: exp_sum with shift 0 on a one-element row.
float kernel_exp(const VectorKernels& k, float x) {
    float v[1] = {x};
    k.exp_sum(v, 1, 0.0f);
    return v[0];
}

TEST(VectorKernels, ExpMatchesStdExpOverTheFloatRange) {
    for (auto [level, k] : simd_tables()) {
        SCOPED_TRACE(cpu_level_name(level));
        double worst = 0.0;
        // Every 997th float between -110 and 90, in rows so that the vector path is used.
        std::vector<float> xs;
        for (float x = -110.0f; x < 90.0f; x = std::nextafter(x, 100.0f)) {
            xs.push_back(x);
            for (int s = 0; s < 996 && x < 90.0f; ++s) x = std::nextafter(x, 100.0f);
        }
        std::vector<float> ys = xs;
        k->exp_sum(ys.data(), int64_t(ys.size()), 0.0f);
        for (size_t i = 0; i < xs.size(); ++i) {
            const double want = std::exp(double(xs[i]));
            const float got = ys[i];
            ASSERT_FALSE(std::isnan(got)) << xs[i];
            if (want > double(std::numeric_limits<float>::max())) {
                ASSERT_EQ(got, std::numeric_limits<float>::infinity()) << xs[i];
            } else if (want >= double(std::numeric_limits<float>::min())) {
                const double rel = std::fabs(double(got) - want) / want;
                worst = std::max(worst, rel);
                ASSERT_LE(rel, kExpTolerance) << "x=" << xs[i];
            } else {  // subnormal or zero result: within one step of the smallest subnormal
                ASSERT_LE(std::fabs(double(got) - want), 1.5e-45) << xs[i];
            }
        }
        std::printf("%s exp: worst relative error %.3g over %zu points\n", cpu_level_name(level),
                    worst, xs.size());
        const float inf = std::numeric_limits<float>::infinity();
        EXPECT_EQ(kernel_exp(*k, -inf), 0.0f);
        EXPECT_EQ(kernel_exp(*k, inf), inf);
        EXPECT_EQ(kernel_exp(*k, -1e30f), 0.0f);
        EXPECT_EQ(kernel_exp(*k, 1e30f), inf);
        EXPECT_EQ(kernel_exp(*k, 0.0f), 1.0f);
        EXPECT_TRUE(std::isnan(kernel_exp(*k, std::numeric_limits<float>::quiet_NaN())));
    }
}

TEST(VectorKernels, MatchTheGenericKernels) {
    const VectorKernels& g = *vector_kernels_at_level(CpuLevel::kGeneric);
    std::mt19937 rng(5);
    int tables = 0;
    for (auto [level, k] : simd_tables()) {
        SCOPED_TRACE(cpu_level_name(level));
        ++tables;
        for (int64_t n : kLengths) {
            SCOPED_TRACE("n=" + std::to_string(n));
            const std::vector<float> x = random_row(n, rng, 4.0f);
            const std::vector<float> w = random_row(n, rng, 1.0f);
            double magnitude = 0.0;
            for (float v : x) magnitude += std::fabs(double(v));

            EXPECT_EQ(k->max(x.data(), n), g.max(x.data(), n));

            // exp_sum with the row's max as the shift (softmax) and a masked (-inf) entry.
            std::vector<float> a = x, b = x;
            if (n > 2) a[1] = b[1] = -std::numeric_limits<float>::infinity();
            const float m = g.max(a.data(), n);
            const double sa = g.exp_sum(a.data(), n, m);
            const double sb = k->exp_sum(b.data(), n, m);
            EXPECT_NEAR(sb, sa, 2e-6 * sa);
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(b[size_t(i)], a[size_t(i)], kExpTolerance * a[size_t(i)]) << i;
            }
            if (n > 2) {
                EXPECT_EQ(b[1], 0.0f);
            }

            // SiLU / SwiGLU, including large negative and positive gates.
            std::vector<float> gate = x;
            if (n > 4) {
                gate[0] = -200.0f;
                gate[1] = 200.0f;
                gate[2] = -88.5f;
                gate[3] = 90.0f;
            }
            std::vector<float> ya(static_cast<size_t>(n)), yb(static_cast<size_t>(n));
            g.silu(gate.data(), ya.data(), n);
            k->silu(gate.data(), yb.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_FALSE(std::isnan(yb[size_t(i)])) << i;
                ASSERT_NEAR(yb[size_t(i)], ya[size_t(i)], 2 * kExpTolerance * std::fabs(ya[size_t(i)]) + 1e-30f) << i;
            }
            g.swiglu(gate.data(), w.data(), ya.data(), n);
            k->swiglu(gate.data(), w.data(), yb.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(yb[size_t(i)], ya[size_t(i)], 2 * kExpTolerance * std::fabs(ya[size_t(i)]) + 1e-30f) << i;
            }

            // Sum of squares: double sums of the same float squares in another order.
            const double qa = g.sum_squares(x.data(), n), qb = k->sum_squares(x.data(), n);
            EXPECT_NEAR(qb, qa, 1e-12 * qa);

            // (x * s) * w and x * s: the same two roundings, so exact.
            for (const float* wp : {w.data(), static_cast<const float*>(nullptr)}) {
                g.scale_mul(x.data(), 0.37f, wp, ya.data(), n);
                k->scale_mul(x.data(), 0.37f, wp, yb.data(), n);
                ASSERT_EQ(std::memcmp(ya.data(), yb.data(), size_t(n) * sizeof(float)), 0);
            }
            // In place, as softmax and scale use it.
            a = x;
            k->scale_mul(a.data(), 0.37f, nullptr, a.data(), n);
            g.scale_mul(x.data(), 0.37f, nullptr, ya.data(), n);
            ASSERT_EQ(std::memcmp(ya.data(), a.data(), size_t(n) * sizeof(float)), 0);

            // y += a x, repeated as attention accumulates values.
            std::vector<float> acc_a = w, acc_b = w;
            for (int rep = 0; rep < 5; ++rep) {
                g.axpy(0.25f * float(rep) - 0.4f, x.data(), acc_a.data(), n);
                k->axpy(0.25f * float(rep) - 0.4f, x.data(), acc_b.data(), n);
            }
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(acc_b[size_t(i)], acc_a[size_t(i)], 1e-5f * (std::fabs(x[size_t(i)]) + 1.0f)) << i;
            }
        }
    }
    std::printf("compared %d SIMD vector kernel tables\n", tables);
#if defined(MMOJO_HAVE_AVX2)
    if (supported(CpuLevel::kAvx2)) {
        EXPECT_GE(tables, 1);
    }
#endif
}

TEST(VectorKernels, SelectedTableFollowsTheLevel) {
    for (CpuLevel level : supported_cpu_levels()) {
        select_kernels(level);
        const VectorKernels* own = vector_kernels_at_level(level);
        if (own) {
            EXPECT_EQ(&vector_kernels(), own) << cpu_level_name(level);
        }
        if (level == CpuLevel::kGeneric) {
            EXPECT_EQ(&vector_kernels(), own);
        }
    }
    select_kernels(detect_cpu_level());
}

}  // namespace
}  // namespace mmojo
