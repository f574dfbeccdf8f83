// Register-blocked matrix products for prompt processing with AVX-512 VNNI: Q4_0, Q8_0, Q4_K
// and Q6_K weights against Q8_0 / Q8_K activations (installed by ops/matmul.cpp at level
// avx512vnni; other types, and batches too small to pay for packing, go to the generic tile).
//
// A vector dot product reads one weight row per activation row. Here 16 weight rows are
// first packed into a small panel, then every activation row of the batch passes over it:
// each weight byte loaded into a register serves up to 8 activation rows.
//
// A panel holds, per 32 elements of the 16 rows, their quants as uint8 q[8][16][4], q[g][r]
// = elements 4g..4g+3 of row r as unsigned bytes, beside the rows' scales (the formats
// below give the details). One 512-bit load then holds "4 elements of each of 16 rows", and
// VPDPBUSD against the same 4 activation bytes broadcast to all lanes adds one partial dot
// product per row (lane).
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

constexpr int kPanelRows = 16;
constexpr int kMaxColumns = 8;          // activation rows per pass over a panel
constexpr size_t kPrefetchDistance = 512;   // best of 256..2048 for token generation on Q8_0
constexpr size_t kPanelQuantBytes = 8 * kPanelRows * 4;   // q[8][16][4] of 32 elements

// The 32 quants of a block as unsigned bytes in element order.
inline __m256i unsigned_quants(const BlockQ4_0& b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m128i mask = _mm_set1_epi8(0x0f);
    const __m128i lo = _mm_and_si128(packed, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
    return _mm256_set_m128i(hi, lo);
}

inline __m256i unsigned_quants(const BlockQ8_0& b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    return _mm256_xor_si256(q, _mm256_set1_epi8(char(0x80)));
}

// Stores 32 unsigned quants of each of 8 rows (rows[i] = row half * 8 + i, element order)
// in the q[8][16][4] layout.
inline void store_transposed(const __m256i rows[8], int half, uint8_t* q) {
    __m256i cols[8];
    transpose8x8(rows, cols);
    for (int g = 0; g < 8; ++g) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + g * 64 + half * 32), cols[g]);
    }
}

inline __m512i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

// The 16 rows' partial dot products with 32 activation bytes: lane r = sum over the
// block's elements of q[r] * x, starting from `start`.
inline __m512i dot_32(__m512i start, const __m512i w[8], const int8_t* x) {
    __m512i sum = start;
    for (int g = 0; g < 8; ++g) sum = _mm512_dpbusd_epi32(sum, w[g], broadcast4(x + 4 * g));
    return sum;
}

// A weight format of the panels. Each provides:
//   Block, Column        its weight block and what the kernel needs per activation block
//   kElements            elements per weight block
//   kPanelBlockBytes     bytes of one packed block of 16 rows
//   kPrefetchSteps       prefetch steps per block (each reads at most 64 bytes ahead per row)
//   describe(...)        Column of every activation block of every activation row
//   pack(...)            packs block k of 16 rows
//   multiply<J>(...)     adds one packed block times J activation rows to acc[J]

// Q4_0 and Q8_0, per 32-element block of the 16 rows:
//   float d[16]                     the rows' block scales
//   uint8 q[8][16][4]               q[g][r] = elements 4g..4g+3 of row r, as unsigned bytes
// Weights are stored offset to unsigned (Q4_0 quants are already value + 8, Q8_0 quants get
// + 128); the accumulator starts at -offset * sum(x), which keeps the block's integer dot
// product exact.
template <typename WeightBlock, int32_t kOffset>
struct LegacyFormat {
    using Block = WeightBlock;
    using Column = ColumnBlock;
    using Activation = BlockQ8_0;
    static constexpr int64_t kElements = kQK;
    static constexpr size_t kPanelBlockBytes = kPanelRows * sizeof(float) + kPanelQuantBytes;
    static constexpr int kPrefetchSteps = 1;

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_columns(xq, xq_row_bytes, n_batch, n_blocks, kOffset, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        float* d = reinterpret_cast<float*>(out);
        for (int half = 0; half < 2; ++half) {
            __m256i rows[8];
            for (int i = 0; i < 8; ++i) {
                const int r = half * 8 + i;
                const Block& b = reinterpret_cast<const Block*>(w + size_t(r0 + r) * row_bytes)[k];
                d[r] = _cvtsh_ss(b.d);
                rows[i] = unsigned_quants(b);
            }
            store_transposed(rows, half, out + kPanelRows * sizeof(float));
        }
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m512 acc[J]) {
        const __m512 dw = _mm512_loadu_ps(reinterpret_cast<const float*>(block));
        const uint8_t* q = block + kPanelRows * sizeof(float);
        __m512i w[8];
        for (int g = 0; g < 8; ++g) w[g] = _mm512_loadu_si512(q + g * 64);
        for (int j = 0; j < J; ++j) {
            const __m512i sum = dot_32(_mm512_set1_epi32(c[j][k].neg_offset_sum), w, x[j][k].qs);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, _mm512_set1_ps(c[j][k].d)),
                                     acc[j]);
        }
    }
};

