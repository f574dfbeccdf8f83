// Tests of src/ops/ and the runtime pieces under them (thread pool, KV cache): each
// operation against a plain double-precision loop written here from the formulas.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "kernels/tensor_type.h"
#include "runtime/kv_cache.h"
#include "runtime/sequence_store.h"
#include "base/thread_pool.h"

namespace mmojo {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// ---------------------------------------------------------------------------------------
// Thread pool

TEST(ThreadPool, PhysicalCoreCountIsPositive) {
    EXPECT_GE(physical_core_count(), 1);
    EXPECT_LE(physical_core_count(), std::max(1, int(std::thread::hardware_concurrency())));
}

TEST(ThreadPool, RunCallsEveryThreadIndexOnce) {
    for (int n : {1, 2, 3, 4}) {
        ThreadPool pool(n);
        EXPECT_EQ(pool.n_threads(), n);
        std::vector<std::atomic<int>> calls(static_cast<size_t>(n));
        for (int round = 0; round < 200; ++round) {
            pool.run([&](int ith, int nth) {
                EXPECT_EQ(nth, n);
                calls[size_t(ith)].fetch_add(1);
            });
        }
        for (auto& c : calls) EXPECT_EQ(c.load(), 200);
        // Fewer threads than the pool has.
        std::atomic<int> used{0};
        pool.run([&](int ith, int nth) {
            EXPECT_LT(ith, nth);
            EXPECT_EQ(nth, 1);
            used.fetch_add(1);
        }, 1);
        EXPECT_EQ(used.load(), 1);
    }
}

TEST(ThreadPool, ParallelForCoversTheRangeExactlyOnce) {
    ThreadPool pool(3);
    for (int64_t n : {0, 1, 2, 7, 64, 1001}) {
        for (int64_t grain : {1, 4, 16}) {
            std::vector<int> hits(size_t(n), 0);
            pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int) {
                ASSERT_LE(b, e);
                if (e != n) {
                    EXPECT_EQ((e - b) % grain, 0);
                }
                for (int64_t i = b; i < e; ++i) ++hits[size_t(i)];
            });
            for (int h : hits) EXPECT_EQ(h, 1);
        }
    }
}

TEST(ThreadPool, ParallelForHandsRangesToWhicheverThreadIsFree) {
    // The thread that takes the first range stalls; the others must take over the rest of
    // the work rather than wait for it (a static split would leave it half).
    ThreadPool pool(2);
    std::mutex mutex;
    std::vector<int> ranges_of(2, 0);
    int64_t stalled = -1;
    pool.parallel_for(64, 1, [&](int64_t b, int64_t, int ith) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            ++ranges_of[size_t(ith)];
        }
        if (b == 0) {
            stalled = ith;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    });
    ASSERT_GE(stalled, 0);
    const int total = ranges_of[0] + ranges_of[1];
    EXPECT_GE(total, 4);
    EXPECT_LT(ranges_of[size_t(stalled)] * 2, total);
}

