// AVX-512 (F/BW/VL/DQ) + AVX512-VNNI dot products of every type with an AVX2 kernel
// (installed by kernels/dispatch.cpp at level avx512vnni). Each kernel computes what the
// generic kernel of the same name in quant_*.cpp computes; tests/unit/simd_kernels_test.cpp
// compares the two.
//
// VPDPBUSD multiplies 4 unsigned bytes by 4 signed bytes and adds the four products to an
// s32 lane without intermediate saturation. Every kernel here makes the weights unsigned
// (q + bias, the bias taken off through dot(bias, y) or Q8_K's bsums), so no sign has to be
// moved and the integer sums are exact for any int8 activations, -128 included.
//
// Legacy 32-element blocks: two blocks fill a 512-bit register; their 8-lane sums are scaled
// by their own d_x * d_y in float. K-quants: 64 elements of a super-block per step; the s32
// lane sums (4 products each) are weighted by their sub-block scales with VPDPWSSD (VPMULLD
// for IQ4_XS) and stay exact in s32 until the super-block's float scales. Float types: 16
// lanes per FMA, the tail as one masked step. Results differ from the generic kernels by
// the order of float additions only.
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/mxfp4.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }

// The 32 bytes at p in both halves.
inline __m512i broadcast256(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 16 s32 lanes: lane k sums x*y over bytes 4k..4k+3, x unsigned, y signed.
inline __m512i dot_u8(__m512i x, __m512i y) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), x, y);
}

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline __m256 fold(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

inline uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

// ---- legacy 32-element blocks --------------------------------------------------------
//
// A step takes two blocks in one register. Their weights are made unsigned, u = q + bias
// (bias 8 for Q4_0, 16 for Q5_0, 128 for Q8_0 and the IQ4_NL levels, 0 for Q4_1/Q5_1), and
// dot(q, y) = dot(u, y) - dot(bias, y): two VPDPBUSDs and a subtraction, cheaper than moving
// signs and exact for any y. The f16 scales of four blocks are converted together.

// The f16 fields at p, p + stride, p + 2 stride, p + 3 stride, as 4 floats.
inline __m128 four_halves(const uint8_t* p, size_t stride) {
    uint64_t v = 0;
    for (int k = 0; k < 4; ++k) {
        v |= static_cast<uint64_t>(p[k * stride] | (p[k * stride + 1] << 8)) << (16 * k);
    }
    return _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(v)));
}

// The 64 nibbles of two Q4 blocks (16 bytes each), each block in element order: low
// nibbles are elements 0..15, high nibbles 16..31. 128-bit lanes 0, 0, 1, 1 of the pair,
// then lanes 1 and 3 (words 8..15, 24..31) shifted to their high nibbles.
inline __m512i nibbles64(const uint8_t* qa, const uint8_t* qb) {
    const __m512i pair = _mm512_castsi256_si512(_mm256_inserti128_si256(_mm256_castsi128_si256(load128(qa)), load128(qb), 1));
    const __m512i v = _mm512_shuffle_i64x2(pair, pair, 0x50);
    return _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xff00ff00u, v, 4), _mm512_set1_epi8(0x0f));
}

// Q5 quants 0..31 of two blocks: bit j of the little-endian qh is bit 4 of element j, so
// the two qh words side by side are the byte mask of the elements that get 16.
inline __m512i q5_values(const uint8_t* qs_a, const uint8_t* qh_a, const uint8_t* qs_b, const uint8_t* qh_b) {
    const __mmask64 high = _cvtu64_mask64(load_u32(qh_a) | (static_cast<uint64_t>(load_u32(qh_b)) << 32));
    const __m512i low = nibbles64(qs_a, qs_b);
    return _mm512_mask_add_epi8(low, high, low, _mm512_set1_epi8(16));
}