// Q4_K, per 256-element super-block of the 16 rows, for each 32-element sub-block s:
//   int32 sc[16], int32 m[16]       the 6-bit scale and min of sub-block s of each row
//   float d[16], float dmin[16]     the rows' super-block scales (pack_q4_k_16_rows)
//   uint8 q[8][16][4]               as in LegacyFormat, quants 0..15 as stored
// A row's super-block contributes x.d * (d * sum_s sc_s * dot(q_s, x_s) - dmin * sum_s m_s *
// sum(x_s)): both sums are exact in int32 (|dot| <= 32 * 15 * 127, times 63, 8 sub-blocks),
// so the super-block is rounded once, as in the generic kernel (scaling each sub-block in
// float lost about 10x the precision and moved Q8_K roundings downstream).
struct Q4_KFormat {
    using Block = BlockQ4_K;
    using Column = ColumnSuperBlock;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kSubBlockBytes = kQ4_KQuantsOffset + kPanelQuantBytes;
    static constexpr size_t kPanelBlockBytes = 8 * kSubBlockBytes;
    static constexpr int kPrefetchSteps = 3;   // 144-byte blocks in steps of 48 bytes

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_super_columns(xq, xq_row_bytes, n_batch, n_blocks, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        pack_q4_k_16_rows(w, row_bytes, r0, k, kSubBlockBytes, out,
                          [](const __m256i rows[8], int half, uint8_t* q) { store_transposed(rows, half, q); });
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m512 acc[J]) {
        // Per activation row, the super-block's exact scaled sums and min sums.
        __m512i isum[J], msum[J];
        for (int j = 0; j < J; ++j) isum[j] = msum[j] = _mm512_setzero_si512();
        for (int s = 0; s < 8; ++s) {
            const uint8_t* sub = block + s * kSubBlockBytes;
            const __m512i scale = _mm512_loadu_si512(sub);
            const __m512i min = _mm512_loadu_si512(sub + kPanelRows * 4);
            const uint8_t* q = sub + kQ4_KQuantsOffset;
            __m512i w[8];
            for (int g = 0; g < 8; ++g) w[g] = _mm512_loadu_si512(q + g * 64);
            for (int j = 0; j < J; ++j) {
                const __m512i sum = dot_32(_mm512_setzero_si512(), w, x[j][k].qs + 32 * s);
                isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(sum, scale));
                msum[j] = _mm512_add_epi32(msum[j], _mm512_mullo_epi32(min, _mm512_set1_epi32(int32_t(c[j][k].sub_sums[s]))));
            }
        }
        const __m512 d = _mm512_loadu_ps(reinterpret_cast<const float*>(block + 2 * kPanelRows * 4));
        const __m512 dmin = _mm512_loadu_ps(reinterpret_cast<const float*>(block + 3 * kPanelRows * 4));
        for (int j = 0; j < J; ++j) {
            const __m512 xd = _mm512_set1_ps(c[j][k].d);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), _mm512_mul_ps(d, xd), acc[j]);
            acc[j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[j]), _mm512_mul_ps(dmin, xd), acc[j]);
        }
    }
};

// Q6_K, per 256-element super-block of the 16 rows, for each 32-element sub-block s:
//   int32 scale[2][16]              the signed 8-bit scales sc of each row's two 16-element groups
//   uint8 q[8][16][4]               quants 0..63 (value + 32), as in LegacyFormat
// and after the eight sub-blocks float d[16], the rows' super-block scales.
// Each 16-element group's integer dot product starts at -32 * sum(x) of its 16 activations
// (ColumnSuperBlock16), which makes it the product with the signed values. The scaled group
// sums add up exactly in int32 (|dot| <= 16 * 32 * 127, times |sc| <= 128, 16 groups: < 2^28),
// so a super-block is rounded once, as in the generic kernel: scaling each group in float
// (as this kernel once did) lost about 10x the precision and moved Q8_K roundings downstream.
struct Q6_KFormat {
    using Block = BlockQ6_K;
    using Column = ColumnSuperBlock16;
    using Activation = BlockQ8_K;
    static constexpr int64_t kElements = kQK_K;
    static constexpr size_t kSubBlockBytes = 2 * kPanelRows * sizeof(int32_t) + kPanelQuantBytes;
    static constexpr size_t kPanelBlockBytes = 8 * kSubBlockBytes + kPanelRows * sizeof(float);
    static constexpr int kPrefetchSteps = 4;   // 210-byte blocks in steps of 52 bytes

