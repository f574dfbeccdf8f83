// Register-blocked matrix products for prompt processing with AVX2 (no VNNI): Q4_0 and Q8_0
// weights against Q8_0 activations, Q4_K and Q6_K against Q8_K (installed by ops/matmul.cpp at levels
// avx2 and avx512; other types, and batches too small to pay for packing, go to the generic
// tile).
//
// The scheme of gemm_avx512vnni.cpp with 8 weight rows per panel (one per 32-bit lane):
// per 32-element block k of the 8 rows
//   float d[8]; uint8 q[8][8][4]    q[g][r] = elements 4g..4g+3 of row r
// and, for Q8_0, a second copy holding the signed quants (for their signs).
// VPMADDUBSW multiplies unsigned by signed bytes into saturating 16-bit pair sums:
//  - Q4_0 stores the quants 0..15 (value + 8): 8 groups of pair sums stay below
//    8 * 2 * 15 * 127 = 30480, so they are added in 16 bits and widened once; the offset
//    is taken off by starting the 32-bit sum at -8 * sum(x).
//  - Q8_0 stores |q| and moves the sign of q onto the activation byte (VPSIGNB), exact for
//    activations in -127..127; a pair sum reaches 2 * 128 * 127, so every group is widened.
//  - Q4_K stores its 0..15 quants per 32-element sub-block like Q4_0, beside the rows'
//    sub-block scales and mins as floats; the mins meet the activation sub-block sums.
//  - Q6_K stores its quants + 32 (0..63) with a float scale per 16 elements; the offset is
//    taken off by starting each 16-element sum at -32 * sum(x).
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace and no std:: templates are used.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/gemm_kernels.h"
#include "kernels/gemm_x86_common.h"
#include "kernels/blocks.h"

namespace mmojo {

namespace {

constexpr int kPanelRows = 8;
constexpr int kMaxColumns = 4;   // activation rows per pass over a panel
constexpr int kMinBatch = 4;     // fewer activation rows: packing does not pay

// sum over the 8 groups of q[g] . x[4g..4g+3] per lane, for unsigned quants of at most 15:
// 8 groups of pair sums stay below 8 * 2 * 15 * 127 = 30480, so they are added in 16 bits.
inline __m256i dot_u4(const __m256i* q, const int8_t* x) {
    __m256i pairs = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
        int32_t v;
        std::memcpy(&v, x + 4 * g, sizeof v);
        pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(q[g], _mm256_set1_epi32(v)));
    }
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// How each weight type is stored in the panel and multiplied there.
struct Q4_0Panel {
    using Block = BlockQ4_0;
    static constexpr int kCopies = 1;      // unsigned quants 0..15
    static constexpr int32_t kOffset = 8;
    static void quants(const BlockQ4_0& b, __m256i out[kCopies]) {
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
        const __m128i mask = _mm_set1_epi8(0x0f);
        out[0] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), mask), _mm_and_si128(packed, mask));
    }
    static __m256i dot(const __m256i* q, const int8_t* x) { return dot_u4(q, x); }
};

struct Q8_0Panel {
    using Block = BlockQ8_0;
    static constexpr int kCopies = 2;      // |q|, then q
    static constexpr int32_t kOffset = 0;
    static void quants(const BlockQ8_0& b, __m256i out[kCopies]) {
        out[1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
        out[0] = _mm256_abs_epi8(out[1]);
    }
    static __m256i dot(const __m256i* q, const int8_t* x) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            int32_t v;
            std::memcpy(&v, x + 4 * g, sizeof v);
            const __m256i xs = _mm256_sign_epi8(_mm256_set1_epi32(v), q[8 + g]);
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], xs), ones));
        }
        return sum;
    }
};

// Stores 32 quants of each of the 8 rows (rows[r], element order) as q[8][8][4].
inline void store_transposed(const __m256i rows[8], uint8_t* q) {
    __m256i cols[8];
    transpose8x8(rows, cols);
    for (int g = 0; g < 8; ++g) _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + g * 32), cols[g]);
}

// A weight format of the panels: Block, Column (what the kernel needs per activation block),
// Activation, kElements per block, kPanelBlockBytes per packed block of 8 rows, and
// describe (Column of every activation block), pack (block k of 8 rows) and multiply<J>
// (one packed block times J activation rows, added to acc[J]).