// Sum over blocks of d_x d_y dot(u_b - kBias, y_b) (+ m_x s_y with kOffset, Q8_1
// activations); values(a, b) gives the unsigned weights of blocks a (bytes 0..31) and b.
// An odd block is a step with itself as b against zero activations.
template <typename BlockX, typename BlockY, int kBias, bool kOffset, typename Values>
inline float dot_blocks(int64_t n, const void* vx, const void* vy, Values values) {
    const auto* x = static_cast<const BlockX*>(vx);
    const auto* y = static_cast<const BlockY*>(vy);
    const int64_t nb = n / kQK;
    const auto dot = [](__m512i u, __m512i yq) {
        const __m512i p = dot_u8(u, yq);
        if constexpr (kBias == 0) return p;
        else return _mm512_sub_epi32(p, dot_u8(_mm512_set1_epi8(static_cast<char>(kBias)), yq));
    };
    const auto x_bytes = [&](int64_t b) { return reinterpret_cast<const uint8_t*>(x + b); };
    const auto y_bytes = [&](int64_t b) { return reinterpret_cast<const uint8_t*>(y + b); };
    const __m512i first = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i second = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m128 offsets = _mm_setzero_ps();
    int64_t b = 0;
    for (; b + 3 < nb; b += 4) {
        const __m128 d = _mm_mul_ps(four_halves(x_bytes(b) + offsetof(BlockX, d), sizeof(BlockX)),
                                    four_halves(y_bytes(b) + offsetof(BlockY, d), sizeof(BlockY)));
        const __m512 d4 = _mm512_castps128_ps512(d);
        const __m512i p0 = dot(values(x[b], x[b + 1]), join(load256(y[b].qs), load256(y[b + 1].qs)));
        const __m512i p1 = dot(values(x[b + 2], x[b + 3]), join(load256(y[b + 2].qs), load256(y[b + 3].qs)));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_permutexvar_ps(first, d4), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), _mm512_permutexvar_ps(second, d4), acc1);
        if constexpr (kOffset) {
            offsets = _mm_fmadd_ps(four_halves(x_bytes(b) + offsetof(BlockX, m), sizeof(BlockX)),
                                   four_halves(y_bytes(b) + offsetof(BlockY, s), sizeof(BlockY)), offsets);
        }
    }
    float tail_offsets = 0.0f;
    for (; b < nb; ++b) {
        const __m512i p = dot(values(x[b], x[b]), join(load256(y[b].qs), _mm256_setzero_si256()));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_set1_ps(half(x[b].d) * half(y[b].d)), acc0);
        if constexpr (kOffset) tail_offsets += half(x[b].m) * half(y[b].s);
    }
    const __m128 o = _mm_add_ps(offsets, _mm_movehl_ps(offsets, offsets));
    return hsum_ps(fold(_mm512_add_ps(acc0, acc1))) + (_mm_cvtss_f32(_mm_add_ss(o, _mm_movehdup_ps(o))) + tail_offsets);
}

float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    return dot_blocks<BlockQ4_0, BlockQ8_0, 8, false>(
        n, vx, vy, [](const BlockQ4_0& a, const BlockQ4_0& b) { return nibbles64(a.qs, b.qs); });
}

float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    return dot_blocks<BlockQ8_0, BlockQ8_0, 128, false>(n, vx, vy, [](const BlockQ8_0& a, const BlockQ8_0& b) {
        return _mm512_xor_si512(join(load256(a.qs), load256(b.qs)), _mm512_set1_epi8(-128));
    });
}

// Q4_1 . Q8_1 = sum_b d_x d_y sum_j q_x q_y + m_x s_y, with q_x in 0..15 unsigned.
float dot_q4_1_q8_1(int64_t n, const void* vx, const void* vy) {
    return dot_blocks<BlockQ4_1, BlockQ8_1, 0, true>(
        n, vx, vy, [](const BlockQ4_1& a, const BlockQ4_1& b) { return nibbles64(a.qs, b.qs); });
}

float dot_q5_0_q8_0(int64_t n, const void* vx, const void* vy) {
    return dot_blocks<BlockQ5_0, BlockQ8_0, 16, false>(n, vx, vy, [](const BlockQ5_0& a, const BlockQ5_0& b) {
        return q5_values(a.qs, a.qh, b.qs, b.qh);
    });
}