    static void describe(const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch, int64_t n_blocks, Column* out) {
        describe_q6_k_columns(xq, xq_row_bytes, n_batch, n_blocks, out);
    }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        constexpr size_t kQuants = 2 * kPanelRows * sizeof(int32_t);   // offset of q in a sub-block
        for (int half = 0; half < 2; ++half) {
            const BlockQ6_K* b[8];
            for (int i = 0; i < 8; ++i) {
                const int r = half * 8 + i;
                b[i] = &reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes)[k];
                const float d = _cvtsh_ss(b[i]->d);
                std::memcpy(out + 8 * kSubBlockBytes + size_t(r) * sizeof(float), &d, sizeof d);
                for (int s = 0; s < 8; ++s) {
                    const int32_t sc[2] = {b[i]->scales[2 * s], b[i]->scales[2 * s + 1]};
                    uint8_t* f = out + s * kSubBlockBytes;
                    std::memcpy(f + size_t(r) * sizeof(int32_t), &sc[0], sizeof(int32_t));
                    std::memcpy(f + size_t(kPanelRows + r) * sizeof(int32_t), &sc[1], sizeof(int32_t));
                }
            }
            for (int s = 0; s < 8; ++s) {
                __m256i rows[8];
                for (int i = 0; i < 8; ++i) rows[i] = q6_k_sub_block_quants(*b[i], s);
                store_transposed(rows, half, out + s * kSubBlockBytes + kQuants);
            }
        }
    }

    template <int J>
    static void multiply(const uint8_t* block, int64_t k, const Activation* const x[J], const Column* const c[J],
                         __m512 acc[J]) {
        __m512i part[J];   // per activation row, the super-block's exact sum before d * x.d
        for (int j = 0; j < J; ++j) part[j] = _mm512_setzero_si512();
        for (int s = 0; s < 8; ++s) {
            const uint8_t* sub = block + s * kSubBlockBytes;
            const __m512i scale0 = _mm512_loadu_si512(sub);
            const __m512i scale1 = _mm512_loadu_si512(sub + kPanelRows * sizeof(int32_t));
            const uint8_t* q = sub + 2 * kPanelRows * sizeof(int32_t);
            __m512i w[8];
            for (int g = 0; g < 8; ++g) w[g] = _mm512_loadu_si512(q + g * 64);
            for (int j = 0; j < J; ++j) {
                const int8_t* xs = x[j][k].qs + 32 * s;
                __m512i sum0 = _mm512_set1_epi32(c[j][k].neg_offset_sums[2 * s]);
                __m512i sum1 = _mm512_set1_epi32(c[j][k].neg_offset_sums[2 * s + 1]);
                for (int g = 0; g < 4; ++g) {
                    sum0 = _mm512_dpbusd_epi32(sum0, w[g], broadcast4(xs + 4 * g));
                    sum1 = _mm512_dpbusd_epi32(sum1, w[g + 4], broadcast4(xs + 16 + 4 * g));
                }
                part[j] = _mm512_add_epi32(part[j], _mm512_mullo_epi32(sum0, scale0));
                part[j] = _mm512_add_epi32(part[j], _mm512_mullo_epi32(sum1, scale1));
            }
        }
        const __m512 dw = _mm512_loadu_ps(reinterpret_cast<const float*>(block + 8 * kSubBlockBytes));
        for (int j = 0; j < J; ++j) {
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(part[j]), _mm512_mul_ps(dw, _mm512_set1_ps(c[j][k].d)), acc[j]);
        }
    }
};

// y[j][r0 .. r0+16) for J activation rows starting at `first`. With kStream false the
// rows come from a packed panel (n_blocks * kPanelBlockBytes at `src`); otherwise `src` is
// the weight matrix itself and each block is packed just before use, into a buffer that
// stays in L1 (small batches, where a whole panel would be read back only once or twice),
// while the panel at `next` is prefetched.
template <typename Format, bool kStream, int J>
void panel_times_columns(const uint8_t* src, size_t row_bytes, int64_t r0, const uint8_t* next, int64_t n_blocks,
                         const uint8_t* xq, size_t xq_row_bytes, const typename Format::Column* columns,
                         int64_t first, float* y, int64_t y_stride) {
    using Activation = typename Format::Activation;
    using Column = typename Format::Column;
    constexpr int kSteps = Format::kPrefetchSteps;
    alignas(64) uint8_t packed[Format::kPanelBlockBytes];
    const RowStreamsPrefetch prefetch(src + size_t(r0) * row_bytes, next, kPanelRows, row_bytes,
                                      sizeof(typename Format::Block) / kSteps, kPrefetchDistance);
    __m512 acc[J];
    const Activation* x[J];
    const Column* c[J];
    for (int j = 0; j < J; ++j) {
        acc[j] = _mm512_setzero_ps();
        x[j] = reinterpret_cast<const Activation*>(xq + size_t(first + j) * xq_row_bytes);
        c[j] = columns + (first + j) * n_blocks;
    }
    for (int64_t k = 0; k < n_blocks; ++k) {
        const uint8_t* block = packed;
        if constexpr (kStream) {
            for (int s = 0; s < kSteps; ++s) prefetch.at(k * kSteps + s);
            Format::pack(src, row_bytes, r0, k, packed);
        } else {
            block = src + size_t(k) * Format::kPanelBlockBytes;
        }
        Format::template multiply<J>(block, k, x, c, acc);
    }
    for (int j = 0; j < J; ++j) _mm512_storeu_ps(y + (first + j) * y_stride + r0, acc[j]);
}

