// AVX2 + FMA + F16C dot products (built with -mavx2 -mfma -mf16c -mbmi2; installed by
// kernels/dispatch.cpp on CPUs that have them). Each kernel computes what the generic kernel of
// the same name in quant_*.cpp computes; tests/unit/simd_kernels_test.cpp compares the two.
//
// Integer dot products of 32 int8 pairs use VPMADDUBSW (u8 x s8 -> pairs summed to s16,
// saturating) then VPMADDWD against ones (-> s32). For signed x signed the sign of x is
// moved onto y (VPSIGNB) so that |x| can be the unsigned operand. This is exact when no
// pair sum exceeds 32767: true for Q4/Q6 weights and for int8 quants in -127..127, which is
// what every Q8 quantizer (ours and llama.cpp's) produces; -128 in a Q8_0/Q8_K quant is
// not supported (|-128| * -128 * 2 saturates).
//
// Per-block float scaling and the final sums are in float lanes, so results differ from
// the generic kernels by float rounding only (different summation order).
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <immintrin.h>

#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/mxfp4.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// 16 s16 sums of adjacent products of 32 int8 pairs, x and y signed (see the header for
// the range).
inline __m256i pairs_s8(__m256i x, __m256i y) {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// 8 s32 sums of products of 32 int8 pairs, x and y signed.
inline __m256i dot_s8(__m256i x, __m256i y) {
    return _mm256_madd_epi16(pairs_s8(x, y), _mm256_set1_epi16(1));
}

// 8 s32 sums of products, x unsigned (0..255 but small enough not to saturate), y signed.
inline __m256i dot_u8s8(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

// The 32 nibbles of a Q4 block's 16 bytes in element order: low nibbles are elements
// 0..15 (low 128-bit lane), high nibbles 16..31 (high lane).
inline __m256i unpack_nibbles32(const uint8_t* qs) {
    const __m128i b = load128(qs);
    const __m128i mask = _mm_set1_epi8(0x0f);
    const __m128i lo = _mm_and_si128(b, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
    return _mm256_set_m128i(hi, lo);
}

// ---- legacy 32-element blocks --------------------------------------------------------

float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i x0 = _mm256_sub_epi8(unpack_nibbles32(x[b].qs), eight);
        const __m256i x1 = _mm256_sub_epi8(unpack_nibbles32(x[b + 1].qs), eight);
        const __m256i p0 = dot_s8(x0, load256(y[b].qs));
        const __m256i p1 = dot_s8(x1, load256(y[b + 1].qs));
        const __m256 d0 = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        const __m256 d1 = _mm256_set1_ps(half(x[b + 1].d) * half(y[b + 1].d));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), d0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), d1, acc1);
    }
    for (; b < nb; ++b) {
        const __m256i x0 = _mm256_sub_epi8(unpack_nibbles32(x[b].qs), eight);
        const __m256i p0 = dot_s8(x0, load256(y[b].qs));
        const __m256 d0 = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), d0, acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i p0 = dot_s8(load256(x[b].qs), load256(y[b].qs));
        const __m256i p1 = dot_s8(load256(x[b + 1].qs), load256(y[b + 1].qs));
        const __m256 d0 = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        const __m256 d1 = _mm256_set1_ps(half(x[b + 1].d) * half(y[b + 1].d));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), d0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), d1, acc1);
    }
    for (; b < nb; ++b) {
        const __m256i p0 = dot_s8(load256(x[b].qs), load256(y[b].qs));
        const __m256 d0 = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), d0, acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

// Q4_1 . Q8_1 = sum_b d_x d_y sum_j q_x q_y + m_x s_y, with q_x in 0..15 unsigned.
float dot_q4_1_q8_1(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const int64_t nb = n / kQK;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i p = dot_u8s8(unpack_nibbles32(x[b].qs), load256(y[b].qs));
        const __m256 d = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
        offsets += half(x[b].m) * half(y[b].s);
    }
    return hsum_ps(acc) + offsets;
}

// Bit 4 of each of the 32 elements of a Q5 block: byte j of the result is 0x10 when bit j
// of the little-endian qh is set. Each byte lane picks the qh byte holding its bit
// (VPSHUFB), then tests the bit with a per-lane mask.
inline __m256i q5_high_bits(const uint8_t* qh) {
    uint32_t bits = 0;
    for (int k = 0; k < 4; ++k) bits |= static_cast<uint32_t>(qh[k]) << (8 * k);
    const __m256i v = _mm256_set1_epi32(static_cast<int32_t>(bits));
    const __m256i select = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                             0x0101010101010101, 0x0000000000000000);
    const __m256i bytes = _mm256_shuffle_epi8(v, select);
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

