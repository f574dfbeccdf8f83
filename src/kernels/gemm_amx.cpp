// Matrix products for prompt processing with Intel AMX-INT8: Q4_0 and Q8_0 weights against
// Q8_0 activations, Q4_K and Q6_K against Q8_K (installed by ops/matmul.cpp at level amx).
// Other types, small batches (token generation, where the VNNI gemv kernels win) and the
// last rows of a range that fill no panel go to the avx512vnni tile.
//
// The instructions (Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 1
// ch. 20, "Intel AMX"; vol. 2 TILECFG/LDTILECFG, TILELOADD, TDPBSSD, TILESTORED):
//   a tile is up to 16 rows of up to 64 bytes; LDTILECFG gives each tile its rows and
//   bytes per row. TDPBSSD C, A, B with A of M rows x K bytes and B of K/4 rows x 4N bytes
//   adds to the int32 C[m][n] the signed-byte products
//       sum over g < K/4, i < 4 of A[m][4g + i] * B[g][4n + i].
// So B row g holds "bytes 4g..4g+3 of each of N columns", which is the panel layout of
// gemm_avx512vnni.cpp: per 32-element block of 16 weight rows, q[8][16][4] with q[g][r] =
// elements 4g..4g+3 of row r. Here the quants stay signed (TDPBSSD multiplies signed by
// signed), so no offset correction is needed.
//
// Everything works on units of K elements with their own scales (K = 32: a Q4_0/Q8_0 block,
// a Q4_K sub-block; K = 16: a Q6_K scale group). Per unit u, one TDPBSSD with M = 16
// activation rows (A: their K quants of unit u, copied once per call into contiguous
// memory), K, and N = 16 weight rows (B: the panel's unit) gives the 16 x 16 exact integer
// dot products of that unit. They leave the tile after every unit (TILESTORED to a 1 KiB
// buffer) and are scaled and summed by AVX-512: a Q4_0 / Q8_0 block in float,
//       acc[m][n] += float(C[m][n]) * d_w[n] * d_x[m],
// and a K-quant super-block exactly in int32 with the integer sub-block scales sc, then
// rounded once, as the generic kernel does (scaling each unit in float lost about 10x the
// precision and moved Q8_K roundings downstream):
//       acc[m][n] += float(sum_u sc_u[n] C_u[m][n]) * d_w[n] * d_x[m]
//                    (- float(sum_u m_u[n] sum(x_m,u)) * dmin_w[n] * d_x[m])
// where the bracket is Q4_K's sub-block mins against the activation sub-blocks' sums.
//
// The tile configuration belongs to the thread: each call loads its own and releases the
// tiles (TILERELEASE) before it returns. The OS permission for tile data is asked for once
// by the CPU detection (kernels/dispatch.cpp), which reports level amx only when granted.
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

constexpr int kPanelRows = 16;   // weight rows per panel: N of a tile product
constexpr int kGroupRows = 16;   // activation rows per tile product: M
// Fewer activation rows than this go to the avx512vnni tile: up to 8 rows its streaming
// kernels read each weight once without writing a panel, and a tile product is half empty
// (Q4_0 prompts of 8 tokens: 71 t/s there, 61 here; 9 tokens: even; 12: 80 vs 90).
constexpr int64_t kMinBatch = 9;
// Units per pass of all activation groups over a panel: 32 units of panel (10-20 KiB) stay
// in L1 while every group passes; the accumulators go through y between passes.
constexpr int64_t kChunkUnits = 32;

// The palette-1 tile configuration (the 64-byte LDTILECFG operand).
struct alignas(64) TileConfig {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];   // bytes per row of each tile
    uint8_t rows[16];     // rows of each tile
};

// For units of kK elements: C tiles 0, 1: 16 activation rows x 16 int32; A tiles 2, 3: 16
// activation rows x kK quants; B tiles 4, 5: kK / 4 rows of 4 quants x 16 weight rows. A
// constant in memory, not a local: GCC 12's _tile_loadconfig tells the compiler it reads
// only the first 8 bytes, so it may drop the stores of a local's other fields.
template <int kK>
constexpr TileConfig kTileConfig = {
    1, 0, {},
    {kPanelRows * 4, kPanelRows * 4, kK, kK, kPanelRows * 4, kPanelRows * 4},
    {kGroupRows, kGroupRows, kGroupRows, kGroupRows, kK / 4, kK / 4},
};

