// Pieces the x86 GEMM kernel files use (gemm_avx2.cpp, gemm_avx512vnni.cpp, gemm_amx.cpp).
// Everything here has internal linkage, so each of those files gets its own copy compiled
// with its own instruction-set flags (see kernels/simd_kernels.h); it needs AVX2 at least.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_kernels.h"
#include "kernels/blocks.h"

namespace mmojo {
namespace {

// Per activation block: its scale and -offset * sum(quants), the term that undoes the
// offset that made the weight quants unsigned.
struct ColumnBlock {
    float d;
    int32_t neg_offset_sum;
};

// Sum of the eight lanes.
inline float sum_lanes(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// 8x8 transpose of 32-bit elements: rows[i] lane j -> out[j] lane i.
inline void transpose8x8(const __m256i rows[8], __m256i out[8]) {
    const __m256 r0 = _mm256_castsi256_ps(rows[0]), r1 = _mm256_castsi256_ps(rows[1]);
    const __m256 r2 = _mm256_castsi256_ps(rows[2]), r3 = _mm256_castsi256_ps(rows[3]);
    const __m256 r4 = _mm256_castsi256_ps(rows[4]), r5 = _mm256_castsi256_ps(rows[5]);
    const __m256 r6 = _mm256_castsi256_ps(rows[6]), r7 = _mm256_castsi256_ps(rows[7]);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    out[0] = _mm256_castps_si256(_mm256_permute2f128_ps(s0, s4, 0x20));
    out[1] = _mm256_castps_si256(_mm256_permute2f128_ps(s1, s5, 0x20));
    out[2] = _mm256_castps_si256(_mm256_permute2f128_ps(s2, s6, 0x20));
    out[3] = _mm256_castps_si256(_mm256_permute2f128_ps(s3, s7, 0x20));
    out[4] = _mm256_castps_si256(_mm256_permute2f128_ps(s0, s4, 0x31));
    out[5] = _mm256_castps_si256(_mm256_permute2f128_ps(s1, s5, 0x31));
    out[6] = _mm256_castps_si256(_mm256_permute2f128_ps(s2, s6, 0x31));
    out[7] = _mm256_castps_si256(_mm256_permute2f128_ps(s3, s7, 0x31));
}

// Asks for a later group of rows (the next one, or the one after: group_after_next), in
// address order, while a kernel reads the current one block by block: step k of n asks for
// the k-th n-th of that group, which has arrived by the time the kernel gets there. Suits
// groups small enough to sit in L1 beside the current one (a few rows); bigger groups use
// RowStreamsPrefetch.
class NextGroupPrefetch {
public:
    // `next` = the first byte of the group (nullptr: none); `step` = its bytes per step.
    NextGroupPrefetch(const uint8_t* next, size_t step)
        : next_(reinterpret_cast<uintptr_t>(next)), step_(step) {}

    void at(int64_t k) const {
        if (next_ == 0) return;
        const uintptr_t begin = (next_ + size_t(k) * step_) & ~uintptr_t(63);
        const uintptr_t end = next_ + size_t(k + 1) * step_;
        for (uintptr_t line = begin; line < end; line += 64) {
            _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
        }
    }

private:
    uintptr_t next_;
    size_t step_;
};

// Asks for the bytes a kernel will read soon, while it reads a group of rows block by
// block. Each row of the group is a stream, and there are more streams than the hardware
// prefetchers of these VMs follow: without this, token generation read a fifth of the
// machine's bandwidth. Row i's stream is asked `distance` bytes ahead and runs on into row
// i of the next group (when there is one), so a group starts with its first bytes cached.
class RowStreamsPrefetch {
public:
    RowStreamsPrefetch(const uint8_t* group, const uint8_t* next_group, int rows, size_t row_bytes,
                       size_t block_bytes, size_t distance)
        : group_(group), next_(next_group), rows_(rows), row_bytes_(row_bytes),
          block_bytes_(block_bytes), distance_(distance) {}

    void at(int64_t k) const {
        size_t offset = size_t(k) * block_bytes_ + distance_;
        const uint8_t* base = group_;
        if (offset >= row_bytes_) {
            if (next_ == nullptr) return;
            offset -= row_bytes_;
            base = next_;
        }
        for (int i = 0; i < rows_; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(base + size_t(i) * row_bytes_ + offset), _MM_HINT_T0);
        }
    }

private:
    const uint8_t* group_;
    const uint8_t* next_;
    int rows_;
    size_t row_bytes_, block_bytes_, distance_;
};

// Rows [r, r + n) of w are the current group of [r0, r1): where the next full group starts.
inline const uint8_t* next_group(const Matrix& w, int64_t r, int64_t n, int64_t r1) {
    return r + 2 * n <= r1 ? w.row(r + n) : nullptr;
}

// Where the full group after the next one starts: what the generation kernels prefetch
// while they read group r. On a Zen 5 VM (2026-12-01), prefetching one group further ahead
// than next_group measured 5-10% faster generation on Q4_0 and Q8_0 (4 rounds each, old and
// new builds alternated); the group in between is on its way by then.
inline const uint8_t* group_after_next(const Matrix& w, int64_t r, int64_t n, int64_t r1) {
    return r + 3 * n <= r1 ? w.row(r + 2 * n) : nullptr;
}

// Scales and offset sums of every block of every activation row.
inline void describe_columns(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks,
                      int32_t offset, ColumnBlock* out) {
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    for (int64_t b = 0; b < n_batch; ++b) {
        const auto* x = reinterpret_cast<const BlockQ8_0*>(xq + size_t(b) * xq_row_bytes);
        for (int64_t k = 0; k < n_blocks; ++k) {
            // Sum of signed bytes: |x + 128| summed by VPSADBW, minus 32 * 128.
            const __m256i q = _mm256_xor_si256(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[k].qs)), flip);
            const __m256i s = _mm256_sad_epu8(q, _mm256_setzero_si256());
            const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            const int32_t sum = int32_t(_mm_cvtsi128_si32(s2) + _mm_extract_epi32(s2, 2)) - 32 * 128;
            out[b * n_blocks + k] = ColumnBlock{_cvtsh_ss(x[k].d), -offset * sum};
        }
    }
}