// Q4_0 and Q8_0 (P above): per 32-element block, float d[8] then P::kCopies q[8][8][4].
template <typename P>
struct LegacyFormat {
    using Block = typename P::Block;
    using Column = ColumnBlock;
    using Activation = BlockQ8_0;
    static constexpr int64_t kElements = kQK;
    static constexpr size_t kPanelBlockBytes = kPanelRows * sizeof(float) + size_t(P::kCopies) * 8 * kPanelRows * 4;

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_columns(xq, xq_row_bytes, n_batch, n_blocks, P::kOffset, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        float* d = reinterpret_cast<float*>(out);
        __m256i rows[P::kCopies][8];
        for (int r = 0; r < kPanelRows; ++r) {
            const Block& b = reinterpret_cast<const Block*>(w + size_t(r0 + r) * row_bytes)[k];
            d[r] = _cvtsh_ss(b.d);
            __m256i quants[P::kCopies];
            P::quants(b, quants);
            for (int c = 0; c < P::kCopies; ++c) rows[c][r] = quants[c];
        }
        for (int c = 0; c < P::kCopies; ++c) store_transposed(rows[c], out + kPanelRows * sizeof(float) + c * 256);
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m256 acc[J]) {
        const __m256 dw = _mm256_loadu_ps(reinterpret_cast<const float*>(block));
        __m256i q[P::kCopies * 8];
        for (int i = 0; i < P::kCopies * 8; ++i) {
            q[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kPanelRows * sizeof(float) + i * 32));
        }
        for (int j = 0; j < J; ++j) {
            const __m256i sum = _mm256_add_epi32(P::dot(q, x[j][k].qs), _mm256_set1_epi32(c[j][k].neg_offset_sum));
            acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw, _mm256_set1_ps(c[j][k].d)), acc[j]);
        }
    }
};

// Q4_K, per 256-element super-block of the 8 rows, for each 32-element sub-block s:
//   float scale[8], min[8]          d * sc_s and dmin * m_s of each row
//   uint8 q[8][8][4]                quants 0..15 as stored
// as in gemm_avx512vnni.cpp's Q4_KFormat.
struct Q4_KFormat {
    using Block = BlockQ4_K;
    using Column = ColumnSuperBlock;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kSubBlockBytes = 2 * kPanelRows * sizeof(float) + 8 * kPanelRows * 4;
    static constexpr size_t kPanelBlockBytes = 8 * kSubBlockBytes;

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_super_columns(xq, xq_row_bytes, n_batch, n_blocks, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        constexpr size_t kQuants = 2 * kPanelRows * sizeof(float);   // offset of q in a sub-block
        const BlockQ4_K* b[kPanelRows];
        for (int r = 0; r < kPanelRows; ++r) {
            b[r] = &reinterpret_cast<const BlockQ4_K*>(w + size_t(r0 + r) * row_bytes)[k];
            float scale[8], min[8];
            q4_k_scales_mins(*b[r], scale, min);
            for (int s = 0; s < 8; ++s) {
                float* f = reinterpret_cast<float*>(out + s * kSubBlockBytes);
                f[r] = scale[s];
                f[kPanelRows + r] = min[s];
            }
        }
        for (int c = 0; c < 4; ++c) {
            __m256i lo[kPanelRows], hi[kPanelRows];
            for (int r = 0; r < kPanelRows; ++r) q4_k_quant_pair(*b[r], c, lo[r], hi[r]);
            store_transposed(lo, out + (2 * c) * kSubBlockBytes + kQuants);
            store_transposed(hi, out + (2 * c + 1) * kSubBlockBytes + kQuants);
        }
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m256 acc[J]) {
        __m256 part[J];   // per activation row, the super-block's sum before its scale x.d
        for (int j = 0; j < J; ++j) part[j] = _mm256_setzero_ps();
        for (int s = 0; s < 8; ++s) {
            const uint8_t* sub = block + s * kSubBlockBytes;
            const __m256 scale = _mm256_loadu_ps(reinterpret_cast<const float*>(sub));
            const __m256 min = _mm256_loadu_ps(reinterpret_cast<const float*>(sub) + kPanelRows);
            __m256i q[8];
            for (int g = 0; g < 8; ++g) {
                q[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sub + 2 * kPanelRows * sizeof(float) + g * 32));
            }
            for (int j = 0; j < J; ++j) {
                const __m256i sum = dot_u4(q, x[j][k].qs + 32 * s);
                part[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), scale, part[j]);
                part[j] = _mm256_fnmadd_ps(min, _mm256_set1_ps(c[j][k].sub_sums[s]), part[j]);
            }
        }
        for (int j = 0; j < J; ++j) acc[j] = _mm256_fmadd_ps(part[j], _mm256_set1_ps(c[j][k].d), acc[j]);
    }
};