TEST(ThreadPool, ManyTinyJobsAndSleepingWorkers) {
    ThreadPool pool(2);
    int64_t total = 0;
    std::vector<int64_t> part(2);
    for (int round = 0; round < 20000; ++round) {
        pool.run([&](int ith, int) { part[size_t(ith)] = ith + 1; });
        total += part[0] + part[1];
        if (round % 5000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(total, 20000 * 3);
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.run([](int ith, int) {
        if (ith == 1) throw std::runtime_error("worker failed");
    }), std::runtime_error);
    EXPECT_THROW(pool.run([](int ith, int) {
        if (ith == 0) throw std::runtime_error("caller failed");
    }), std::runtime_error);
    // The pool still works afterwards.
    std::atomic<int> n{0};
    pool.run([&](int, int) { n.fetch_add(1); });
    EXPECT_EQ(n.load(), 2);
}

// ---------------------------------------------------------------------------------------
// Matmul

// Y[b][r] in double from float weights and activations.
std::vector<double> reference_matmul(const std::vector<float>& w, const std::vector<float>& x,
                                     int64_t n_rows, int64_t n_cols, int64_t n_batch) {
    std::vector<double> y(size_t(n_rows * n_batch));
    for (int64_t b = 0; b < n_batch; ++b) {
        for (int64_t r = 0; r < n_rows; ++r) {
            double s = 0.0;
            for (int64_t c = 0; c < n_cols; ++c) s += double(w[size_t(r * n_cols + c)]) * x[size_t(b * n_cols + c)];
            y[size_t(b * n_rows + r)] = s;
        }
    }
    return y;
}

TEST(Matmul, F32MatchesDoubleLoopForShapesAndThreadCounts) {
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (int64_t n_rows : {1, 5, 37, 300}) {
            for (int64_t n_batch : {1, 2, 17}) {
                const int64_t n_cols = 96;
                const auto w = random_floats(size_t(n_rows * n_cols), 1);
                const auto x = random_floats(size_t(n_batch * n_cols), 2);
                const Matrix m = make_matrix("w", TensorType::kF32, n_cols, n_rows,
                                             reinterpret_cast<const uint8_t*>(w.data()));
                std::vector<float> y(size_t(n_rows * n_batch), -1.0f);
                matmul(pool, m, x.data(), n_batch, y.data());
                const auto ref = reference_matmul(w, x, n_rows, n_cols, n_batch);
                for (size_t i = 0; i < y.size(); ++i) {
                    ASSERT_NEAR(y[i], ref[i], 1e-5 * (1.0 + std::fabs(ref[i])))
                        << "rows " << n_rows << " batch " << n_batch << " threads " << threads;
                }
            }
        }
    }
}

// Quantized weights: random bytes make valid blocks once every F16 scale is made finite
// and small. The oracle dequantizes the weights and rounds the activations through the
// vec_dot type (what the product is defined to compute), then sums in double.
void fill_random_blocks(TensorType type, std::vector<uint8_t>& bytes, uint32_t seed) {
    std::mt19937 rng(seed);
    for (auto& b : bytes) b = uint8_t(rng());
    const TensorTypeTraits* t = tensor_type_traits(type);
    std::vector<float> probe(size_t(t->block_size));
    // Reroll any block that decodes to a non-finite value (an F16 scale that is Inf/NaN or
    // huge) by clearing the top bits of every byte pair that could be a scale.
    for (size_t off = 0; off < bytes.size(); off += t->block_bytes) {
        for (int attempt = 0; attempt < 64; ++attempt) {
            t->to_float(bytes.data() + off, probe.data(), t->block_size);
            bool ok = true;
            for (float v : probe) ok = ok && std::isfinite(v) && std::fabs(v) < 1e4f;
            if (ok) break;
            for (size_t i = 1; i < t->block_bytes; i += 2) bytes[off + i] &= 0x3b;
        }
    }
}

TEST(Matmul, QuantizedWeightsUseTheVecDotTypeOfTheTable) {
    ThreadPool pool(2);
    for (TensorType type : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0,
                            TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ4_K,
                            TensorType::kQ6_K, TensorType::kIQ4_NL}) {
        const TensorTypeTraits* t = tensor_type_traits(type);
        ASSERT_NE(t, nullptr);
        const int64_t n_cols = 512, n_rows = 70, n_batch = 5;
        std::vector<uint8_t> wq(tensor_row_bytes(type, n_cols) * size_t(n_rows));
        if (t->from_float) {
            const auto wf = random_floats(size_t(n_rows * n_cols), 3, 0.1f);
            for (int64_t r = 0; r < n_rows; ++r) {
                t->from_float(wf.data() + r * n_cols, wq.data() + size_t(r) * tensor_row_bytes(type, n_cols), n_cols);
            }
        } else {
            fill_random_blocks(type, wq, 4);
        }
        std::vector<float> w(size_t(n_rows * n_cols));
        for (int64_t r = 0; r < n_rows; ++r) {
            t->to_float(wq.data() + size_t(r) * tensor_row_bytes(type, n_cols), w.data() + r * n_cols, n_cols);
        }
        const auto x = random_floats(size_t(n_batch * n_cols), 5);
        std::vector<float> x_rounded(x.size());
        const TensorTypeTraits* dt = tensor_type_traits(t->vec_dot_type);
        std::vector<uint8_t> xq(tensor_row_bytes(t->vec_dot_type, n_cols));
        for (int64_t b = 0; b < n_batch; ++b) {
            dt->from_float(x.data() + b * n_cols, xq.data(), n_cols);
            dt->to_float(xq.data(), x_rounded.data() + b * n_cols, n_cols);
        }
        const Matrix m = make_matrix("w", type, n_cols, n_rows, wq.data());
        std::vector<float> y(size_t(n_rows * n_batch));
        matmul(pool, m, x.data(), n_batch, y.data());
        const auto ref = reference_matmul(w, x_rounded, n_rows, n_cols, n_batch);
        double scale = 0.0;
        for (double v : ref) scale = std::max(scale, std::fabs(v));
        // Q8_1 activations carry their block sum rounded to F16, which the product uses
        // for the weights' offsets: allow for that rounding (2^-11 relative).
        const double tolerance = t->vec_dot_type == TensorType::kQ8_1 ? 2e-3 : 2e-4;
        for (size_t i = 0; i < y.size(); ++i) {
            ASSERT_NEAR(y[i], ref[i], tolerance * scale) << tensor_type_name(uint32_t(type)) << " at " << i;
        }
    }
}