// Per Q8_K activation super-block: its scale and the sums of its eight 32-element
// sub-blocks (from bsums), which meet the weights' sub-block mins.
struct ColumnSuperBlock {
    float d;
    float sub_sums[8];
};

inline void describe_super_columns(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks,
                                   ColumnSuperBlock* out) {
    for (int64_t b = 0; b < n_batch; ++b) {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(xq + size_t(b) * xq_row_bytes);
        for (int64_t k = 0; k < n_blocks; ++k) {
            ColumnSuperBlock& c = out[b * n_blocks + k];
            c.d = x[k].d;
            for (int s = 0; s < 8; ++s) c.sub_sums[s] = float(x[k].bsums[2 * s] + x[k].bsums[2 * s + 1]);
        }
    }
}

// Scale d * sc_s and min dmin * m_s of each of a Q4_K block's eight sub-blocks (the 6-bit
// packing of kernels/quant_kquants.cpp's unpack_scale_min_k4).
inline void q4_k_scales_mins(const BlockQ4_K& b, float scale[8], float min[8]) {
    const uint8_t* p = b.scales;
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    for (int s = 0; s < 8; ++s) {
        int sc, mn;
        if (s < 4) {
            sc = p[s] & 63;
            mn = p[s + 4] & 63;
        } else {
            sc = (p[s + 4] & 0x0f) | ((p[s - 4] >> 6) << 4);
            mn = (p[s + 4] >> 4) | ((p[s] >> 6) << 4);
        }
        scale[s] = d * float(sc);
        min[s] = dmin * float(mn);
    }
}

// The 0..15 quants of Q4_K sub-blocks 2c (low nibbles of bytes 32c..32c+31) and 2c + 1
// (their high nibbles), in element order.
inline void q4_k_quant_pair(const BlockQ4_K& b, int c, __m256i& lo, __m256i& hi) {
    const __m256i mask = _mm256_set1_epi8(0x0f);
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
    lo = _mm256_and_si256(packed, mask);
    hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
}

// Super-block k of 16 Q4_K rows from r0, packed as the 16-row AVX-512 panels of
// gemm_avx512vnni.cpp and gemm_amx.cpp lay it out: per 32-element sub-block s, at
// out + s * unit_bytes, float scale[16] (d * sc_s of each row), float min[16] (dmin * m_s),
// then the quants 0..15, which store(rows, half, q) writes from 8 rows' element-order
// vectors (rows half * 8 .. half * 8 + 7) in the file's own transposed layout.
template <typename StoreTransposed>
inline void pack_q4_k_16_rows(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, size_t unit_bytes,
                              uint8_t* out, StoreTransposed store) {
    constexpr int kRows = 16;
    constexpr size_t kQuants = 2 * kRows * sizeof(float);   // offset of the quants in a unit
    for (int half = 0; half < 2; ++half) {
        const BlockQ4_K* b[8];
        for (int i = 0; i < 8; ++i) {
            const int r = half * 8 + i;
            b[i] = &reinterpret_cast<const BlockQ4_K*>(w + size_t(r0 + r) * row_bytes)[k];
            float scale[8], min[8];
            q4_k_scales_mins(*b[i], scale, min);
            for (int s = 0; s < 8; ++s) {
                float* f = reinterpret_cast<float*>(out + s * unit_bytes);
                f[r] = scale[s];
                f[kRows + r] = min[s];
            }
        }
        for (int c = 0; c < 4; ++c) {   // sub-blocks 2c and 2c + 1
            __m256i lo[8], hi[8];
            for (int i = 0; i < 8; ++i) q4_k_quant_pair(*b[i], c, lo[i], hi[i]);
            store(lo, half, out + (2 * c) * unit_bytes + kQuants);
            store(hi, half, out + (2 * c + 1) * unit_bytes + kQuants);
        }
    }
}