float dot_q5_1_q8_1(int64_t n, const void* vx, const void* vy) {
    return dot_blocks<BlockQ5_1, BlockQ8_1, 0, true>(n, vx, vy, [](const BlockQ5_1& a, const BlockQ5_1& b) {
        return q5_values(a.qs, a.qh, b.qs, b.qh);
    });
}

// IQ4_NL: the nibble indexes a 16-entry table of the levels + 128 (one VPSHUFB).
float dot_iq4_nl_q8_0(int64_t n, const void* vx, const void* vy) {
    const __m512i levels = _mm512_broadcast_i32x4(_mm_xor_si128(load128(kIQ4NLValues), _mm_set1_epi8(-128)));
    return dot_blocks<BlockIQ4_NL, BlockQ8_0, 128, false>(
        n, vx, vy, [levels](const BlockIQ4_NL& a, const BlockIQ4_NL& b) {
            return _mm512_shuffle_epi8(levels, nibbles64(a.qs, b.qs));
        });
}

// MXFP4: the doubled E2M1 levels + 128 looked up by nibble (one VPSHUFB), two blocks per
// step as dot_blocks, but the scale is 2^(e - 128) (one byte), not an f16 field.
float dot_mxfp4_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockMXFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    const __m512i levels = _mm512_broadcast_i32x4(_mm_xor_si128(load128(kMxfp4Levels), _mm_set1_epi8(-128)));
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(128));
    __m512 acc = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m512i u = _mm512_shuffle_epi8(levels, nibbles64(x[b].qs, x[b + 1].qs));
        const __m512i yq = join(load256(y[b].qs), load256(y[b + 1].qs));
        const __m512i p = _mm512_sub_epi32(dot_u8(u, yq), dot_u8(bias, yq));
        const __m512 d = _mm512_insertf32x8(_mm512_set1_ps(mxfp4_half_scale(x[b].e) * half(y[b].d)),
                                            _mm256_set1_ps(mxfp4_half_scale(x[b + 1].e) * half(y[b + 1].d)), 1);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), d, acc);
    }
    for (; b < nb; ++b) {
        const __m512i u = _mm512_shuffle_epi8(levels, nibbles64(x[b].qs, x[b].qs));
        const __m512i yq = join(load256(y[b].qs), _mm256_setzero_si256());
        const __m512i p = _mm512_sub_epi32(dot_u8(u, yq), dot_u8(bias, yq));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_set1_ps(mxfp4_half_scale(x[b].e) * half(y[b].d)), acc);
    }
    return hsum_ps(fold(acc));
}

// ---- K-quants (super-blocks of 256, activations Q8_K) ---------------------------------
//
// Step s covers elements 64s..64s+63: the weight quants, made unsigned, sit in element
// order in one register, VPDPBUSD against the 64 activations gives 16 s32 lanes of 4
// products each, and VPDPWSSD adds each lane times its sub-block scale. VPDPWSSD multiplies
// s16 pairs: a lane sum that fits in s16 (here at most 4 * 63 * 128) keeps only its sign
// extension in the high half, and the scale vector's high halves are zero, so the pair
// product is exactly sum * scale. Scales come from a 16-lane s32 vector through VPERMD.

constexpr __mmask32 kUpperWords = 0xffff0000u;  // the 16-bit lanes of bytes 32..63

// Lane i of pick32(s) is 2s + i / 8 (32-element sub-blocks: a step spans two), of pick16(s)
// 4s + i / 4 (16-element sub-blocks: four).
inline __m512i pick32(int s) {
    return _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                            _mm512_set1_epi32(2 * s));
}

inline __m512i pick16(int s) {
    return _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                            _mm512_set1_epi32(4 * s));
}

// isum + each lane of the unsigned-by-signed dot of q and y times its lane of `scales`.
inline __m512i add_scaled(__m512i isum, __m512i q, const int8_t* y, __m512i scales) {
    return _mm512_dpwssd_epi32(isum, dot_u8(q, load512(y)), scales);
}

// Signed int8 scales as s32 lanes with zero high halves (what add_scaled needs).
inline __m512i signed_scales(__m128i s8) {
    return _mm512_and_si512(_mm512_cvtepi8_epi32(s8), _mm512_set1_epi32(0xffff));
}