template <typename Format>
using PanelFn = void (*)(const uint8_t*, size_t, int64_t, const uint8_t*, int64_t, const uint8_t*, size_t,
                         const typename Format::Column*, int64_t, float*, int64_t);

template <typename Format, bool kStream>
constexpr PanelFn<Format> kPanelFns[kMaxColumns + 1] = {
    nullptr,
    panel_times_columns<Format, kStream, 1>, panel_times_columns<Format, kStream, 2>,
    panel_times_columns<Format, kStream, 3>, panel_times_columns<Format, kStream, 4>,
    panel_times_columns<Format, kStream, 5>, panel_times_columns<Format, kStream, 6>,
    panel_times_columns<Format, kStream, 7>, panel_times_columns<Format, kStream, 8>,
};

template <typename Format>
void gemm(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
          int64_t n_batch, float* y, int64_t y_stride) {
    using Column = typename Format::Column;
    constexpr int kSteps = Format::kPrefetchSteps;
    const int64_t n_blocks = w.n_cols / Format::kElements;
    const int64_t r_end = r0 + (r1 - r0) / kPanelRows * kPanelRows;
    const bool streaming = n_batch <= kMaxColumns;   // one pass over each panel
    const size_t panel_bytes = streaming ? 0 : size_t(n_blocks) * Format::kPanelBlockBytes;
    uint8_t* scratch = matmul_scratch(panel_bytes + size_t(n_batch * n_blocks) * sizeof(Column));
    uint8_t* panel = scratch;
    auto* columns = reinterpret_cast<Column*>(scratch + panel_bytes);
    Format::describe(xq, xq_row_bytes, n_batch, n_blocks, columns);
    for (int64_t r = r0; r < r_end; r += kPanelRows) {
        const uint8_t* next = next_group(w, r, kPanelRows, r1);
        if (streaming) {
            kPanelFns<Format, true>[n_batch](w.data, w.row_bytes, r, next, n_blocks, xq, xq_row_bytes, columns, 0,
                                             y, y_stride);
            continue;
        }
        const RowStreamsPrefetch prefetch(w.row(r), next, kPanelRows, w.row_bytes,
                                          sizeof(typename Format::Block) / kSteps, kPrefetchDistance);
        for (int64_t k = 0; k < n_blocks; ++k) {
            for (int s = 0; s < kSteps; ++s) prefetch.at(k * kSteps + s);
            Format::pack(w.data, w.row_bytes, r, k, panel + size_t(k) * Format::kPanelBlockBytes);
        }
        for (int64_t b = 0; b < n_batch; b += kMaxColumns) {
            const int64_t n = n_batch - b < kMaxColumns ? n_batch - b : kMaxColumns;
            kPanelFns<Format, false>[n](panel, 0, r, nullptr, n_blocks, xq, xq_row_bytes, columns, b, y, y_stride);
        }
    }
    if (r_end < r1) matmul_tile_generic(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

// Token generation on Q4_0 (one to three activation rows): four weight rows per 512-bit
// register, one 128-bit lane each, so nothing is transposed. Lane group r of a block holds
// row r's 16 packed bytes; masking gives elements 0..15 (low nibbles) and shifting
// elements 16..31, each multiplied by the matching half of the activation block broadcast
// to all four lanes. Each row's dot product is then spread over its four 32-bit lanes
// until the end, and so is the offset correction (q4_0_lane_corrections).
struct Q4_0FourRowsVnni {
static constexpr int kRows = 4;
static constexpr int32_t kOffset = 0;   // q4_0_lane_corrections takes care of it
static constexpr bool kLaneCorrections = true;

template <int J>
static void rows(const Matrix& w, int64_t r, const uint8_t* next, const GemvColumns& columns,
                 float* y, int64_t y_stride) {
    const int64_t n_blocks = w.n_cols / kQK;
    const BlockQ4_0* wr[4];
    for (int i = 0; i < 4; ++i) wr[i] = reinterpret_cast<const BlockQ4_0*>(w.row(r + i));
    const NextGroupPrefetch prefetch(next, 4 * sizeof(BlockQ4_0));
    const BlockQ8_0* x[J];
    __m512 acc[J];
    for (int j = 0; j < J; ++j) {
        x[j] = columns.row(j);
        acc[j] = _mm512_setzero_ps();
    }
    const __m512i mask = _mm512_set1_epi8(0x0f);
    // Halves h0..h3 of the four rows' scales -> each repeated over its row's four lanes.
    const __m256i spread = _mm256_setr_epi16(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    for (int64_t k = 0; k < n_blocks; ++k) {
        __m512i packed = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[0][k].qs)));
        packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[1][k].qs)), 1);
        packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[2][k].qs)), 2);
        packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[3][k].qs)), 3);
        prefetch.at(k);
        const __m512i lo = _mm512_and_si512(packed, mask);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), mask);
        __m128i halves = _mm_cvtsi32_si128(wr[0][k].d);
        halves = _mm_insert_epi16(halves, wr[1][k].d, 1);
        halves = _mm_insert_epi16(halves, wr[2][k].d, 2);
        halves = _mm_insert_epi16(halves, wr[3][k].d, 3);
        const __m512 dw = _mm512_cvtph_ps(_mm256_permutexvar_epi16(spread, _mm256_castsi128_si256(halves)));
        for (int j = 0; j < J; ++j) {
            const __m128i* xs = reinterpret_cast<const __m128i*>(x[j][k].qs);
            __m512i sum = _mm512_broadcast_i32x4(columns.lane_corrections[j * n_blocks + k]);
            sum = _mm512_dpbusd_epi32(sum, lo, _mm512_broadcast_i32x4(_mm_loadu_si128(xs)));
            sum = _mm512_dpbusd_epi32(sum, hi, _mm512_broadcast_i32x4(_mm_loadu_si128(xs + 1)));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum),
                                     _mm512_mul_ps(dw, _mm512_set1_ps(columns.blocks[j * n_blocks + k].d)), acc[j]);
        }
    }
    for (int j = 0; j < J; ++j) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc[j]);
        for (int i = 0; i < 4; ++i) {
            y[j * y_stride + r + i] = (lanes[4 * i] + lanes[4 * i + 1]) + (lanes[4 * i + 2] + lanes[4 * i + 3]);
        }
    }
}
};