// Q6_K, per 256-element super-block of the 8 rows, for each 32-element sub-block s:
//   float scale[2][8]               d * sc of each row's two 16-element groups
//   uint8 q[8][8][4]                quants 0..63 (value + 32)
// as in gemm_avx512vnni.cpp's Q6_KFormat. A pair sum of VPMADDUBSW reaches 2 * 63 * 127, so
// two of them are added in 16 bits before widening.
struct Q6_KFormat {
    using Block = BlockQ6_K;
    using Column = ColumnSuperBlock16;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kSubBlockBytes = 2 * kPanelRows * sizeof(float) + 8 * kPanelRows * 4;
    static constexpr size_t kPanelBlockBytes = 8 * kSubBlockBytes;

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_q6_k_columns(xq, xq_row_bytes, n_batch, n_blocks, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        constexpr size_t kQuants = 2 * kPanelRows * sizeof(float);   // offset of q in a sub-block
        const BlockQ6_K* b[kPanelRows];
        for (int r = 0; r < kPanelRows; ++r) {
            b[r] = &reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes)[k];
            const float d = _cvtsh_ss(b[r]->d);
            for (int s = 0; s < 8; ++s) {
                float* f = reinterpret_cast<float*>(out + s * kSubBlockBytes);
                f[r] = d * float(b[r]->scales[2 * s]);
                f[kPanelRows + r] = d * float(b[r]->scales[2 * s + 1]);
            }
        }
        for (int s = 0; s < 8; ++s) {
            __m256i rows[kPanelRows];
            for (int r = 0; r < kPanelRows; ++r) rows[r] = q6_k_sub_block_quants(*b[r], s);
            store_transposed(rows, out + s * kSubBlockBytes + kQuants);
        }
    }

    // Groups g0..g0+3 of q (16 elements) times x[0..15], per lane.
    static __m256i dot_16(const __m256i* q, const int8_t* x) {
        __m256i pairs[4];
        for (int g = 0; g < 4; ++g) {
            int32_t v;
            std::memcpy(&v, x + 4 * g, sizeof v);
            pairs[g] = _mm256_maddubs_epi16(q[g], _mm256_set1_epi32(v));
        }
        const __m256i ones = _mm256_set1_epi16(1);
        return _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(pairs[0], pairs[1]), ones),
                                _mm256_madd_epi16(_mm256_add_epi16(pairs[2], pairs[3]), ones));
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m256 acc[J]) {
        __m256 part[J];   // per activation row, the super-block's sum before its scale x.d
        for (int j = 0; j < J; ++j) part[j] = _mm256_setzero_ps();
        for (int s = 0; s < 8; ++s) {
            const uint8_t* sub = block + s * kSubBlockBytes;
            const __m256 scale0 = _mm256_loadu_ps(reinterpret_cast<const float*>(sub));
            const __m256 scale1 = _mm256_loadu_ps(reinterpret_cast<const float*>(sub) + kPanelRows);
            __m256i q[8];
            for (int g = 0; g < 8; ++g) {
                q[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sub + 2 * kPanelRows * sizeof(float) + g * 32));
            }
            for (int j = 0; j < J; ++j) {
                const int8_t* xs = x[j][k].qs + 32 * s;
                const __m256i sum0 = _mm256_add_epi32(dot_16(q, xs), _mm256_set1_epi32(c[j][k].neg_offset_sums[2 * s]));
                const __m256i sum1 =
                    _mm256_add_epi32(dot_16(q + 4, xs + 16), _mm256_set1_epi32(c[j][k].neg_offset_sums[2 * s + 1]));
                part[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum0), scale0, part[j]);
                part[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum1), scale1, part[j]);
            }
        }
        for (int j = 0; j < J; ++j) acc[j] = _mm256_fmadd_ps(part[j], _mm256_set1_ps(c[j][k].d), acc[j]);
    }
};

template <typename Format, int J>
void panel_times_columns(const uint8_t* panel, int64_t n_blocks, const uint8_t* xq, size_t xq_row_bytes,
                         const typename Format::Column* columns, int64_t first, float* y, int64_t y_stride) {
    using Activation = typename Format::Activation;
    using Column = typename Format::Column;
    __m256 acc[J];
    const Activation* x[J];
    const Column* c[J];
    for (int j = 0; j < J; ++j) {
        acc[j] = _mm256_setzero_ps();
        x[j] = reinterpret_cast<const Activation*>(xq + size_t(first + j) * xq_row_bytes);
        c[j] = columns + (first + j) * n_blocks;
    }
    for (int64_t k = 0; k < n_blocks; ++k) {
        Format::template multiply<J>(panel + size_t(k) * Format::kPanelBlockBytes, k, x, c, acc);
    }
    for (int j = 0; j < J; ++j) _mm256_storeu_ps(y + (first + j) * y_stride, acc[j]);
}