float dot_q5_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i q = _mm256_or_si256(unpack_nibbles32(x[b].qs), q5_high_bits(x[b].qh));
        const __m256i p = dot_s8(_mm256_sub_epi8(q, sixteen), load256(y[b].qs));
        const __m256 d = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
    }
    return hsum_ps(acc);
}

float dot_q5_1_q8_1(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const int64_t nb = n / kQK;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i q = _mm256_or_si256(unpack_nibbles32(x[b].qs), q5_high_bits(x[b].qh));
        const __m256i p = dot_u8s8(q, load256(y[b].qs));
        const __m256 d = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
        offsets += half(x[b].m) * half(y[b].s);
    }
    return hsum_ps(acc) + offsets;
}

// IQ4_NL: the nibble indexes a 16-entry table of int8 levels (one VPSHUFB).
float dot_iq4_nl_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_NL*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    const __m128i table128 = load128(kIQ4NLValues);
    const __m256i table = _mm256_set_m128i(table128, table128);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles32(x[b].qs));
        const __m256i p = dot_s8(q, load256(y[b].qs));
        const __m256 d = _mm256_set1_ps(half(x[b].d) * half(y[b].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
    }
    return hsum_ps(acc);
}

// MXFP4: as IQ4_NL with the doubled E2M1 levels, and the block scale 2^(e - 128).
float dot_mxfp4_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockMXFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    const __m128i table128 = load128(kMxfp4Levels);
    const __m256i table = _mm256_set_m128i(table128, table128);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles32(x[b].qs));
        const __m256i p = dot_s8(q, load256(y[b].qs));
        const __m256 d = _mm256_set1_ps(mxfp4_half_scale(x[b].e) * half(y[b].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
    }
    return hsum_ps(acc);
}

// ---- K-quants (super-blocks of 256, activations Q8_K) ---------------------------------
//
// Every K-quant kernel walks a super-block in 8 chunks of 32 elements. A chunk's quants are
// made unsigned (offsets are applied through Q8_K's 16-element sums, bsums), dotted with
// VPMADDUBSW into s16 pairs, and weighted by their sub-block scales with VPMADDWD. Integer
// sums stay in s32 lanes, which are added in s32 at the end of a super-block; the float
// scales are applied once per super-block.
//
// Scales live as s16 in a "table" register and word k of each 128-bit lane is broadcast
// over that lane for chunk k. With 32-element sub-blocks both lanes hold the same 8
// scales; with 16-element sub-blocks a chunk's low lane is sub-block 2k and its high lane
// 2k+1, so the low lane holds the even scales and the high lane the odd ones.

inline __m256i broadcast_word(__m256i table, int k) {
    return _mm256_shuffle_epi8(table, _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * k)));
}

// The table of 16 int8 scales (sub-blocks of 16) in element order.
inline __m256i pair_table16(__m128i s8) {
    const __m128i evens_odds = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s8, evens_odds));
}

// sum over chunks k of scale_k * (unsigned quants of chunk k . y), in 8 s32 lanes. `Quants`
// gives chunk k's 32 quants, small enough that a VPMADDUBSW pair sum cannot saturate
// (q <= 63 with |y| <= 127).
template <typename Quants>
inline __m256i k_quant_isum(const Quants& quants, const int8_t* y, __m256i table) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
        const __m256i p = _mm256_maddubs_epi16(quants.chunk(k), load256(y + 32 * k));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, broadcast_word(table, k)));
    }
    return isum;
}

// The sum of the 8 s32 lanes (a super-block's total: below 2^28 in magnitude for every type).
inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// acc + (d * isum - dmin * summs) in lane 0 (the types with per-sub-block mins). The lanes
// are added in s32 first, so a super-block is rounded once, as in the generic kernel:
// rounding each lane in float cancelled digits (up to 1000x the generic kernel's error).
inline __m256 add_with_mins(__m256 acc, __m256i isum, __m256i summs, float d, float dmin) {
    const float total = d * float(hsum_epi32(isum)) - dmin * float(hsum_epi32(summs));
    return _mm256_add_ps(acc, _mm256_setr_ps(total, 0, 0, 0, 0, 0, 0, 0));
}