// Stores the signed quants of 32 elements of 8 weight rows (rows[i] = row half * 8 + i,
// element order) as their half of q[g][16][4]: groups g = 0..3 at q_lo, 4..7 at q_hi
// (q_lo + 256 for a 32-element unit; the next unit's quants for 16-element ones).
inline void store_transposed(const __m256i rows[8], int half, uint8_t* q_lo, uint8_t* q_hi) {
    __m256i cols[8];   // cols[g] = elements 4g..4g+3 of each of the 8 rows
    transpose8x8(rows, cols);
    for (int g = 0; g < 8; ++g) {
        uint8_t* q = g < 4 ? q_lo + g * 64 : q_hi + (g - 4) * 64;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + half * 32), cols[g]);
    }
}

inline float activation_scale(const BlockQ8_0& x) { return _cvtsh_ss(x.d); }
inline float activation_scale(const BlockQ8_K& x) { return x.d; }

// A weight format of the panels. Each provides:
//   Block, Activation     its weight block and the activation block it meets
//   kUnitK, kUnits        elements per unit (32 or 16) and units per block
//   kMins                 whether units have mins; then activation_sum(x, s) = the sum
//                         of activation unit s's quants
//   kExact                integer unit scales, summed exactly over a block of kUnits
//   pack(w, row_bytes, r0, k, out)   block k of rows [r0, r0 + 16) -> kUnits panel units
// A panel unit is a header of kFloats bytes, then the signed quants q[kUnitK / 4][16][4]:
// kUnitBytes, a multiple of 64. The header is float d[16] (each row's scale) for the
// legacy formats; int32 sc[16] and float d[16] for Q6_K; int32 sc[16], int32 m[16],
// float d[16], float dmin[16] for Q4_K (d and dmin repeated in each unit of a block).
template <bool kHasMins, int kK, bool kIntScales>
struct UnitLayout {
    static constexpr bool kMins = kHasMins;
    static constexpr bool kExact = kIntScales;
    static constexpr int kUnitK = kK;
    static constexpr size_t kFloats = (kIntScales ? (kMins ? 4 : 2) : 1) * kPanelRows * sizeof(float);
    static constexpr size_t kUnitBytes = kFloats + size_t(kK) * kPanelRows;
};

// Q4_0 and Q8_0: one unit per block, scale = the block's d, quants - 8 (Q4_0) or as stored.
template <typename WeightBlock>
struct LegacyFormat : UnitLayout<false, kQK, false> {
    using Block = WeightBlock;
    using Activation = BlockQ8_0;
    static constexpr int kUnits = 1;

    static __m256i quants(const BlockQ4_0& b) {
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
        const __m128i mask = _mm_set1_epi8(0x0f);
        const __m128i lo = _mm_and_si128(packed, mask);
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
        return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
    }
    static __m256i quants(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        float* scale = reinterpret_cast<float*>(out);
        for (int half = 0; half < 2; ++half) {
            __m256i rows[8];
            for (int i = 0; i < 8; ++i) {
                const int r = half * 8 + i;
                const Block& b = reinterpret_cast<const Block*>(w + size_t(r0 + r) * row_bytes)[k];
                scale[r] = _cvtsh_ss(b.d);
                rows[i] = quants(b);
            }
            store_transposed(rows, half, out + kFloats, out + kFloats + 256);
        }
    }
};

// Q4_K: eight 32-element units (sub-blocks) per super-block, laid out by
// pack_q4_k_16_rows, and the quants 0..15 as stored (TDPBSSD reads them as small positive
// bytes).
struct Q4_KFormat : UnitLayout<true, 32, true> {
    using Block = BlockQ4_K;
    using Activation = BlockQ8_K;
    static constexpr int kUnits = 8;
    static_assert(kFloats == kQ4_KQuantsOffset);

    static int32_t activation_sum(const BlockQ8_K& x, int s) { return int32_t(x.bsums[2 * s]) + x.bsums[2 * s + 1]; }

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        pack_q4_k_16_rows(w, row_bytes, r0, k, kUnitBytes, out, [](const __m256i rows[8], int half, uint8_t* q) {
            store_transposed(rows, half, q, q + 256);
        });
    }
};