// isum minus 2^shift * (the 8 lanes of `offset`), for quants stored as q + 2^shift.
inline __m512i minus_offset(__m512i isum, __m256i offset, int shift) {
    const __m256i scaled = _mm256_sll_epi32(offset, _mm_cvtsi32_si128(shift));
    return _mm512_sub_epi32(isum, _mm512_inserti64x4(_mm512_setzero_si512(), scaled, 0));
}

// Byte mask of the elements of step s whose bit 2s (bytes 0..31) or 2s + 1 (bytes
// 32..63) of the 32-byte high-bit array `hbits` (in both halves) is set: the layout of
// Q3_K's hmask and Q5_K's qh, where bit k of byte l belongs to element 32k + l.
inline __mmask64 high_bits(__m512i hbits, int s) {
    const __m512i bit = join(_mm256_set1_epi8(static_cast<char>(1 << (2 * s))),
                             _mm256_set1_epi8(static_cast<char>(1 << (2 * s + 1))));
    return _mm512_test_epi8_mask(hbits, bit);
}

// A super-block's d * sum(isum) - dmin * sum(summs) for the f16 pair (d, dmin) at p, scaled
// by d_y: the lanes are added in s32 first (the totals stay below 2^28), so the super-block
// is rounded once, as in the generic kernel; rounding each lane in float cancelled digits.
inline float exact_with_mins(__m512i isum, __m256i summs, const void* p, float dy) {
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int32_t>(load_u32(static_cast<const uint8_t*>(p)))));
    const float d = dy * _mm_cvtss_f32(f), dmin = dy * _mm_cvtss_f32(_mm_movehdup_ps(f));
    __m128i m = _mm_add_epi32(_mm256_castsi256_si128(summs), _mm256_extracti128_si256(summs, 1));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xb1));
    return d * float(_mm512_reduce_add_epi32(isum)) - dmin * float(_mm_cvtsi128_si32(m));
}

// The 2-bit fields of Q2_K/Q3_K: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l].
// twobits(qs, h) holds bits of fields j = 0 (bytes 0..31) and 1 (32..63) at 0..1, of j = 2
// and 3 at 4..5.
inline __m512i twobits(const uint8_t* qs, int h) {
    const __m512i q = broadcast256(qs + 32 * h);
    return _mm512_mask_srli_epi16(q, kUpperWords, q, 2);
}

// Q2_K: q in 0..3; 16 sub-blocks of 16, scale in the low nibble, min in the high one.
float dot_q2_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m128i mask4 = _mm_set1_epi8(0x0f);
    const __m512i mask2 = _mm512_set1_epi8(0x03);
    float sum = 0.0f;   // super-block totals, each rounded once
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        // scales in the low nibbles, mins in the high ones
        const __m128i packed = load128(x[b].scales);
        const __m512i scales = _mm512_cvtepu8_epi32(_mm_and_si128(packed, mask4));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), mask4));
        const __m256i summs = _mm256_madd_epi16(mins, load256(y[b].bsums));
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i q = twobits(x[b].qs, h);
            const int8_t* ys = y[b].qs + 128 * h;
            isum = add_scaled(isum, _mm512_and_si512(q, mask2), ys, _mm512_permutexvar_epi32(pick16(2 * h), scales));
            isum = add_scaled(isum, _mm512_and_si512(_mm512_srli_epi16(q, 4), mask2), ys + 64,
                              _mm512_permutexvar_epi32(pick16(2 * h + 1), scales));
        }
        sum += exact_with_mins(isum, summs, &x[b].d, y[b].d);
    }
    return sum;
}

// The 16 6-bit scales of a Q3_K block minus 32, as int8 in element order (layout in
// kernels/blocks.h). Each u32 lane g of the high-bit word is shifted right by 2g so that byte
// 4g + r holds bits 2g..2g+1 of byte r, i.e. the high bits of scale 4g + r.
inline __m128i q3_k_scales(const uint8_t* s) {
    const __m128i mask4 = _mm_set1_epi8(0x0f);
    const __m128i lo8 = _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(s)));
    const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(lo8, mask4),
                                           _mm_and_si128(_mm_srli_epi16(lo8, 4), mask4));
    const __m128i high = _mm_and_si128(
        _mm_srlv_epi32(_mm_set1_epi32(static_cast<int32_t>(load_u32(s + 8))), _mm_setr_epi32(0, 2, 4, 6)),
        _mm_set1_epi8(0x03));
    return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