// acc + d * (isum - 2^shift * sum_i s_i bsum_i) in lane 0: the offset of unsigned quants
// stored as q + 2^shift (Q3_K: 4, Q6_K: 32), with the 16 int8 scales s in element order;
// summed in s32 as add_with_mins.
inline __m256 add_with_offset(__m256 acc, __m256i isum, __m128i s8, const int16_t* bsums, int shift,
                              float d) {
    const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), load256(bsums));
    isum = _mm256_sub_epi32(isum, _mm256_sll_epi32(offset, _mm_cvtsi32_si128(shift)));
    const float total = d * float(hsum_epi32(isum));
    return _mm256_add_ps(acc, _mm256_setr_ps(total, 0, 0, 0, 0, 0, 0, 0));
}

// Q2_K, Q3_K and Q6_K place element 128h + 32j + l of a half h in byte l of a 32-byte
// group, at bit field j: chunk k is h = k / 4, j = k % 4.

// Q2_K: q in 0..3.
struct Q2KQuants {
    const uint8_t* qs;
    __m256i chunk(int k) const {
        return _mm256_and_si256(_mm256_srli_epi16(load256(qs + 32 * (k / 4)), 2 * (k % 4)),
                                _mm256_set1_epi8(0x03));
    }
};

// Q3_K: q + 4 = low 2 bits + 4 * hbit in 0..7. The hmask bit of chunk k is bit k of
// hmask[l]; per half it is pre-shifted so that one in-byte shift brings it to bit 2.
struct Q3KQuants {
    const uint8_t* qs;
    __m256i hb[2];  // bits 4h..4h+3 of each hmask byte at bits 2..5
    explicit Q3KQuants(const BlockQ3_K& b) : qs(b.qs) {
        const __m256i hm = load256(b.hmask);
        hb[0] = _mm256_slli_epi16(hm, 2);
        hb[1] = _mm256_srli_epi16(hm, 2);
    }
    __m256i chunk(int k) const {
        const int h = k / 4, j = k % 4;
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(load256(qs + 32 * h), 2 * j),
                                             _mm256_set1_epi8(0x03));
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hb[h], j), _mm256_set1_epi8(0x04));
        return _mm256_or_si256(low, high);
    }
};

// Q6_K: q + 32 in 0..63; low 4 bits from the nibbles of ql (see BlockQ6_K), bits 4..5 from
// bit field j of qh.
struct Q6KQuants {
    const uint8_t* ql;
    const uint8_t* qh;
    __m256i chunk(int k) const {
        const int h = k / 4, j = k % 4;
        const __m256i l = load256(ql + 64 * h + 32 * (j % 2));
        const __m256i low =
            _mm256_and_si256(j < 2 ? l : _mm256_srli_epi16(l, 4), _mm256_set1_epi8(0x0f));
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(load256(qh + 32 * h), 2 * j),
                                              _mm256_set1_epi8(0x03));
        return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
    }
};

// Q4_K/Q5_K: chunk k is sub-block k, the low (k even) or high nibbles of qs[32 * (k / 2)..].
struct Q4KQuants {
    const uint8_t* qs;
    __m256i chunk(int k) const {
        const __m256i q = load256(qs + 32 * (k / 2));
        return _mm256_and_si256(k % 2 == 0 ? q : _mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0f));
    }
};

// Q5_K: as Q4_K with bit 4 of sub-block k's element l from bit k of qh[l].
struct Q5KQuants {
    Q4KQuants low;
    const uint8_t* qh;
    __m256i chunk(int k) const {
        const __m256i high =
            _mm256_and_si256(_mm256_srli_epi16(load256(qh), k), _mm256_set1_epi8(0x01));
        return _mm256_or_si256(low.chunk(k), _mm256_slli_epi16(high, 4));
    }
};

float dot_q2_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m128i mask4 = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        // scales in the low nibbles, mins in the high ones
        const __m128i packed = load128(x[b].scales);
        const __m256i table = pair_table16(_mm_and_si128(packed, mask4));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), mask4));
        const __m256i summs = _mm256_madd_epi16(mins, load256(y[b].bsums));
        const __m256i isum = k_quant_isum(Q2KQuants{x[b].qs}, y[b].qs, table);
        acc = add_with_mins(acc, isum, summs, y[b].d * half(x[b].d), y[b].d * half(x[b].dmin));
    }
    return hsum_ps(acc);
}