// Q6_K: sixteen 16-element units per super-block, one per scale sc, and the quants minus 32
// (-32..31).
struct Q6_KFormat : UnitLayout<false, 16, true> {
    using Block = BlockQ6_K;
    using Activation = BlockQ8_K;
    static constexpr int kUnits = 16;

    static void pack(const uint8_t* w, size_t row_bytes, int64_t r0, int64_t k, uint8_t* out) {
        for (int half = 0; half < 2; ++half) {
            const BlockQ6_K* b[8];
            for (int i = 0; i < 8; ++i) {
                const int r = half * 8 + i;
                b[i] = &reinterpret_cast<const BlockQ6_K*>(w + size_t(r0 + r) * row_bytes)[k];
                const float d = _cvtsh_ss(b[i]->d);
                for (int u = 0; u < 16; ++u) {
                    const int32_t sc = b[i]->scales[u];
                    std::memcpy(out + u * kUnitBytes + size_t(r) * 4, &sc, 4);
                    std::memcpy(out + u * kUnitBytes + size_t(kPanelRows + r) * 4, &d, 4);
                }
            }
            for (int s = 0; s < 8; ++s) {   // 32 elements: units 2s and 2s + 1
                __m256i rows[8];
                for (int i = 0; i < 8; ++i) rows[i] = _mm256_sub_epi8(q6_k_sub_block_quants(*b[i], s), _mm256_set1_epi8(32));
                uint8_t* u = out + (2 * s) * kUnitBytes + kFloats;
                store_transposed(rows, half, u, u + kUnitBytes);
            }
        }
    }
};

// Asks for a contiguous range (the next panel's weight rows) into L2 a few lines at a time,
// spread over the `steps` units the current panel computes, so that its packing finds them
// there. (Asking for all at once stalls on the line fill buffers.)
class SpreadPrefetch {
public:
    SpreadPrefetch(const uint8_t* begin, size_t bytes, int64_t steps)
        : begin_(begin), lines_(begin ? (bytes + 63) / 64 : 0),
          per_step_((lines_ + size_t(steps) - 1) / size_t(steps)) {}

    void step() {
        const size_t end = next_ + per_step_ < lines_ ? next_ + per_step_ : lines_;
        for (; next_ < end; ++next_) _mm_prefetch(reinterpret_cast<const char*>(begin_ + next_ * 64), _MM_HINT_T1);
    }

private:
    const uint8_t* begin_;
    size_t lines_, per_step_;
    size_t next_ = 0;
};