// Q3_K: stored as q + 4 = low 2 bits + 4 * hbit in 0..7.
float dot_q3_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ3_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m512i mask2 = _mm512_set1_epi8(0x03);
    const __m512i four = _mm512_set1_epi8(0x04);
    float sum = 0.0f;   // super-block totals, each rounded once
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i s8 = q3_k_scales(x[b].scales);
        const __m512i scales = signed_scales(s8);
        const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), load256(y[b].bsums));
        const __m512i hmask = broadcast256(x[b].hmask);
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i q = twobits(x[b].qs, h);
            const __m512i low[2] = {_mm512_and_si512(q, mask2),
                                    _mm512_and_si512(_mm512_srli_epi16(q, 4), mask2)};
            for (int p = 0; p < 2; ++p) {
                const int s = 2 * h + p;
                const __m512i q3 = _mm512_mask_add_epi8(low[p], high_bits(hmask, s), low[p], four);
                isum = add_scaled(isum, q3, y[b].qs + 64 * s, _mm512_permutexvar_epi32(pick16(s), scales));
            }
        }
        isum = minus_offset(isum, offset, 2);
        sum += (y[b].d * half(x[b].d)) * float(_mm512_reduce_add_epi32(isum));
    }
    return sum;
}

// The 8 scales (byte i of `scales`) and 8 mins (of `mins`) of a Q4_K/Q5_K block. Per i < 4:
// scale i = s[i] & 63, min i = s[4 + i] & 63; scale/min 4 + i take their low 4 bits from
// the nibbles of s[8 + i] and their high 2 bits from bits 6..7 of s[i] / s[4 + i]. Built in
// scalar registers: the vector units are this loop's bottleneck.
struct K4ScalesMins {
    uint64_t scales, mins;
    explicit K4ScalesMins(const uint8_t* s) {
        const uint32_t a = load_u32(s), m = load_u32(s + 4), c = load_u32(s + 8);
        const uint32_t sc_hi = (c & 0x0f0f0f0f) | ((a >> 2) & 0x30303030);
        const uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0f) | ((m >> 2) & 0x30303030);
        scales = (a & 0x3f3f3f3f) | (static_cast<uint64_t>(sc_hi) << 32);
        mins = (m & 0x3f3f3f3f) | (static_cast<uint64_t>(mn_hi) << 32);
    }
};

// Q4_K and Q5_K: step s is sub-blocks 2s and 2s + 1, whose quants `quants(block, s)` gives.
// Each min is doubled so that one VPMADDWD pairs it with its two 16-element bsums. Lanes
// 0..7 of acc gather the d terms, lanes 8..15 the dmin terms.
template <typename Block, typename Quants>
inline float dot_k4_like(int64_t n, const void* vx, const void* vy, Quants quants) {
    const auto* x = static_cast<const Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;   // super-block totals, each rounded once
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const K4ScalesMins sm(x[b].scales);
        const __m512i scales = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sm.scales)));
        const __m128i mins8 = _mm_cvtsi64_si128(static_cast<int64_t>(sm.mins));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins8, mins8));
        const __m256i summs = _mm256_madd_epi16(mins, load256(y[b].bsums));
        __m512i isum = _mm512_setzero_si512();
        for (int s = 0; s < 4; ++s) {
            isum = add_scaled(isum, quants(x[b], s), y[b].qs + 64 * s, _mm512_permutexvar_epi32(pick32(s), scales));
        }
        sum += exact_with_mins(isum, summs, &x[b].d, y[b].d);
    }
    return sum;
}