// Token generation on Q8_0 (one to three activation rows): two weight rows per 512-bit
// register, one 256-bit half each, made unsigned by + 128 as in the panels. Each row's dot
// product is spread over the eight 32-bit lanes of its half; the offset correction
// -128 * sum(x) of a block starts in the first lane of each half. Two rows, not four: on an
// Intel Xeon VM, the group prefetched while this one is read was then about 4 KiB ahead,
// which measured 12% faster than four rows (8.5 KiB ahead); the prefetch now reaches two
// groups ahead (group_after_next), which suits the Zen 5 VMs better.
struct Q8_0TwoRowsVnni {
static constexpr int kRows = 2;
static constexpr int32_t kOffset = 128;
static constexpr bool kLaneCorrections = false;

template <int J>
static void rows(const Matrix& w, int64_t r, const uint8_t* next, const GemvColumns& columns,
                 float* y, int64_t y_stride) {
    const int64_t n_blocks = w.n_cols / kQK;
    const auto* row0 = reinterpret_cast<const BlockQ8_0*>(w.row(r));
    const auto* row1 = reinterpret_cast<const BlockQ8_0*>(w.row(r + 1));
    const NextGroupPrefetch prefetch(next, 2 * sizeof(BlockQ8_0));
    const BlockQ8_0* x[J];
    __m512 acc[J];
    for (int j = 0; j < J; ++j) {
        x[j] = columns.row(j);
        acc[j] = _mm512_setzero_ps();
    }
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    for (int64_t k = 0; k < n_blocks; ++k) {
        prefetch.at(k);
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row0[k].qs));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row1[k].qs));
        const __m512i wq = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1), flip);
        const __m512 dw = _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(row0[k].d)),
                                             _mm256_set1_ps(_cvtsh_ss(row1[k].d)), 1);
        for (int j = 0; j < J; ++j) {
            const __m512i xs = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[j][k].qs)));
            const ColumnBlock& c = columns.blocks[j * n_blocks + k];
            const __m512i sum = _mm512_dpbusd_epi32(_mm512_maskz_set1_epi32(0x0101, c.neg_offset_sum), wq, xs);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, _mm512_set1_ps(c.d)), acc[j]);
        }
    }
    for (int j = 0; j < J; ++j) {
        y[j * y_stride + r] = sum_lanes(_mm512_castps512_ps256(acc[j]));
        y[j * y_stride + r + 1] = sum_lanes(_mm512_extractf32x8_ps(acc[j], 1));
    }
}
};