TEST(Matmul, GroupOfProductsSharesTheActivations) {
    // Q/K/V-like group: two F32 matrices (checked against double loops) and a Q8_0 one
    // (checked against its own single product), over one set of activation rows.
    for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        const int64_t n_cols = 256, n_batch = 9;
        const auto x = random_floats(size_t(n_batch * n_cols), 50);
        const auto wa = random_floats(size_t(300 * n_cols), 51);
        const auto wb = random_floats(size_t(7 * n_cols), 52);
        const auto wc_float = random_floats(size_t(40 * n_cols), 53);
        std::vector<uint8_t> wc(tensor_row_bytes(TensorType::kQ8_0, n_cols) * 40);
        tensor_type_traits(TensorType::kQ8_0)->from_float(wc_float.data(), wc.data(), 40 * n_cols);
        const Matrix a = make_matrix("a", TensorType::kF32, n_cols, 300, reinterpret_cast<const uint8_t*>(wa.data()));
        const Matrix b = make_matrix("b", TensorType::kF32, n_cols, 7, reinterpret_cast<const uint8_t*>(wb.data()));
        const Matrix c = make_matrix("c", TensorType::kQ8_0, n_cols, 40, wc.data());
        std::vector<float> ya(size_t(300 * n_batch)), yb(size_t(7 * n_batch)), yc(size_t(40 * n_batch));
        Activations act(pool, x.data(), n_batch, n_cols);
        matmul_group(pool, {{&a, ya.data()}, {&b, yb.data()}, {&c, yc.data()}}, act);
        const auto ra = reference_matmul(wa, x, 300, n_cols, n_batch);
        const auto rb = reference_matmul(wb, x, 7, n_cols, n_batch);
        for (size_t i = 0; i < ya.size(); ++i) ASSERT_NEAR(ya[i], ra[i], 1e-5 * (1 + std::fabs(ra[i])));
        for (size_t i = 0; i < yb.size(); ++i) ASSERT_NEAR(yb[i], rb[i], 1e-5 * (1 + std::fabs(rb[i])));
        std::vector<float> yc_single(yc.size());
        matmul(pool, c, x.data(), n_batch, yc_single.data());
        EXPECT_EQ(yc, yc_single);
        // A matrix of another width is refused.
        const Matrix narrow = make_matrix("narrow", TensorType::kF32, 64, 2, reinterpret_cast<const uint8_t*>(wa.data()));
        EXPECT_THROW(matmul_group(pool, {{&narrow, ya.data()}}, act), std::runtime_error);
    }
}

