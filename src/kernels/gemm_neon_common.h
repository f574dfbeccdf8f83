// Register-blocked matrix products for prompt processing on AArch64, shared by gemm_neon.cpp
// (armv8-a) and gemm_neondot.cpp (armv8.2-a+dotprod): Q4_0 and Q8_0 weights against Q8_0
// activations, Q4_K and Q6_K against Q8_K. Each file instantiates the code below with its
// own int8 dot policy `Dot`; other types, and batches too small to pay for packing, go to
// matmul_tile_generic. The result is what the generic tile computes, up to float rounding
// (tests/unit/simd_kernels_test.cpp and tools/simd_selfcheck.cpp compare the two).
//
// The scheme of the x86 kernels (gemm_avx2.cpp): a thread packs kQuadRows weight rows at a
// time into a panel covering the whole row length, then every activation row of the batch
// passes over that panel, up to kMaxColumns rows per pass, so each weight register loaded
// (and each nibble unpacked) serves several activation rows and each activation register
// several weight rows.
//
// Panel layout: the quants are stored unpacked as signed int8 (Q4_0 as q - 8, Q6_K as
// q - 32, Q4_K as its 0..15, Q8_0 as is), so every type meets the activations through the
// same signed dot and no offset correction is needed. 16 elements of the 4 rows of a panel
// take 64 bytes (four registers) in the order the Dot wants them; a 32-element block or
// sub-block is two such halves. Scales go beside them as floats (legacy blocks) or as
// per-row int32 lanes (K-quant sub-block scales, so a super-block's integer sum is exact
// as in kernels/kernels_neon_common.h).
//
// A Dot provides
//   static void store16(const int8x16_t rows[4], int8_t* out);
//       16 quants of each of 4 rows (rows[r], element order) -> 64 bytes in its order
//   static int32x4_t dot16(int32x4_t acc, const int8x16_t w[4], int8x16_t x);
//       acc + lane r: row r's 16 quants (w, as stored) . the 16 activation bytes x
//   static int32x4_t dot32(int32x4_t acc, const int8x16_t w[8], int8x16_t x0, int8x16_t x1);
//       the same over 32 elements (two halves)
//
// Everything here has internal linkage, so each including file compiles its own copy with
// its own instruction-set flags (see kernels/simd_kernels.h); it needs AArch64 Advanced SIMD.
// CMake and tests/integration/test_simd_neon.py pick up *.cpp only, so this header is never
// compiled on its own (nor on x86).
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_kernels.h"
#include "kernels/blocks.h"
#include "kernels/kernels_neon_common.h"   // half(), s8(), load_bsums(), scales_mins_k4()

namespace mmojo {
namespace {

// Weight rows per panel: one per s32 lane, so a dot of the panel with one activation row
// is a single int32x4_t and needs no horizontal sums with SDOT.
constexpr int kQuadRows = 4;
// Activation rows per pass over a panel. Per 32 elements a pass holds the 8 weight
// registers, 2 activation registers and a dot at a time, plus per activation row one float
// accumulator and (K-quants) one integer super-block sum: about 20 of the 32 registers,
// so nothing spills, and each weight register feeds 4 activation rows.
constexpr int kMaxColumns = 4;
// Fewer activation rows (token generation) go to the generic tile: packing a panel costs
// about one unpacking of each weight block, which one to three rows do not pay back. (The
// threshold of the x86 kernels; not measured on ARM hardware.)
constexpr int kMinBatch = 4;

// Lane r = the sum of the four lanes of s[r]: the four rows' dots gathered into one vector.
inline int32x4_t sum_rows(const int32x4_t s[4]) {
    return vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
}

// Registers 0..n-1 of a packed block.
inline void load_quants(const uint8_t* p, int8x16_t* w, int n) {
    for (int i = 0; i < n; ++i) w[i] = vld1q_s8(reinterpret_cast<const int8_t*>(p) + 16 * i);
}

inline float activation_scale(const BlockQ8_0& x) { return half(x.d); }
inline float activation_scale(const BlockQ8_K& x) { return x.d; }

// A weight format of the panels: Block, Activation, kElements per block, kPanelBlockBytes
// per packed block of 4 rows, pack (block k of 4 rows) and multiply<J> (one packed block
// times J activation rows, added to acc[J]; dx[j] = the scale of row j's block k).

// Q4_0 and Q8_0, per 32-element block of the 4 rows:
//   float d[4]                      the rows' scales
//   int8 q[2][64]                   elements 0..15, then 16..31, in the Dot's order
template <class Dot, class B>
struct LegacyFormat {
    using Block = B;
    using Activation = BlockQ8_0;
    static constexpr int64_t kElements = kQK;
    static constexpr size_t kPanelBlockBytes = kQuadRows * sizeof(float) + 2 * 64;