// Units [u0, u1) of one panel (`panel`: its units) times one group of 16 activation rows
// (`aq`: their quants per unit as 16 x kUnitK bytes; `ad`: d_x per unit and row; `am`, when
// kMins: the int32 sum(x) per unit and row), added to the group's 16 x 16 outputs at y (row
// m at y + m * y_stride; the first `rows` exist, and hold earlier units' sums unless
// `first_pass`). For kExact formats [u0, u1) is whole blocks of kUnits units.
template <typename Format>
void group_times_panel(const uint8_t* panel, const int8_t* aq, const float* ad, const int32_t* am, int64_t u0,
                       int64_t u1, bool first_pass, int rows, float* y, int64_t y_stride, SpreadPrefetch& prefetch) {
    // A software pipeline over the units: iteration u starts unit u's product, stores unit
    // u - 1's (finished meanwhile: the tile unit is not kept waiting on a result) and
    // converts unit u - 3's, whose store has long reached the cache. Even units use tiles
    // 0 (C), 2 (A), 4 (B), odd ones 1, 3, 5; C tiles go to four buffers in turn.
    constexpr int64_t kStoreLag = 1, kConvertLag = 3;
    alignas(64) int32_t c[4][kGroupRows * kPanelRows];
    auto unit = [&](int64_t u) { return panel + size_t(u) * Format::kUnitBytes; };
    constexpr int kK = Format::kUnitK;
    auto compute = [&](int64_t u) {
        const int8_t* a = aq + size_t(u) * kGroupRows * kK;
        const uint8_t* b = unit(u) + Format::kFloats;
        if (u & 1) {
            _tile_zero(1);
            _tile_loadd(3, a, kK);
            _tile_loadd(5, b, kPanelRows * 4);
            _tile_dpbssd(1, 3, 5);
        } else {
            _tile_zero(0);
            _tile_loadd(2, a, kK);
            _tile_loadd(4, b, kPanelRows * 4);
            _tile_dpbssd(0, 2, 4);
        }
    };
    auto store = [&](int64_t u) {
        if (u & 1) {
            _tile_stored(1, c[u & 3], kPanelRows * 4);
        } else {
            _tile_stored(0, c[u & 3], kPanelRows * 4);
        }
    };
    __m512 acc[kGroupRows];
    __m512i isum[kGroupRows];   // kExact: the current block's exact sums
#pragma GCC unroll 16
    for (int m = 0; m < kGroupRows; ++m) {
        isum[m] = _mm512_setzero_si512();
        acc[m] = !first_pass && m < rows ? _mm512_loadu_ps(y + m * y_stride) : _mm512_setzero_ps();
    }
    for (int64_t u = u0; u < u1 + kConvertLag; ++u) {
        if (u < u1) {
            compute(u);
            prefetch.step();
        }
        if (u - kStoreLag >= u0 && u - kStoreLag < u1) store(u - kStoreLag);
        const int64_t done = u - kConvertLag;
        if (done < u0) continue;
        const uint8_t* header = unit(done);
        const int32_t* cd = c[done & 3];
        const float* dx = ad + done * kGroupRows;
        if constexpr (Format::kExact) {
            const __m512i sc = _mm512_load_si512(header);
#pragma GCC unroll 16
            for (int m = 0; m < kGroupRows; ++m) {
                isum[m] = _mm512_add_epi32(isum[m], _mm512_mullo_epi32(_mm512_load_si512(cd + m * kPanelRows), sc));
            }
            if ((done + 1) % Format::kUnits != 0) continue;
            // The block is complete: round its exact sums once.
            const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(header + (Format::kMins ? 2 : 1) * 64));
#pragma GCC unroll 16
            for (int m = 0; m < kGroupRows; ++m) {
                acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[m]), _mm512_mul_ps(dw, _mm512_set1_ps(dx[m])), acc[m]);
                isum[m] = _mm512_setzero_si512();
            }
            if constexpr (Format::kMins) {
                const __m512 dmin = _mm512_load_ps(reinterpret_cast<const float*>(header + 3 * 64));
                const int64_t first_unit = done + 1 - Format::kUnits;
                for (int m = 0; m < kGroupRows; ++m) {
                    __m512i msum = _mm512_setzero_si512();
                    for (int s = 0; s < Format::kUnits; ++s) {
                        const __m512i mn = _mm512_load_si512(unit(first_unit + s) + 64);
                        msum = _mm512_add_epi32(
                            msum, _mm512_mullo_epi32(mn, _mm512_set1_epi32(am[(first_unit + s) * kGroupRows + m])));
                    }
                    acc[m] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, _mm512_set1_ps(dx[m])),
                                              acc[m]);
                }
            }
        } else {
            const __m512 scale = _mm512_load_ps(reinterpret_cast<const float*>(header));
#pragma GCC unroll 16
            for (int m = 0; m < kGroupRows; ++m) {
                const __m512 prod = _mm512_cvtepi32_ps(_mm512_load_si512(cd + m * kPanelRows));
                acc[m] = _mm512_fmadd_ps(prod, _mm512_mul_ps(scale, _mm512_set1_ps(dx[m])), acc[m]);
            }
        }
    }
#pragma GCC unroll 16
    for (int m = 0; m < kGroupRows; ++m) {
        if (m < rows) _mm512_storeu_ps(y + m * y_stride, acc[m]);
    }
}