// Elements 64s..64s+63 of a Q4_K/Q5_K block: the low nibbles of qs[32s..32s+31], then
// their high nibbles.
inline __m512i q4_k_step(const uint8_t* qs, int s) {
    const __m512i packed = broadcast256(qs + 32 * s);
    return _mm512_and_si512(_mm512_mask_srli_epi16(packed, kUpperWords, packed, 4), _mm512_set1_epi8(0x0f));
}

float dot_q4_k_q8_k(int64_t n, const void* vx, const void* vy) {
    return dot_k4_like<BlockQ4_K>(n, vx, vy, [](const BlockQ4_K& b, int s) { return q4_k_step(b.qs, s); });
}

// Q5_K: bit 4 of element 32i + l is bit i of qh[l].
float dot_q5_k_q8_k(int64_t n, const void* vx, const void* vy) {
    return dot_k4_like<BlockQ5_K>(n, vx, vy, [](const BlockQ5_K& b, int s) {
        const __m512i low = q4_k_step(b.qs, s);
        return _mm512_mask_add_epi8(low, high_bits(broadcast256(b.qh), s), low, _mm512_set1_epi8(0x10));
    });
}

// Q6_K: stored as q + 32 in 0..63. Half h (128 elements): the low 4 bits of elements
// 128h + 0..63 are the low nibbles of ql[64h..64h+63], of 128h + 64..127 the high nibbles;
// bits 4..5 are the 2-bit fields of qh[32h..], in the order of Q2_K's quants (twobits).
float dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    const __m512i top = _mm512_set1_epi8(0x30);
    float sum = 0.0f;   // super-block totals, each rounded once
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i s8 = load128(x[b].scales);
        const __m512i scales = signed_scales(s8);
        const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), load256(y[b].bsums));
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i ql = load512(x[b].ql + 64 * h);
            const __m512i qh = twobits(x[b].qh, h);
            const __m512i q0 = _mm512_or_si512(_mm512_and_si512(ql, nibble), _mm512_and_si512(_mm512_slli_epi16(qh, 4), top));
            const __m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), _mm512_and_si512(qh, top));
            const int8_t* ys = y[b].qs + 128 * h;
            isum = add_scaled(isum, q0, ys, _mm512_permutexvar_epi32(pick16(2 * h), scales));
            isum = add_scaled(isum, q1, ys + 64, _mm512_permutexvar_epi32(pick16(2 * h + 1), scales));
        }
        isum = minus_offset(isum, offset, 5);
        sum += (y[b].d * half(x[b].d)) * float(_mm512_reduce_add_epi32(isum));
    }
    return sum;
}

// IQ4_XS: the levels are signed, so the table holds level + 128 (1..241, unsigned) and
// 128 * sum(y) comes off through bsums. Lane sums then exceed s16, so the scales are applied
// with VPMULLD. 64 bytes of qs hold sub-blocks 4p..4p+3, one per 128-bit lane: its low
// nibbles are the sub-block's elements 0..15, its high nibbles 16..31. The activations are
// regrouped by 128-bit lane to match (VSHUFI64X2), so both halves of a sub-block add into
// the same 4 lanes. Scale i is nibble i of scales_l with bits 2i..2i+1 of scales_h on top:
// two PDEPs spread both to byte i.
float dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m512i levels = _mm512_broadcast_i32x4(_mm_xor_si128(load128(kIQ4NLValues), _mm_set1_epi8(-128)));
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    float sum = 0.0f;   // super-block totals, each rounded once
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint64_t ls = _pdep_u64(load_u32(x[b].scales_l), 0x0f0f0f0f0f0f0f0full) |
                            _pdep_u64(x[b].scales_h, 0x3030303030303030ull);
        const __m128i s8 = _mm_sub_epi8(_mm_cvtsi64_si128(static_cast<int64_t>(ls)), _mm_set1_epi8(32));
        const __m512i scales = _mm512_cvtepi8_epi32(s8);  // lanes 0..7
        const __m256i ysums = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s8, s8)), load256(y[b].bsums));
        __m512i isum = _mm512_setzero_si512();
        for (int p = 0; p < 2; ++p) {
            const __m512i q = load512(x[b].qs + 64 * p);
            const __m512i lo = _mm512_shuffle_epi8(levels, _mm512_and_si512(q, nibble));
            const __m512i hi = _mm512_shuffle_epi8(levels, _mm512_and_si512(_mm512_srli_epi16(q, 4), nibble));
            const __m512i y0 = load512(y[b].qs + 128 * p), y1 = load512(y[b].qs + 128 * p + 64);
            __m512i dot = dot_u8(lo, _mm512_shuffle_i64x2(y0, y1, 0x88));   // 128-bit lanes 0, 2 of each
            dot = _mm512_dpbusd_epi32(dot, hi, _mm512_shuffle_i64x2(y0, y1, 0xdd));  // lanes 1, 3
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dot, _mm512_permutexvar_epi32(pick16(p), scales)));
        }
        isum = minus_offset(isum, ysums, 7);
        sum += (half(x[b].d) * y[b].d) * float(_mm512_reduce_add_epi32(isum));
    }
    return sum;
}