    // The 32 signed quants of b as elements 0..15 and 16..31.
    static void quants(const BlockQ4_0& b, int8x16_t& lo, int8x16_t& hi) {
        const uint8x16_t packed = vld1q_u8(b.qs);   // qs[j]: element j (low nibble), j + 16 (high)
        const int8x16_t eight = vdupq_n_s8(8);
        lo = vsubq_s8(s8(vandq_u8(packed, vdupq_n_u8(0x0f))), eight);
        hi = vsubq_s8(s8(vshrq_n_u8(packed, 4)), eight);
    }
    static void quants(const BlockQ8_0& b, int8x16_t& lo, int8x16_t& hi) {
        lo = vld1q_s8(b.qs);
        hi = vld1q_s8(b.qs + 16);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        float d[kQuadRows];
        int8x16_t lo[kQuadRows], hi[kQuadRows];
        for (int r = 0; r < kQuadRows; ++r) {
            const Block& b = reinterpret_cast<const Block*>(w + size_t(r0 + r) * row_bytes)[k];
            d[r] = half(b.d);
            quants(b, lo[r], hi[r]);
        }
        vst1q_f32(reinterpret_cast<float*>(out), vld1q_f32(d));
        int8_t* q = reinterpret_cast<int8_t*>(out + kQuadRows * sizeof(float));
        Dot::store16(lo, q);
        Dot::store16(hi, q + 64);
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const float* const dx[J],
                         float32x4_t acc[J]) {
        const float32x4_t dw = vld1q_f32(reinterpret_cast<const float*>(block));
        int8x16_t w[8];
        load_quants(block + kQuadRows * sizeof(float), w, 8);
        for (int j = 0; j < J; ++j) {
            const int8_t* xs = x[j][k].qs;
            const int32x4_t dot = Dot::dot32(vdupq_n_s32(0), w, vld1q_s8(xs), vld1q_s8(xs + 16));
            acc[j] = vfmaq_f32(acc[j], vcvtq_f32_s32(dot), vmulq_n_f32(dw, dx[j][k]));
        }
    }
};

// Q4_K, per 256-element super-block of the 4 rows:
//   float d[4], dmin[4]             the rows' super-block scales
//   int32 sc[8][4]                  6-bit scale of sub-block s, per row (one int32x4_t)
//   int16 mn[4][8]                  6-bit mins of row r (one int16x8_t)
//   int8 q[8][2][64]                sub-block s (32 elements, quants 0..15) in two halves
// sum = d * sum_s sc_s * (q . x)_s - dmin * sum_s mn_s * (sum of x over sub-block s), both
// sums exact in s32 (at most 8 * 63 * 32 * 15 * 127 and 8 * 63 * 32 * 127).
template <class Dot>
struct Q4_KFormat {
    using Block = BlockQ4_K;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kScales = 2 * kQuadRows * sizeof(float);        // offset of sc
    static constexpr size_t kMins = kScales + 8 * kQuadRows * sizeof(int32_t);
    static constexpr size_t kQuants = kMins + kQuadRows * 8 * sizeof(int16_t);
    static constexpr size_t kPanelBlockBytes = kQuants + 8 * 2 * 64;

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        auto* f = reinterpret_cast<float*>(out);
        auto* sc = reinterpret_cast<int32_t*>(out + kScales);
        auto* mn = reinterpret_cast<int16_t*>(out + kMins);
        const BlockQ4_K* b[kQuadRows];
        for (int r = 0; r < kQuadRows; ++r) {
            b[r] = &reinterpret_cast<const BlockQ4_K*>(w + size_t(r0 + r) * row_bytes)[k];
            f[r] = half(b[r]->d);
            f[kQuadRows + r] = half(b[r]->dmin);
            int32_t scales[8];
            scales_mins_k4(b[r]->scales, scales, mn + 8 * r);
            for (int s = 0; s < 8; ++s) sc[kQuadRows * s + r] = scales[s];
        }
        // Element 64c + l (l < 32) is the low nibble of qs[32c + l] (sub-block 2c), and
        // 64c + 32 + l its high nibble (sub-block 2c + 1).
        int8_t* q = reinterpret_cast<int8_t*>(out + kQuants);
        const uint8x16_t mask = vdupq_n_u8(0x0f);
        for (int c = 0; c < 4; ++c) {
            for (int h = 0; h < 2; ++h) {
                int8x16_t lo[kQuadRows], hi[kQuadRows];
                for (int r = 0; r < kQuadRows; ++r) {
                    const uint8x16_t packed = vld1q_u8(b[r]->qs + 32 * c + 16 * h);
                    lo[r] = s8(vandq_u8(packed, mask));
                    hi[r] = s8(vshrq_n_u8(packed, 4));
                }
                Dot::store16(lo, q + (2 * c) * 128 + 64 * h);
                Dot::store16(hi, q + (2 * c + 1) * 128 + 64 * h);
            }
        }
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const float* const dx[J],
                         float32x4_t acc[J]) {
        const auto* sc = reinterpret_cast<const int32_t*>(block + kScales);
        int32x4_t isum[J];
        for (int j = 0; j < J; ++j) isum[j] = vdupq_n_s32(0);
        for (int s = 0; s < 8; ++s) {
            int8x16_t w[8];
            load_quants(block + kQuants + 128 * s, w, 8);
            const int32x4_t scale = vld1q_s32(sc + kQuadRows * s);
            for (int j = 0; j < J; ++j) {
                const int8_t* xs = x[j][k].qs + 32 * s;
                const int32x4_t dot = Dot::dot32(vdupq_n_s32(0), w, vld1q_s8(xs), vld1q_s8(xs + 16));
                isum[j] = vmlaq_s32(isum[j], dot, scale);
            }
        }
        const auto* f = reinterpret_cast<const float*>(block);
        const float32x4_t d = vld1q_f32(f), dmin = vld1q_f32(f + kQuadRows);
        const auto* mn = reinterpret_cast<const int16_t*>(block + kMins);
        int16x8_t mins[kQuadRows];
        for (int r = 0; r < kQuadRows; ++r) mins[r] = vld1q_s16(mn + 8 * r);
        for (int j = 0; j < J; ++j) {
            // Sub-block sums of the activations: pairs of bsums (at most 32 * 127, s16).
            const int16x8x2_t bs = load_bsums(x[j][k]);
            const int16x8_t sums = vpaddq_s16(bs.val[0], bs.val[1]);
            int32x4_t m[kQuadRows];
            for (int r = 0; r < kQuadRows; ++r) {
                m[r] = vmlal_high_s16(vmull_s16(vget_low_s16(mins[r]), vget_low_s16(sums)), mins[r], sums);
            }
            acc[j] = vfmaq_f32(acc[j], vcvtq_f32_s32(isum[j]), vmulq_n_f32(d, dx[j][k]));
            acc[j] = vfmsq_f32(acc[j], vcvtq_f32_s32(sum_rows(m)), vmulq_n_f32(dmin, dx[j][k]));
        }
    }
};

// Q6_K, per 256-element super-block of the 4 rows:
//   float d[4]                      the rows' super-block scales
//   int32 sc[16][4]                 int8 scale of 16-element group i, per row
//   int8 q[8][2][64]                sub-block s (32 elements, quants - 32) in two halves
// Each half of a sub-block is one scale group; the super-block sum is exact in s32 (at
// most 16 * 128 * 16 * 32 * 127).
template <class Dot>
struct Q6_KFormat {
    using Block = BlockQ6_K;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kScales = kQuadRows * sizeof(float);
    static constexpr size_t kQuants = kScales + 16 * kQuadRows * sizeof(int32_t);
    static constexpr size_t kPanelBlockBytes = kQuants + 8 * 2 * 64;