TEST(Matmul, RejectsTypesAndShapesItCannotCompute) {
    std::vector<uint8_t> data(1024);
    EXPECT_THROW(make_matrix("w", TensorType::kQ4_0, 48, 2, data.data()), std::runtime_error);
    EXPECT_THROW(make_matrix("w", TensorType::kQ4_K, 128, 2, data.data()), std::runtime_error);
    EXPECT_THROW(make_matrix("w", TensorType(99), 64, 2, data.data()), std::runtime_error);
    try {
        make_matrix("blk.0.attn_q.weight", TensorType::kQ4_0, 48, 2, data.data());
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------
// Norms

TEST(Norm, RmsNormMatchesDouble) {
    const int64_t n = 67, rows = 3;
    const auto x = random_floats(size_t(n * rows), 7, 3.0f);
    const auto w = random_floats(size_t(n), 8);
    std::vector<float> y(x.size());
    rms_norm(x.data(), y.data(), rows, n, w.data(), 1e-5f);
    for (int64_t r = 0; r < rows; ++r) {
        double ss = 0.0;
        for (int64_t i = 0; i < n; ++i) ss += double(x[size_t(r * n + i)]) * x[size_t(r * n + i)];
        const double s = 1.0 / std::sqrt(ss / double(n) + 1e-5);
        for (int64_t i = 0; i < n; ++i) {
            const double ref = double(x[size_t(r * n + i)]) * s * w[size_t(i)];
            EXPECT_NEAR(y[size_t(r * n + i)], ref, 1e-5 * (1.0 + std::fabs(ref)));
        }
    }
    // In place, without weight.
    std::vector<float> z = x;
    rms_norm(z.data(), z.data(), rows, n, nullptr, 1e-6f);
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += double(z[size_t(i)]) * z[size_t(i)];
    EXPECT_NEAR(ss / double(n), 1.0, 1e-4);
}

TEST(Norm, LayerNormMatchesDouble) {
    const int64_t n = 50, rows = 2;
    auto x = random_floats(size_t(n * rows), 9, 2.0f);
    for (float& v : x) v += 4.0f;   // a large mean
    const auto w = random_floats(size_t(n), 10);
    const auto b = random_floats(size_t(n), 11);
    std::vector<float> y(x.size());
    layer_norm(x.data(), y.data(), rows, n, w.data(), b.data(), 1e-5f);
    for (int64_t r = 0; r < rows; ++r) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < n; ++i) mean += x[size_t(r * n + i)];
        mean /= double(n);
        for (int64_t i = 0; i < n; ++i) var += std::pow(x[size_t(r * n + i)] - mean, 2);
        var /= double(n);
        for (int64_t i = 0; i < n; ++i) {
            const double ref = (x[size_t(r * n + i)] - mean) / std::sqrt(var + 1e-5) * w[size_t(i)] + b[size_t(i)];
            EXPECT_NEAR(y[size_t(r * n + i)], ref, 1e-5 * (1.0 + std::fabs(ref)));
        }
    }
}

// ---------------------------------------------------------------------------------------
// RoPE: the reference multiplies each pair, read as a complex number, by e^(i theta).

void reference_rope(std::vector<double>& x, int64_t n_heads, int64_t head_dim, int n_dims,
                    bool neox, double pos, double base, double freq_scale,
                    const std::vector<float>& factors, double attn_factor) {
    for (int64_t h = 0; h < n_heads; ++h) {
        for (int i = 0; i < n_dims / 2; ++i) {
            double theta = pos * freq_scale / std::pow(base, 2.0 * i / n_dims);
            if (!factors.empty()) theta /= factors[size_t(i)];
            const int64_t a = h * head_dim + (neox ? i : 2 * i);
            const int64_t b = a + (neox ? n_dims / 2 : 1);
            std::complex<double> z(x[size_t(a)], x[size_t(b)]);
            z *= std::polar(attn_factor, theta);
            x[size_t(a)] = z.real();
            x[size_t(b)] = z.imag();
        }
    }
}