// ---- float types ----------------------------------------------------------------------

// Shared loop of the float dot products: `load(p, k)` converts the 16 elements at byte
// pointer p to floats, those outside mask k as 0 and unread. Four accumulators hide the FMA
// latency; the tail is one masked step.
template <int kBytes, typename Load>
inline float dot_floats(int64_t n, const void* vx, const void* vy, Load load) {
    const auto* x = static_cast<const uint8_t*>(vx);
    const auto* y = static_cast<const uint8_t*>(vy);
    constexpr __mmask16 kAll = 0xffff;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        for (int k = 0; k < 4; ++k) {
            const int64_t off = (i + 16 * k) * kBytes;
            acc[k] = _mm512_fmadd_ps(load(x + off, kAll), load(y + off, kAll), acc[k]);
        }
    }
    for (; i + 16 <= n; i += 16) {
        acc[0] = _mm512_fmadd_ps(load(x + i * kBytes, kAll), load(y + i * kBytes, kAll), acc[0]);
    }
    if (i < n) {
        const auto tail = static_cast<__mmask16>((1u << static_cast<unsigned>(n - i)) - 1);
        acc[1] = _mm512_fmadd_ps(load(x + i * kBytes, tail), load(y + i * kBytes, tail), acc[1]);
    }
    return hsum_ps(fold(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))));
}

float dot_f32(int64_t n, const void* x, const void* y) {
    return dot_floats<4>(n, x, y, [](const uint8_t* p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); });
}

float dot_f16(int64_t n, const void* x, const void* y) {
    return dot_floats<2>(n, x, y, [](const uint8_t* p, __mmask16 k) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
    });
}

// bf16 is the high half of a binary32.
float dot_bf16(int64_t n, const void* x, const void* y) {
    return dot_floats<2>(n, x, y, [](const uint8_t* p, __mmask16 k) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p)), 16));
    });
}

}  // namespace

VecDotFn vec_dot_avx512vnni(TensorType type) {
    switch (type) {
        case TensorType::kF32: return dot_f32;
        case TensorType::kF16: return dot_f16;
        case TensorType::kBF16: return dot_bf16;
        case TensorType::kQ4_0: return dot_q4_0_q8_0;
        case TensorType::kQ4_1: return dot_q4_1_q8_1;
        case TensorType::kQ5_0: return dot_q5_0_q8_0;
        case TensorType::kQ5_1: return dot_q5_1_q8_1;
        case TensorType::kQ8_0: return dot_q8_0_q8_0;
        case TensorType::kIQ4_NL: return dot_iq4_nl_q8_0;
        case TensorType::kMXFP4: return dot_mxfp4_q8_0;
        case TensorType::kIQ4_XS: return dot_iq4_xs_q8_k;
        case TensorType::kQ2_K: return dot_q2_k_q8_k;
        case TensorType::kQ3_K: return dot_q3_k_q8_k;
        case TensorType::kQ4_K: return dot_q4_k_q8_k;
        case TensorType::kQ5_K: return dot_q5_k_q8_k;
        case TensorType::kQ6_K: return dot_q6_k_q8_k;
        default: return nullptr;
    }
}

}  // namespace mmojo