// The eight 6-bit scales and eight mins of two Q4_K blocks as bytes: [a's scales, b's
// scales] and [a's mins, b's mins]. In 32-bit words u0..u2 of a block's 12 scale bytes,
// scales 0..3 and mins 0..3 are the low 6 bits of u0 and u1; scales 4..7 take their low 4
// bits from u2's low nibbles and their top 2 from the top 2 bits of u0's bytes; mins 4..7
// the high nibbles of u2 and the top bits of u1. Both blocks at once, one per 128-bit lane.
inline void q4_k_scale_min_bytes(const BlockQ4_K& a, const BlockQ4_K& b, __m128i* scales, __m128i* mins) {
    // 16 bytes from `scales` read 4 bytes of qs: still inside the block.
    const __m256i u = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.scales))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)), 1);
    // Per lane: [u0, u2, u1, u2 >> 4] low bits and [-, u0, -, u1] top bits.
    const __m256i low = _mm256_srlv_epi32(_mm256_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)), _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4));
    const __m256i top = _mm256_srli_epi32(_mm256_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)), 2);
    const __m256i low_mask = _mm256_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f,
                                               0x3f3f3f3f, 0x0f0f0f0f);
    const __m256i top_mask = _mm256_setr_epi32(0, 0x30303030, 0, 0x30303030, 0, 0x30303030, 0, 0x30303030);
    // Per lane: [scales 0..3, scales 4..7, mins 0..3, mins 4..7]; then a's and b's side by side.
    const __m256i bytes = _mm256_or_si256(_mm256_and_si256(low, low_mask), _mm256_and_si256(top, top_mask));
    const __m256i ordered = _mm256_permute4x64_epi64(bytes, _MM_SHUFFLE(3, 1, 2, 0));
    *scales = _mm256_castsi256_si128(ordered);
    *mins = _mm256_extracti128_si256(ordered, 1);
}

// The sum of the eight int32 lanes of each 256-bit half of v, in every lane of that half.
inline __m512i sum_halves_epi32(__m512i v) {
    v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_BADC));
    v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
    return _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
}

// Token generation on Q4_K (one to three activation rows): two weight rows per 512-bit
// register, one 256-bit half each; 32 packed bytes hold sub-block 2c (low nibbles) and
// 2c + 1 (high nibbles) of a row, multiplied by the matching activation sub-block broadcast
// to both halves. A sub-block's partial sums (at most 4 * 15 * 127 per lane, so they fit
// 16 bits) take their row's 6-bit scale through VPDPWSSD against (scale, 0) pairs; the
// scaled sums add up exactly in int32 over the super-block, which is then scaled by d * x.d
// in float, and the mins term dmin * x.d * sum_s m_s * sum(x_s) is taken off per lane.
struct Q4_KTwoRowsVnni {
    static constexpr int kRows = 2;

    template <int J>
    static void rows(const Matrix& w, int64_t r, const uint8_t* next, const uint8_t* xq, size_t xq_row_bytes,
                     const ColumnSuperBlock* columns, float* y, int64_t y_stride) {
        const int64_t n_blocks = w.n_cols / kQK_K;
        const auto* row0 = reinterpret_cast<const BlockQ4_K*>(w.row(r));
        const auto* row1 = reinterpret_cast<const BlockQ4_K*>(w.row(r + 1));
        const NextGroupPrefetch prefetch(next, 2 * sizeof(BlockQ4_K));
        const BlockQ8_K* x[J];
        __m512 acc[J];
        for (int j = 0; j < J; ++j) {
            x[j] = reinterpret_cast<const BlockQ8_K*>(xq + size_t(j) * xq_row_bytes);
            acc[j] = _mm512_setzero_ps();
        }
        const __m512i nibble = _mm512_set1_epi8(0x0f);
        // Lane i of half h picks scale s of row h: index s + 8h into the 16 scales.
        const __m512i halves = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8);
        for (int64_t k = 0; k < n_blocks; ++k) {
            prefetch.at(k);
            const BlockQ4_K& a = row0[k];
            const BlockQ4_K& b = row1[k];
            __m128i scale_bytes, min_bytes;
            q4_k_scale_min_bytes(a, b, &scale_bytes, &min_bytes);
            // scales: lanes 0..7 row a's, 8..15 row b's; mins the same.
            const __m512i scales = _mm512_cvtepu8_epi32(scale_bytes);
            const __m512i mins = _mm512_cvtepu8_epi32(min_bytes);
            const __m512 d = _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(a.d)), _mm256_set1_ps(_cvtsh_ss(b.d)), 1);
            const __m512 dmin =
                _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(a.dmin)), _mm256_set1_ps(_cvtsh_ss(b.dmin)), 1);
            __m512i isum[J];
            for (int j = 0; j < J; ++j) isum[j] = _mm512_setzero_si512();
            for (int c = 0; c < 4; ++c) {
                const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + 32 * c));
                const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
                const __m512i packed = _mm512_inserti64x4(_mm512_castsi256_si512(qa), qb, 1);
                const __m512i lo = _mm512_and_si512(packed, nibble);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
                const __m512i scale_lo = _mm512_permutexvar_epi32(_mm512_add_epi32(halves, _mm512_set1_epi32(2 * c)), scales);
                const __m512i scale_hi =
                    _mm512_permutexvar_epi32(_mm512_add_epi32(halves, _mm512_set1_epi32(2 * c + 1)), scales);
                for (int j = 0; j < J; ++j) {
                    const int8_t* xs = x[j][k].qs + 64 * c;
                    const __m512i x_lo = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs)));
                    const __m512i x_hi =
                        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + 32)));
                    const __m512i dot_lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x_lo);
                    const __m512i dot_hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, x_hi);
                    isum[j] = _mm512_dpwssd_epi32(isum[j], dot_lo, scale_lo);
                    isum[j] = _mm512_dpwssd_epi32(isum[j], dot_hi, scale_hi);
                }
            }
            for (int j = 0; j < J; ++j) {
                const ColumnSuperBlock& col = columns[j * n_blocks + k];
                const __m512 xd = _mm512_set1_ps(col.d);
                // Lane i of each half: min_i * sum(x over sub-block i); the half's lanes add up
                // to that row's mins term. Both terms are summed over the lanes in int32 and
                // rounded once per super-block, as in the generic kernel.
                const __m512i sums = _mm512_cvtps_epi32(_mm512_broadcast_f32x8(_mm256_loadu_ps(col.sub_sums)));
                const __m512i msum = sum_halves_epi32(_mm512_mullo_epi32(mins, sums));
                acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_halves_epi32(isum[j])), _mm512_mul_ps(d, xd), acc[j]);
                acc[j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, xd), acc[j]);
            }
        }
        for (int j = 0; j < J; ++j) {
            y[j * y_stride + r] = _mm512_cvtss_f32(acc[j]);
            y[j * y_stride + r + 1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[j], 2));
        }
    }
};