// Per Q8_K activation super-block, for Q6_K weights: its scale and -32 times the sum of each
// 16-element group (bsums), the term that undoes the + 32 that makes Q6_K quants unsigned.
struct ColumnSuperBlock16 {
    float d;
    int32_t neg_offset_sums[16];
};

inline void describe_q6_k_columns(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks,
                                  ColumnSuperBlock16* out) {
    for (int64_t b = 0; b < n_batch; ++b) {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(xq + size_t(b) * xq_row_bytes);
        for (int64_t k = 0; k < n_blocks; ++k) {
            ColumnSuperBlock16& c = out[b * n_blocks + k];
            c.d = x[k].d;
            for (int i = 0; i < 16; ++i) c.neg_offset_sums[i] = -32 * int32_t(x[k].bsums[i]);
        }
    }
}

// The 0..63 quants (value + 32) of Q6_K's 32-element sub-block s (0..7), in element order:
// elements 128h + 32j + l, l < 32, take their low 4 bits from ql[64h + 32(j % 2) + l] (low
// nibble for j < 2, high for j >= 2) and bits 4..5 from bits 2j..2j+1 of qh[32h + l].
inline __m256i q6_k_sub_block_quants(const BlockQ6_K& b, int s) {
    const int h = s / 4, j = s % 4;
    const __m256i nibbles = _mm256_set1_epi8(0x0f);
    const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32 * (j % 2)));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
    const __m256i low = _mm256_and_si256(j < 2 ? l : _mm256_srli_epi16(l, 4), nibbles);
    const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j)), _mm256_set1_epi8(3));
    return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
}

// For Q4_0 weights against activation blocks split in 128-bit halves (elements 0..15 and
// 16..31 meet the low and high nibbles of the same 16 packed bytes): 32-bit lane i of the
// 128-bit result is -8 times the activation bytes that lane meets, elements 4i..4i+3 and
// 16+4i..16+4i+3. Added to the dot product of the unsigned nibbles, it gives the product
// with the signed quants (q - 8).
inline void q4_0_lane_corrections(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
                                  int64_t n_blocks, __m128i* out) {
    const __m256i ones8 = _mm256_set1_epi8(1);
    const __m256i ones16 = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < n_batch; ++b) {
        const auto* x = reinterpret_cast<const BlockQ8_0*>(xq + size_t(b) * xq_row_bytes);
        for (int64_t k = 0; k < n_blocks; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[k].qs));
            const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
            const __m128i both = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
            out[b * n_blocks + k] = _mm_sub_epi32(_mm_setzero_si128(), _mm_slli_epi32(both, 3));
        }
    }
}

// Token generation: one to kGemvColumnsMax activation rows, too few to pay for packing
// panels. Kernel::kRows weight rows at a time go through Kernel::rows<J>(w, r, next,
// columns, y, y_stride), `next` being the group of rows after (NextGroupPrefetch); leftover
// rows go to the generic tile. Kernel::kOffset is the weight offset for describe_columns,
// and Kernel::kLaneCorrections asks for q4_0_lane_corrections.
constexpr int kGemvColumnsMax = 3;

// What a gemv kernel knows of the activation rows, worked out once per call.
struct GemvColumns {
    const uint8_t* xq;
    size_t xq_row_bytes;
    const ColumnBlock* blocks;          // [j * n_blocks + k]
    const __m128i* lane_corrections;    // the same, when Kernel::kLaneCorrections

    const BlockQ8_0* row(int j) const { return reinterpret_cast<const BlockQ8_0*>(xq + size_t(j) * xq_row_bytes); }
};

template <typename Kernel>
void gemv(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
          int64_t n_batch, float* y, int64_t y_stride) {
    const int64_t n_blocks = w.n_cols / kQK;
    const size_t n = size_t(n_batch * n_blocks);
    const size_t correction_bytes = Kernel::kLaneCorrections ? n * sizeof(__m128i) : 0;
    uint8_t* scratch = matmul_scratch(correction_bytes + n * sizeof(ColumnBlock));
    auto* corrections = reinterpret_cast<__m128i*>(scratch);
    auto* blocks = reinterpret_cast<ColumnBlock*>(scratch + correction_bytes);
    if (Kernel::kLaneCorrections) q4_0_lane_corrections(xq, xq_row_bytes, n_batch, n_blocks, corrections);
    describe_columns(xq, xq_row_bytes, n_batch, n_blocks, Kernel::kOffset, blocks);
    const GemvColumns columns{xq, xq_row_bytes, blocks, corrections};
    constexpr int R = Kernel::kRows;
    const int64_t r_end = r0 + (r1 - r0) / R * R;
    for (int64_t r = r0; r < r_end; r += R) {
        const uint8_t* next = group_after_next(w, r, R, r1);
        switch (n_batch) {
            case 1: Kernel::template rows<1>(w, r, next, columns, y, y_stride); break;
            case 2: Kernel::template rows<2>(w, r, next, columns, y, y_stride); break;
            default: Kernel::template rows<3>(w, r, next, columns, y, y_stride); break;
        }
    }
    if (r_end < r1) matmul_tile_generic(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

}  // namespace
}  // namespace mmojo