// Rows [r0, r_end) (whole panels) of w times all n_batch activation rows.
template <typename Format>
void gemm(const Matrix& w, int64_t r0, int64_t r_end, const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
          float* y, int64_t y_stride) {
    using Activation = typename Format::Activation;
    constexpr int kUnits = Format::kUnits;
    constexpr int kK = Format::kUnitK;
    const int64_t n_blocks = w.n_cols / (kK * kUnits);
    const int64_t n_units = n_blocks * kUnits;
    const int64_t n_groups = (n_batch + kGroupRows - 1) / kGroupRows;
    const int64_t n_chunks = (n_units + kChunkUnits - 1) / kChunkUnits;
    const size_t panel_bytes = size_t(n_units) * Format::kUnitBytes;
    const size_t floats_bytes = size_t(n_groups * n_units * kGroupRows) * sizeof(float);
    const size_t aq_bytes = size_t(n_groups * n_units) * kGroupRows * kK;
    uint8_t* scratch = matmul_scratch(panel_bytes + aq_bytes + 2 * floats_bytes);
    uint8_t* panel = scratch;
    auto* aq = reinterpret_cast<int8_t*>(scratch + panel_bytes);                        // [group][u][16][kK]
    auto* ad = reinterpret_cast<float*>(scratch + panel_bytes + aq_bytes);              // [group][u][16]
    auto* am = reinterpret_cast<int32_t*>(scratch + panel_bytes + aq_bytes + floats_bytes);   // [group][u][16]

    // The activations as A tiles, each contiguous (fewer cache lines per tile load than the
    // rows in place), with their scales. The missing rows of a partial last group are zero.
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int m = 0; m < kGroupRows; ++m) {
            const int64_t b = g * kGroupRows + m;
            const auto* x = reinterpret_cast<const Activation*>(xq + size_t(b < n_batch ? b : 0) * xq_row_bytes);
            for (int64_t u = 0; u < n_units; ++u) {
                const size_t i = size_t(g * n_units + u) * kGroupRows + size_t(m);
                const Activation& xb = x[u / kUnits];
                const int s = int(u % kUnits);
                if (b >= n_batch) {
                    std::memset(aq + i * kK, 0, kK);
                    ad[i] = 0.0f;
                    am[i] = 0;
                    continue;
                }
                std::memcpy(aq + i * kK, xb.qs + kK * s, kK);
                ad[i] = activation_scale(xb);
                if constexpr (Format::kMins) am[i] = Format::activation_sum(xb, s);
            }
        }
    }

    _tile_loadconfig(&kTileConfig<kK>);
    for (int64_t r = r0; r < r_end; r += kPanelRows) {
        const uint8_t* next = next_group(w, r, kPanelRows, r_end);
        SpreadPrefetch prefetch(next, kPanelRows * w.row_bytes, n_groups * n_units);
        for (int64_t k = 0; k < n_blocks; ++k) {
            Format::pack(w.data, w.row_bytes, r, k, panel + size_t(k * kUnits) * Format::kUnitBytes);
        }
        for (int64_t c = 0; c < n_chunks; ++c) {
            const int64_t u0 = c * kChunkUnits;
            const int64_t u1 = u0 + kChunkUnits < n_units ? u0 + kChunkUnits : n_units;
            for (int64_t g = 0; g < n_groups; ++g) {
                const int64_t first = g * kGroupRows;
                const int rows = int(n_batch - first < kGroupRows ? n_batch - first : kGroupRows);
                const size_t at = size_t(g * n_units);
                group_times_panel<Format>(panel, aq + at * kGroupRows * kK, ad + at * kGroupRows, am + at * kGroupRows, u0,
                                          u1, c == 0, rows, y + first * y_stride + r, y_stride, prefetch);
            }
        }
    }
    _tile_release();
}

void tile(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq, size_t xq_row_bytes, int64_t n_batch,
          float* y, int64_t y_stride) {
    const MatmulTileFn vnni = matmul_tile_avx512vnni();
    const bool ours = w.type == TensorType::kQ4_0 || w.type == TensorType::kQ8_0 || w.type == TensorType::kQ4_K ||
                      w.type == TensorType::kQ6_K;
    const int64_t r_end = r0 + (r1 - r0) / kPanelRows * kPanelRows;
    if (!ours || n_batch < kMinBatch || r_end == r0) {
        return vnni(w, r0, r1, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (w.type == TensorType::kQ4_0) {
        gemm<LegacyFormat<BlockQ4_0>>(w, r0, r_end, xq, xq_row_bytes, n_batch, y, y_stride);
    } else if (w.type == TensorType::kQ8_0) {
        gemm<LegacyFormat<BlockQ8_0>>(w, r0, r_end, xq, xq_row_bytes, n_batch, y, y_stride);
    } else if (w.type == TensorType::kQ4_K) {
        gemm<Q4_KFormat>(w, r0, r_end, xq, xq_row_bytes, n_batch, y, y_stride);
    } else {
        gemm<Q6_KFormat>(w, r0, r_end, xq, xq_row_bytes, n_batch, y, y_stride);
    }
    if (r_end < r1) vnni(w, r_end, r1, xq, xq_row_bytes, n_batch, y, y_stride);
}

}  // namespace

MatmulTileFn matmul_tile_amx() { return tile; }

}  // namespace mmojo