// Token generation on Q6_K (one to three activation rows), laid out like Q4_KTwoRowsVnni:
// two weight rows per 512-bit register, one 256-bit half each. Per 128-element half of a
// super-block, ql bytes 0..31 give groups 0 (low nibbles) and 2 (high), bytes 32..63 groups
// 1 and 3, and the 32 qh bytes bits 4..5 of all four (2 bits per group); the quants go
// through VPDPBUSD as stored, 0..63 (value + 32). A lane then sums 4 elements of one
// 16-element scale group, at most 4 * 63 * 128 in magnitude, so VPDPWSSD against (scale, 0)
// pairs applies the signed 8-bit scales; the offset 32 * sum_g scale_g * sum(x_g) comes from
// the activation block's bsums in the same way. All of it is exact in int32 per super-block,
// lanes included, and is rounded once per super-block, as in the generic kernel.
struct Q6_KTwoRowsVnni {
    static constexpr int kRows = 2;

    template <int J>
    static void rows(const Matrix& w, int64_t r, const uint8_t* next, const uint8_t* xq, size_t xq_row_bytes,
                     const ColumnSuperBlock*, float* y, int64_t y_stride) {
        const int64_t n_blocks = w.n_cols / kQK_K;
        const auto* row0 = reinterpret_cast<const BlockQ6_K*>(w.row(r));
        const auto* row1 = reinterpret_cast<const BlockQ6_K*>(w.row(r + 1));
        const NextGroupPrefetch prefetch(next, 2 * sizeof(BlockQ6_K));
        const BlockQ8_K* x[J];
        __m512 acc[J];
        for (int j = 0; j < J; ++j) {
            x[j] = reinterpret_cast<const BlockQ8_K*>(xq + size_t(j) * xq_row_bytes);
            acc[j] = _mm512_setzero_ps();
        }
        const __m512i nibble = _mm512_set1_epi8(0x0f);
        const __m512i two_bits = _mm512_set1_epi8(0x03);
        const __m512i low16 = _mm512_set1_epi32(0xffff);
        // Scale group g of the lanes: lanes 0..3 of a half take group g, lanes 4..7 group
        // g + 1; the lower half reads row a's table, the upper half (index + 16) row b's.
        const __m512i group_lanes = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 16, 16, 16, 16, 17, 17, 17, 17);
        for (int64_t k = 0; k < n_blocks; ++k) {
            prefetch.at(k);
            const BlockQ6_K& a = row0[k];
            const BlockQ6_K& b = row1[k];
            // The 16 scales of each row as (scale, 0) int16 pairs.
            const __m512i scales_a = _mm512_and_si512(
                _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.scales))), low16);
            const __m512i scales_b = _mm512_and_si512(
                _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales))), low16);
            // Both rows' scales as int16, row a in the lower 256 bits.
            const __m512i scales16 = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.scales))),
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)), 1));
            const __m512 d = _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(a.d)), _mm256_set1_ps(_cvtsh_ss(b.d)), 1);
            __m512i isum[J];
            for (int j = 0; j < J; ++j) {
                // -32 * (scale_g * bsum_g + scale_g+1 * bsum_g+1) per lane; each half's lanes
                // add up to its row's whole offset term.
                const __m512i bsums = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[j][k].bsums)));
                isum[j] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_madd_epi16(scales16, bsums), 5));
            }
            for (int h = 0; h < 2; ++h) {
                const __m512i ql0 = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.ql + 64 * h))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h)), 1);
                const __m512i ql1 = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.ql + 64 * h + 32))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32)), 1);
                const __m512i qh = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qh + 32 * h))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)), 1);
                const __m512i q[4] = {
                    _mm512_or_si512(_mm512_and_si512(ql0, nibble),
                                    _mm512_slli_epi16(_mm512_and_si512(qh, two_bits), 4)),
                    _mm512_or_si512(_mm512_and_si512(ql1, nibble),
                                    _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 2), two_bits), 4)),
                    _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), nibble),
                                    _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 4), two_bits), 4)),
                    _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), nibble),
                                    _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 6), two_bits), 4)),
                };
                for (int g = 0; g < 4; ++g) {
                    const int group = 8 * h + 2 * g;
                    const __m512i scale = _mm512_permutex2var_epi32(
                        scales_a, _mm512_add_epi32(group_lanes, _mm512_set1_epi32(group)), scales_b);
                    for (int j = 0; j < J; ++j) {
                        const __m512i xs = _mm512_broadcast_i64x4(
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[j][k].qs + 128 * h + 32 * g)));
                        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[g], xs);
                        isum[j] = _mm512_dpwssd_epi32(isum[j], dot, scale);
                    }
                }
            }
            for (int j = 0; j < J; ++j) {
                // Each row's super-block total, summed over its eight lanes in int32 (into every
                // lane of its half) before the one rounding: float lanes would cancel digits.
                const __m512i total = sum_halves_epi32(isum[j]);
                acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(x[j][k].d)), acc[j]);
            }
        }
        for (int j = 0; j < J; ++j) {
            y[j * y_stride + r] = _mm512_cvtss_f32(acc[j]);
            y[j * y_stride + r + 1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[j], 2));
        }
    }
};