    // Elements 16h..16h+15 (h = 0, 1) of sub-block s = 4i + j, i.e. elements 128i + 32j + l:
    // low 4 bits from ql[64i + 32(j % 2) + l] (low nibble for j < 2, high for j >= 2),
    // bits 4..5 from bits 2j..2j+1 of qh[32i + l].
    static int8x16_t sub_block_half(const BlockQ6_K& b, int s, int h) {
        const int i = s / 4, j = s % 4;
        const uint8x16_t l = vld1q_u8(b.ql + 64 * i + 32 * (j % 2) + 16 * h);
        const uint8x16_t qh = vld1q_u8(b.qh + 32 * i + 16 * h);
        const uint8x16_t low = j < 2 ? vandq_u8(l, vdupq_n_u8(0x0f)) : vshrq_n_u8(l, 4);
        const uint8x16_t high = vandq_u8(vshlq_u8(qh, vdupq_n_s8(int8_t(-2 * j))), vdupq_n_u8(3));
        return vsubq_s8(s8(vorrq_u8(low, vshlq_n_u8(high, 4))), vdupq_n_s8(32));
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        auto* f = reinterpret_cast<float*>(out);
        auto* sc = reinterpret_cast<int32_t*>(out + kScales);
        const BlockQ6_K* b[kQuadRows];
        for (int r = 0; r < kQuadRows; ++r) {
            b[r] = &reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes)[k];
            f[r] = half(b[r]->d);
            for (int i = 0; i < 16; ++i) sc[kQuadRows * i + r] = b[r]->scales[i];
        }
        int8_t* q = reinterpret_cast<int8_t*>(out + kQuants);
        for (int s = 0; s < 8; ++s) {
            for (int h = 0; h < 2; ++h) {
                int8x16_t rows[kQuadRows];
                for (int r = 0; r < kQuadRows; ++r) rows[r] = sub_block_half(*b[r], s, h);
                Dot::store16(rows, q + 128 * s + 64 * h);
            }
        }
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const float* const dx[J],
                         float32x4_t acc[J]) {
        const auto* sc = reinterpret_cast<const int32_t*>(block + kScales);
        int32x4_t isum[J];
        for (int j = 0; j < J; ++j) isum[j] = vdupq_n_s32(0);
        for (int s = 0; s < 8; ++s) {
            int8x16_t w[8];
            load_quants(block + kQuants + 128 * s, w, 8);
            const int32x4_t scale0 = vld1q_s32(sc + kQuadRows * (2 * s));
            const int32x4_t scale1 = vld1q_s32(sc + kQuadRows * (2 * s + 1));
            for (int j = 0; j < J; ++j) {
                const int8_t* xs = x[j][k].qs + 32 * s;
                isum[j] = vmlaq_s32(isum[j], Dot::dot16(vdupq_n_s32(0), w, vld1q_s8(xs)), scale0);
                isum[j] = vmlaq_s32(isum[j], Dot::dot16(vdupq_n_s32(0), w + 4, vld1q_s8(xs + 16)), scale1);
            }
        }
        const float32x4_t d = vld1q_f32(reinterpret_cast<const float*>(block));
        for (int j = 0; j < J; ++j) acc[j] = vfmaq_f32(acc[j], vcvtq_f32_s32(isum[j]), vmulq_n_f32(d, dx[j][k]));
    }
};