template <typename Format>
void gemm(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
          int64_t n_batch, float* y, int64_t y_stride) {
    using Column = typename Format::Column;
    using PanelFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, const Column*, int64_t, float*,
                             int64_t);
    constexpr PanelFn kPanelFns[kMaxColumns + 1] = {
        nullptr, panel_times_columns<Format, 1>, panel_times_columns<Format, 2>, panel_times_columns<Format, 3>,
        panel_times_columns<Format, 4>,
    };
    const int64_t n_blocks = w.n_cols / Format::kElements;
    const int64_t r_end = r0 + (r1 - r0) / kPanelRows * kPanelRows;
    const size_t panel_bytes = size_t(n_blocks) * Format::kPanelBlockBytes;
    uint8_t* scratch = matmul_scratch(panel_bytes + size_t(n_batch * n_blocks) * sizeof(Column));
    uint8_t* panel = scratch;
    auto* columns = reinterpret_cast<Column*>(scratch + panel_bytes);
    Format::describe(xq, xq_row_bytes, n_batch, n_blocks, columns);
    for (int64_t r = r0; r < r_end; r += kPanelRows) {
        for (int64_t k = 0; k < n_blocks; ++k) {
            Format::pack(w.data, w.row_bytes, r, k, panel + size_t(k) * Format::kPanelBlockBytes);
        }
        for (int64_t b = 0; b < n_batch; b += kMaxColumns) {
            const int64_t n = n_batch - b < kMaxColumns ? n_batch - b : kMaxColumns;
            kPanelFns[n](panel, n_blocks, xq, xq_row_bytes, columns, b, y + r, y_stride);
        }
    }
    if (r_end < r1) matmul_tile_generic(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

// Token generation on Q4_0: two weight rows per 256-bit register (one 128-bit lane each,
// nothing transposed), two registers per step; see gemm_avx512vnni.cpp for the lane layout.
// The low- and high-nibble products are added in 16 bits (at most 4 * 15 * 127 per lane)
// and widened once.
struct Q4_0FourRowsAvx2 {
    static constexpr int kRows = 4;
    static constexpr int32_t kOffset = 0;   // q4_0_lane_corrections takes care of it
    static constexpr bool kLaneCorrections = true;

    template <int J>
    static void rows(const Matrix& w, int64_t r, const uint8_t* next, const GemvColumns& columns,
                     float* y, int64_t y_stride) {
        const int64_t n_blocks = w.n_cols / kQK;
        const BlockQ4_0* wr[4];
        for (int i = 0; i < 4; ++i) wr[i] = reinterpret_cast<const BlockQ4_0*>(w.row(r + i));
        const BlockQ8_0* x[J];
        __m256 acc[J][2];
        for (int j = 0; j < J; ++j) {
            x[j] = columns.row(j);
            acc[j][0] = acc[j][1] = _mm256_setzero_ps();
        }
        const __m256i mask = _mm256_set1_epi8(0x0f);
        const __m256i ones = _mm256_set1_epi16(1);
        const NextGroupPrefetch prefetch(next, 4 * sizeof(BlockQ4_0));
        for (int64_t k = 0; k < n_blocks; ++k) {
            prefetch.at(k);
            __m256i lo[2], hi[2];
            __m256 dw[2];
            for (int h = 0; h < 2; ++h) {
                const BlockQ4_0& a = wr[2 * h][k];
                const BlockQ4_0& b = wr[2 * h + 1][k];
                const __m256i packed = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)),
                                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.qs)));
                lo[h] = _mm256_and_si256(packed, mask);
                hi[h] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
                dw[h] = _mm256_set_m128(_mm_set1_ps(_cvtsh_ss(b.d)), _mm_set1_ps(_cvtsh_ss(a.d)));
            }
            for (int j = 0; j < J; ++j) {
                const __m128i* xs = reinterpret_cast<const __m128i*>(x[j][k].qs);
                const __m256i ylo = _mm256_broadcastsi128_si256(_mm_loadu_si128(xs));
                const __m256i yhi = _mm256_broadcastsi128_si256(_mm_loadu_si128(xs + 1));
                const __m256i corr = _mm256_broadcastsi128_si256(columns.lane_corrections[j * n_blocks + k]);
                const __m256 dy = _mm256_set1_ps(columns.blocks[j * n_blocks + k].d);
                for (int h = 0; h < 2; ++h) {
                    const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo[h], ylo),
                                                           _mm256_maddubs_epi16(hi[h], yhi));
                    const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(pairs, ones), corr);
                    acc[j][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw[h], dy), acc[j][h]);
                }
            }
        }
        for (int j = 0; j < J; ++j) {
            for (int h = 0; h < 2; ++h) {
                alignas(32) float lanes[8];
                _mm256_store_ps(lanes, acc[j][h]);
                for (int i = 0; i < 2; ++i) {
                    y[j * y_stride + r + 2 * h + i] = (lanes[4 * i] + lanes[4 * i + 1]) + (lanes[4 * i + 2] + lanes[4 * i + 3]);
                }
            }
        }
    }
};