// Rows [r0, r1) of a K-quant matrix times one to three Q8_K activation rows, Kernel::kRows
// rows at a time; `columns` (the activation rows' sub-block sums) may be null when the
// kernel does not read them.
template <typename Kernel>
void gemv_super(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
                const ColumnSuperBlock* columns, float* y, int64_t y_stride) {
    const int64_t r_end = r0 + (r1 - r0) / Kernel::kRows * Kernel::kRows;
    for (int64_t r = r0; r < r_end; r += Kernel::kRows) {
        const uint8_t* next = group_after_next(w, r, Kernel::kRows, r1);
        switch (n_batch) {
            case 1: Kernel::template rows<1>(w, r, next, xq, xq_row_bytes, columns, y, y_stride); break;
            case 2: Kernel::template rows<2>(w, r, next, xq, xq_row_bytes, columns, y, y_stride); break;
            default: Kernel::template rows<3>(w, r, next, xq, xq_row_bytes, columns, y, y_stride); break;
        }
    }
    if (r_end < r1) matmul_tile_generic(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

void gemv_q4_k(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
               float* y, int64_t y_stride) {
    const int64_t n_blocks = w.n_cols / kQK_K;
    auto* columns = reinterpret_cast<ColumnSuperBlock*>(matmul_scratch(size_t(n_batch * n_blocks) * sizeof(ColumnSuperBlock)));
    describe_super_columns(xq, xq_row_bytes, n_batch, n_blocks, columns);
    gemv_super<Q4_KTwoRowsVnni>(w, r0, r1, xq, xq_row_bytes, n_batch, columns, y, y_stride);
}

void tile(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes,
          int64_t n_batch, float* y, int64_t y_stride) {
    if (w.type == TensorType::kQ4_0 && n_batch <= kGemvColumnsMax) {
        return gemv<Q4_0FourRowsVnni>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ8_0 && n_batch <= kGemvColumnsMax) {
        return gemv<Q8_0TwoRowsVnni>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ4_0) {
        return gemm<LegacyFormat<BlockQ4_0, 8>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ8_0) {
        return gemm<LegacyFormat<BlockQ8_0, 128>>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ4_K) {
        if (n_batch <= kGemvColumnsMax) return gemv_q4_k(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
        return gemm<Q4_KFormat>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ6_K) {
        if (n_batch <= kGemvColumnsMax) {
            return gemv_super<Q6_KTwoRowsVnni>(w, r0, r1, xq, xq_row_bytes, n_batch, nullptr, y, y_stride);
        }
        return gemm<Q6_KFormat>(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    // The lattice low-bit formats, for batches (a single row: their vec_dot is as good).
    if (n_batch >= 2) {
        if (const MatmulTileFn lowbit = matmul_tile_lowbit_avx512vnni(w.type)) {
            return lowbit(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
        }
    }
    matmul_tile_generic(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

}  // namespace

MatmulTileFn matmul_tile_avx512vnni() { return tile; }

}  // namespace mmojo