// J activation rows from `first` over a whole panel; writes their 4 outputs each.
template <class Format, int J>
void panel_times_columns(const uint8_t* panel, int64_t n_blocks, const uint8_t* xq, size_t xq_row_bytes,
                         const float* scales, int64_t first, float* y, int64_t y_stride) {
    using Activation = typename Format::Activation;
    float32x4_t acc[J];
    const Activation* x[J];
    const float* dx[J];
    for (int j = 0; j < J; ++j) {
        acc[j] = vdupq_n_f32(0.0f);
        x[j] = reinterpret_cast<const Activation*>(xq + size_t(first + j) * xq_row_bytes);
        dx[j] = scales + (first + j) * n_blocks;
    }
    for (int64_t k = 0; k < n_blocks; ++k) {
        Format::template multiply<J>(panel + size_t(k) * Format::kPanelBlockBytes, k, x, dx, acc);
    }
    for (int j = 0; j < J; ++j) vst1q_f32(y + (first + j) * y_stride, acc[j]);
}

template <class Format>
void gemm(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
          float* y, int64_t y_stride) {
    using Activation = typename Format::Activation;
    using PanelFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, const float*, int64_t, float*, int64_t);
    constexpr PanelFn kPanelFns[kMaxColumns + 1] = {
        nullptr, panel_times_columns<Format, 1>, panel_times_columns<Format, 2>, panel_times_columns<Format, 3>,
        panel_times_columns<Format, 4>,
    };
    const int64_t n_blocks = w.n_cols / Format::kElements;
    const int64_t r_end = r0 + (r1 - r0) / kQuadRows * kQuadRows;
    const size_t panel_bytes = size_t(n_blocks) * Format::kPanelBlockBytes;   // a multiple of 16
    uint8_t* scratch = matmul_scratch(panel_bytes + size_t(n_batch * n_blocks) * sizeof(float));
    uint8_t* panel = scratch;
    auto* scales = reinterpret_cast<float*>(scratch + panel_bytes);   // [b * n_blocks + k]
    for (int64_t b = 0; b < n_batch; ++b) {
        const auto* x = reinterpret_cast<const Activation*>(xq + size_t(b) * xq_row_bytes);
        for (int64_t k = 0; k < n_blocks; ++k) scales[b * n_blocks + k] = activation_scale(x[k]);
    }
    for (int64_t r = r0; r < r_end; r += kQuadRows) {
        for (int64_t k = 0; k < n_blocks; ++k) {
            Format::pack(w.data, w.row_bytes, r, k, panel + size_t(k) * Format::kPanelBlockBytes);
        }
        for (int64_t b = 0; b < n_batch; b += kMaxColumns) {
            const int64_t n = n_batch - b < kMaxColumns ? n_batch - b : kMaxColumns;
            kPanelFns[n](panel, n_blocks, xq, xq_row_bytes, scales, b, y + r, y_stride);
        }
    }
    if (r_end < r1) matmul_tile_generic(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

// The tile of a level: the panels above for the types and batch sizes they handle.
template <class Dot>
void gemm_tile(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
               int64_t n_batch, float* y, int64_t y_stride) {
    if (n_batch >= kMinBatch) {
        switch (w.type) {
            case TensorType::kQ4_0:
                return gemm<LegacyFormat<Dot, BlockQ4_0>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
            case TensorType::kQ8_0:
                return gemm<LegacyFormat<Dot, BlockQ8_0>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
            case TensorType::kQ4_K: return gemm<Q4_KFormat<Dot>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
            case TensorType::kQ6_K: return gemm<Q6_KFormat<Dot>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
            default: break;
        }
    }
    matmul_tile_generic(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

}  // namespace
}  // namespace mmojo