// Token generation on Q8_0: one weight row per 256-bit register, two rows per step so that
// the next pair, prefetched meanwhile, is about 4 KiB ahead (see Q8_0TwoRowsVnni). Signed
// times signed bytes through VPMADDUBSW: |w| times x carrying w's sign (pairs stay within
// 16 bits: activations are -127..127).
struct Q8_0TwoRowsAvx2 {
    static constexpr int kRows = 2;
    static constexpr int32_t kOffset = 0;
    static constexpr bool kLaneCorrections = false;

    template <int J>
    static void rows(const Matrix& w, int64_t r, const uint8_t* next, const GemvColumns& columns,
                     float* y, int64_t y_stride) {
        const int64_t n_blocks = w.n_cols / kQK;
        const BlockQ8_0* wr[2] = {reinterpret_cast<const BlockQ8_0*>(w.row(r)),
                                  reinterpret_cast<const BlockQ8_0*>(w.row(r + 1))};
        const NextGroupPrefetch prefetch(next, 2 * sizeof(BlockQ8_0));
        const BlockQ8_0* x[J];
        __m256 acc[J][2];
        for (int j = 0; j < J; ++j) {
            x[j] = columns.row(j);
            acc[j][0] = acc[j][1] = _mm256_setzero_ps();
        }
        const __m256i ones = _mm256_set1_epi16(1);
        for (int64_t k = 0; k < n_blocks; ++k) {
            prefetch.at(k);
            __m256i q[2], magnitude[2];
            __m256 dw[2];
            for (int h = 0; h < 2; ++h) {
                q[h] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[h][k].qs));
                magnitude[h] = _mm256_sign_epi8(q[h], q[h]);
                dw[h] = _mm256_set1_ps(_cvtsh_ss(wr[h][k].d));
            }
            for (int j = 0; j < J; ++j) {
                const __m256i xs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[j][k].qs));
                const __m256 dy = _mm256_set1_ps(columns.blocks[j * n_blocks + k].d);
                for (int h = 0; h < 2; ++h) {
                    const __m256i pairs = _mm256_maddubs_epi16(magnitude[h], _mm256_sign_epi8(xs, q[h]));
                    const __m256i sum = _mm256_madd_epi16(pairs, ones);
                    acc[j][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw[h], dy), acc[j][h]);
                }
            }
        }
        for (int j = 0; j < J; ++j) {
            for (int h = 0; h < 2; ++h) y[j * y_stride + r + h] = sum_lanes(acc[j][h]);
        }
    }
};

void tile(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
          int64_t n_batch, float* y, int64_t y_stride) {
    if (w.type == TensorType::kQ4_0 && n_batch <= kGemvColumnsMax) {
        return gemv<Q4_0FourRowsAvx2>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ8_0 && n_batch <= kGemvColumnsMax) {
        return gemv<Q8_0TwoRowsAvx2>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (n_batch >= kMinBatch) {
        if (w.type == TensorType::kQ4_0) {
            return gemm<LegacyFormat<Q4_0Panel>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
        }
        if (w.type == TensorType::kQ8_0) {
            return gemm<LegacyFormat<Q8_0Panel>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
        }
        if (w.type == TensorType::kQ4_K) return gemm<Q4_KFormat>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
        if (w.type == TensorType::kQ6_K) return gemm<Q6_KFormat>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    matmul_tile_generic(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

}  // namespace

MatmulTileFn matmul_tile_avx2() { return tile; }

}  // namespace mmojo