// The 16 6-bit scales of a Q3_K block minus 32, as int8 in element order (layout in
// kernels/blocks.h). Each u32 lane g of the high-bit word is shifted right by 2g so that byte
// 4g + r holds bits 2g..2g+1 of byte r, i.e. the high bits of scale 4g + r.
inline __m128i q3_k_scales(const uint8_t* s) {
    const __m128i mask4 = _mm_set1_epi8(0x0f);
    const __m128i lo8 = _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(s)));
    const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(lo8, mask4),
                                           _mm_and_si128(_mm_srli_epi16(lo8, 4), mask4));
    uint32_t hbits;
    __builtin_memcpy(&hbits, s + 8, sizeof hbits);
    const __m128i high = _mm_and_si128(
        _mm_srlv_epi32(_mm_set1_epi32(static_cast<int32_t>(hbits)), _mm_setr_epi32(0, 2, 4, 6)),
        _mm_set1_epi8(0x03));
    return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

float dot_q3_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ3_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i s8 = q3_k_scales(x[b].scales);
        const __m256i isum = k_quant_isum(Q3KQuants(x[b]), y[b].qs, pair_table16(s8));
        acc = add_with_offset(acc, isum, s8, y[b].bsums, 2, y[b].d * half(x[b].d));
    }
    return hsum_ps(acc);
}

// The 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K/Q5_K block. Per byte i < 4:
// scale i = s[i] & 63, min i = s[4 + i] & 63; scale/min 4 + i take their low 4 bits from
// the nibbles of s[8 + i] and their high 2 bits from bits 6..7 of s[i] / s[4 + i].
inline __m128i k4_scales_mins(const uint8_t* s) {
    uint32_t a, m, c;
    __builtin_memcpy(&a, s, 4);
    __builtin_memcpy(&m, s + 4, 4);
    __builtin_memcpy(&c, s + 8, 4);
    const uint32_t sc_hi = (c & 0x0f0f0f0f) | ((a >> 2) & 0x30303030);
    const uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0f) | ((m >> 2) & 0x30303030);
    return _mm_setr_epi32(static_cast<int32_t>(a & 0x3f3f3f3f), static_cast<int32_t>(sc_hi),
                          static_cast<int32_t>(m & 0x3f3f3f3f), static_cast<int32_t>(mn_hi));
}

// Q4_K and Q5_K: 32-element sub-blocks, the table holds the 8 scales in both lanes; each
// min is doubled so that one VPMADDWD pairs it with its two 16-element bsums.
template <typename Block, typename MakeQuants>
inline float dot_k4_like(int64_t n, const Block* x, const BlockQ8_K* y, MakeQuants quants) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i sm = k4_scales_mins(x[b].scales);
        const __m256i table = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
        const __m256i summs = _mm256_madd_epi16(mins, load256(y[b].bsums));
        const __m256i isum = k_quant_isum(quants(x[b]), y[b].qs, table);
        acc = add_with_mins(acc, isum, summs, y[b].d * half(x[b].d), y[b].d * half(x[b].dmin));
    }
    return hsum_ps(acc);
}

float dot_q4_k_q8_k(int64_t n, const void* vx, const void* vy) {
    return dot_k4_like(n, static_cast<const BlockQ4_K*>(vx), static_cast<const BlockQ8_K*>(vy),
                       [](const BlockQ4_K& b) { return Q4KQuants{b.qs}; });
}

float dot_q5_k_q8_k(int64_t n, const void* vx, const void* vy) {
    return dot_k4_like(n, static_cast<const BlockQ5_K*>(vx), static_cast<const BlockQ8_K*>(vy),
                       [](const BlockQ5_K& b) { return Q5KQuants{{b.qs}, b.qh}; });
}

float dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i s8 = load128(x[b].scales);
        const __m256i isum = k_quant_isum(Q6KQuants{x[b].ql, x[b].qh}, y[b].qs, pair_table16(s8));
        acc = add_with_offset(acc, isum, s8, y[b].bsums, 5, y[b].d * half(x[b].d));
    }
    return hsum_ps(acc);
}