TEST(Rope, NormalAndNeoxLayoutsWithScalingAndFactors) {
    const int64_t n_heads = 3, head_dim = 16;
    for (bool neox : {false, true}) {
        for (int n_dims : {16, 8}) {
            for (int variant = 0; variant < 3; ++variant) {
                RopeConfig c;
                c.n_dims = n_dims;
                c.layout = neox ? RopeLayout::kNeox : RopeLayout::kNormal;
                c.freq_base = variant == 0 ? 10000.0f : 500000.0f;
                c.freq_scale = variant == 1 ? 0.25f : 1.0f;
                c.attn_factor = variant == 2 ? 1.118f : 1.0f;
                std::vector<float> factors;
                if (variant == 2) {
                    for (int i = 0; i < n_dims / 2; ++i) factors.push_back(1.0f + 0.7f * float(i));
                    c.freq_factors = factors.data();
                }
                for (int32_t pos : {0, 1, 47, 3000}) {
                    auto x = random_floats(size_t(n_heads * head_dim), uint32_t(pos + 100));
                    std::vector<double> ref(x.begin(), x.end());
                    std::vector<float> cs(size_t(n_dims / 2)), sn(size_t(n_dims / 2));
                    rope_angles(c, pos, cs.data(), sn.data());
                    rope_apply(c, x.data(), n_heads, head_dim, cs.data(), sn.data());
                    reference_rope(ref, n_heads, head_dim, n_dims, neox, pos, c.freq_base,
                                   c.freq_scale, factors, c.attn_factor);
                    for (size_t i = 0; i < x.size(); ++i) {
                        ASSERT_NEAR(x[i], ref[i], 2e-6 * (1.0 + std::fabs(ref[i])))
                            << "neox " << neox << " n_dims " << n_dims << " variant " << variant
                            << " pos " << pos << " i " << i;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Element-wise

TEST(Activation, SoftmaxMatchesDouble) {
    for (int64_t n : {1, 2, 33, 1000}) {
        auto x = random_floats(size_t(n), uint32_t(n), 5.0f);
        x[0] = 80.0f;   // exp(80) overflows a float: the max must be subtracted
        std::vector<double> ref(x.begin(), x.end());
        const double mx = *std::max_element(ref.begin(), ref.end());
        double sum = 0.0;
        for (double& v : ref) sum += (v = std::exp(v - mx));
        softmax(x.data(), n);
        for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(x[size_t(i)], ref[size_t(i)] / sum, 1e-6);
    }
}

TEST(Activation, SiluSwigluGeluMatchFormulas) {
    const auto g = random_floats(200, 21, 4.0f);
    const auto u = random_floats(200, 22, 1.0f);
    std::vector<float> out(200);
    swiglu(g.data(), u.data(), out.data(), 200);
    for (size_t i = 0; i < g.size(); ++i) {
        const double s = double(g[i]) / (1.0 + std::exp(-double(g[i])));
        EXPECT_NEAR(silu(g[i]), s, 1e-6 * (1.0 + std::fabs(s)));
        EXPECT_NEAR(out[i], s * u[i], 1e-6 * (1.0 + std::fabs(s * u[i])));
        const double x = g[i];
        const double gt = 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
        EXPECT_NEAR(gelu_tanh(g[i]), gt, 1e-6 * (1.0 + std::fabs(gt)));
        // The table version: the input and the result are rounded to F16 (11 bits).
        EXPECT_NEAR(gelu(g[i]), gt, 2e-3 * (1.0 + std::fabs(gt)));
    }
    EXPECT_EQ(gelu(-10.0f), 0.0f);
    EXPECT_EQ(gelu(-30.0f), 0.0f);
    EXPECT_EQ(gelu(10.0f), 10.0f);
    EXPECT_EQ(gelu(12.5f), 12.5f);
    // F16 rounding of the input: values that round to the same F16 give the same output.
    EXPECT_EQ(gelu(1.0f), gelu(1.0f + 1e-4f));
}

TEST(Activation, SoftcapAddMulScale) {
    std::vector<float> a = {-100.0f, -1.0f, 0.0f, 2.0f, 100.0f};
    const std::vector<float> b = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
    std::vector<float> c(5);
    add(a.data(), b.data(), c.data(), 5);
    EXPECT_EQ(c[0], -99.0f);
    mul(a.data(), b.data(), c.data(), 5);
    EXPECT_EQ(c[4], 500.0f);
    scale(c.data(), 5, 0.5f);
    EXPECT_EQ(c[4], 250.0f);
    softcap(a.data(), 5, 30.0f);
    EXPECT_NEAR(a[0], -30.0 * std::tanh(100.0 / 30.0), 1e-5);
    EXPECT_NEAR(a[3], 30.0 * std::tanh(2.0 / 30.0), 1e-6);
}

// ---------------------------------------------------------------------------------------
// Embedding lookup

TEST(Embedding, GetRowsWidensRowsAndChecksIds) {
    const int64_t n_cols = 8, n_rows = 4;
    const auto values = random_floats(size_t(n_cols * n_rows), 30);
    std::vector<uint16_t> halves(values.size());
    tensor_type_traits(TensorType::kF16)->from_float(values.data(), halves.data(), int64_t(values.size()));
    const Matrix table = make_matrix("token_embd.weight", TensorType::kF16, n_cols, n_rows,
                                     reinterpret_cast<const uint8_t*>(halves.data()));
    const int32_t ids[] = {3, 0, 3};
    std::vector<float> out(3 * size_t(n_cols));
    get_rows(table, ids, 3, out.data());
    for (int64_t i = 0; i < 3; ++i) {
        for (int64_t c = 0; c < n_cols; ++c) {
            EXPECT_NEAR(out[size_t(i * n_cols + c)], values[size_t(ids[i] * n_cols + c)],
                        1e-3 * (1.0 + std::fabs(values[size_t(ids[i] * n_cols + c)])));
        }
    }
    const int32_t bad[] = {4};
    EXPECT_THROW(get_rows(table, bad, 1, out.data()), std::runtime_error);
    const int32_t negative[] = {-1};
    EXPECT_THROW(get_rows(table, negative, 1, out.data()), std::runtime_error);
}

// ---------------------------------------------------------------------------------------
// KV cache

TEST(KvCache, StoresRowsPerSequenceAndTracksLengths) {
    const KvLayerShape shape{2, 32, 16};
    KvCache f32({shape, shape}, 64, 2, TensorType::kF32, TensorType::kF32);
    EXPECT_EQ(f32.n_ctx_seq(), 32u);
    EXPECT_EQ(f32.view(1).cell(1, 5), 37);
    const auto k = random_floats(64, 40);
    const auto v = random_floats(32, 41);
    kv_store(f32.view(1), 1, 5, k.data(), v.data());
    EXPECT_EQ(std::memcmp(f32.view(1).k(37, 1), k.data() + 32, 32 * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(f32.view(1).v(37, 0), v.data(), 16 * sizeof(float)), 0);
    EXPECT_EQ(f32.memory_bytes(), size_t(2) * 64 * (64 + 32) * sizeof(float));

    KvCache f16({shape}, 8, 1, TensorType::kF16, TensorType::kF16);
    kv_store(f16.view(0), 0, 3, k.data(), v.data());
    std::vector<float> back(32);
    tensor_type_traits(TensorType::kF16)->to_float(f16.view(0).k(3, 1), back.data(), 32);
    for (int i = 0; i < 32; ++i) EXPECT_NEAR(back[size_t(i)], k[size_t(32 + i)], 2e-3 * (1 + std::fabs(k[size_t(32 + i)])));

    // Sequence lengths are kept by the store around the cache.
    const LayerStateSpec spec = LayerStateSpec::key_value(2, 32, 16);
    SequenceStore store({spec, spec}, 64, 2, 8, TensorType::kF32, TensorType::kF32);
    EXPECT_EQ(store.seq_length(1), 0);
    store.set_seq_length(1, 10);
    EXPECT_EQ(store.seq_truncate(1, 20), 10);
    EXPECT_EQ(store.seq_length(1), 10);
    EXPECT_EQ(store.seq_truncate(1, 4), 4);
    EXPECT_EQ(store.seq_length(1), 4);
    store.seq_clear(1);
    EXPECT_EQ(store.seq_length(1), 0);
    EXPECT_THROW(store.seq_length(2), std::runtime_error);
    EXPECT_THROW(store.set_seq_length(0, 33), std::runtime_error);
    EXPECT_THROW(store.set_seq_length(-1, 0), std::runtime_error);
}

TEST(KvCache, RejectsTypesItCannotStore) {
    const KvLayerShape shape{1, 48, 48};
    EXPECT_THROW(KvCache({shape}, 8, 1, TensorType::kQ4_0, TensorType::kF16), std::runtime_error);
    EXPECT_THROW(KvCache({shape}, 8, 1, TensorType::kQ8_0, TensorType::kF16), std::runtime_error);
    EXPECT_THROW(KvCache({shape}, 8, 3, TensorType::kQ8_0, TensorType::kF16), std::runtime_error);
    EXPECT_THROW(KvCache({shape}, 2, 3, TensorType::kF16, TensorType::kF16), std::runtime_error);
    const KvLayerShape shape64{1, 64, 64};
    EXPECT_NO_THROW(KvCache({shape64}, 8, 1, TensorType::kQ8_0, TensorType::kQ8_0));
}

}  // namespace
}  // namespace mmojo