// IQ4_XS: levels are signed (-127..113), so chunks use the sign trick rather than the
// unsigned path above. 32 bytes of qs hold sub-blocks 2p (low lane) and 2p+1 (high lane);
// their low nibbles are elements 0..15, high nibbles 16..31, so the activations are
// regrouped by lane to match and the scales use the even/odd table. The eight 6-bit scales
// are assembled in scalar code: spreading the nibbles of scales_h to bytes puts the high
// bits of scale 2k at bits 0..1 and of 2k+1 at bits 2..3 of byte k.
float dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m128i table128 = load128(kIQ4NLValues);
    const __m256i levels = _mm256_set_m128i(table128, table128);
    const __m256i mask = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint32_t sl;
        __builtin_memcpy(&sl, x[b].scales_l, sizeof sl);
        const uint32_t sh = x[b].scales_h;
        const uint32_t spread = (sh & 0x000f) | ((sh & 0x00f0) << 4) | ((sh & 0x0f00) << 8) |
                                ((sh & 0xf000) << 12);
        const uint32_t evens = (sl & 0x0f0f0f0f) | ((spread & 0x03030303) << 4);
        const uint32_t odds = ((sl >> 4) & 0x0f0f0f0f) | ((spread & 0x0c0c0c0c) << 2);
        // words 0..3 of the low lane are scales 0,2,4,6, of the high lane 1,3,5,7
        const __m128i bytes =
            _mm_set_epi32(0, static_cast<int32_t>(odds), 0, static_cast<int32_t>(evens));
        const __m256i table = _mm256_sub_epi16(_mm256_cvtepu8_epi16(bytes), _mm256_set1_epi16(32));
        __m256i isum = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {
            const __m256i qs = load256(x[b].qs + 32 * p);
            const __m256i lo = _mm256_shuffle_epi8(levels, _mm256_and_si256(qs, mask));
            const __m256i hi =
                _mm256_shuffle_epi8(levels, _mm256_and_si256(_mm256_srli_epi16(qs, 4), mask));
            const __m256i y0 = load256(y[b].qs + 64 * p);
            const __m256i y1 = load256(y[b].qs + 64 * p + 32);
            const __m256i s = broadcast_word(table, p);
            const __m256i p_lo = pairs_s8(lo, _mm256_permute2x128_si256(y0, y1, 0x20));
            const __m256i p_hi = pairs_s8(hi, _mm256_permute2x128_si256(y0, y1, 0x31));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, s));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, s));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

// ---- float types ----------------------------------------------------------------------

// Shared loop of the float dot products: `load8` converts 8 elements at a byte pointer to
// floats, `load1` one element. Four accumulators hide the FMA latency.
template <int kBytes, typename Load8, typename Load1>
inline float dot_float_like(int64_t n, const void* vx, const void* vy, Load8 load8, Load1 load1) {
    const auto* x = static_cast<const uint8_t*>(vx);
    const auto* y = static_cast<const uint8_t*>(vy);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; ++k) {
            const int64_t off = (i + 8 * k) * kBytes;
            acc[k] = _mm256_fmadd_ps(load8(x + off), load8(y + off), acc[k]);
        }
    }
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8(x + i * kBytes), load8(y + i * kBytes), acc[0]);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; ++i) sum += load1(x + i * kBytes) * load1(y + i * kBytes);
    return sum;
}

inline uint16_t load_u16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

float dot_f32(int64_t n, const void* x, const void* y) {
    return dot_float_like<4>(
        n, x, y, [](const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); },
        [](const uint8_t* p) {
            float v;
            __builtin_memcpy(&v, p, sizeof v);
            return v;
        });
}

float dot_f16(int64_t n, const void* x, const void* y) {
    return dot_float_like<2>(
        n, x, y, [](const uint8_t* p) { return _mm256_cvtph_ps(load128(p)); },
        [](const uint8_t* p) { return half(load_u16(p)); });
}

float dot_bf16(int64_t n, const void* x, const void* y) {
    return dot_float_like<2>(
        n, x, y,
        [](const uint8_t* p) {
            return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
        },
        [](const uint8_t* p) {
            const uint32_t bits = static_cast<uint32_t>(load_u16(p)) << 16;
            return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int32_t>(bits))));
        });
}

}  // namespace

VecDotFn vec_dot_avx2(TensorType type) {
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
