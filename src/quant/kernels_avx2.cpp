// AVX2 + FMA + F16C dot products (built with -mavx2 -mfma -mf16c -mbmi2; installed by
// quant/dispatch.cpp on CPUs that have them). Each kernel computes what the generic kernel of
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
// See quant/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <immintrin.h>

#include <cstdint>

#include "quant/blocks.h"
#include "quant/simd_kernels.h"

namespace mmojo {

namespace {

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
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

// ---- K-quants (super-blocks of 256, activations Q8_K) ---------------------------------

// The K-quant kernels below work on 32 weights at a time whose low 128-bit lane belongs to
// one sub-block and high lane to the next ("pair" p: sub-blocks 2p and 2p+1). Their scales
// are kept as s16 in one register, evens in the low lane and odds in the high lane, so the
// scale vector of pair p is one in-lane VPSHUFB that broadcasts word p of each lane.

// The pair table of 16 int8 sub-block scales in element order.
inline __m256i pair_table16(__m128i s8) {
    const __m128i evens_odds = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s8, evens_odds));
}

// Sub-block scales 2p (low lane) and 2p+1 (high lane) as 16 s16 lanes each.
inline __m256i pair_scale(__m256i table, int p) {
    return _mm256_shuffle_epi8(table, _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * p)));
}

// Q2_K: q in 0..3 dotted unsigned; per sub-block scales (low nibbles) weight the s16 pair
// sums, the mins (high nibbles) weight Q8_K's 16-element sums. Integer lanes stay far below
// 2^24 (|sum| <= 16 * 3 * 127 * 15 per sub-block), so the float conversion is exact.
float dot_q2_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i mask2 = _mm256_set1_epi8(0x03);
    const __m128i mask4 = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i packed = load128(x[b].scales);
        const __m256i scales = pair_table16(_mm_and_si128(packed, mask4));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), mask4));
        const __m256i summs = _mm256_madd_epi16(mins, load256(y[b].bsums));
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i qs = load256(x[b].qs + 32 * h);
            for (int j = 0; j < 4; ++j) {  // elements 128h + 32j .. +31: pair 4h + j
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), mask2);
                const __m256i p = _mm256_maddubs_epi16(q, load256(y[b].qs + 128 * h + 32 * j));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, pair_scale(scales, 4 * h + j)));
            }
        }
        const float dall = y[b].d * half(x[b].d);
        const float dmin = y[b].d * half(x[b].dmin);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(isum), acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(summs), acc);
    }
    return hsum_ps(acc);
}

// The 16 6-bit scales of a Q3_K block minus 32, as int8 in element order (layout in
// quant/blocks.h). Each u32 lane g of the high-bit word is shifted right by 2g so that byte
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

// Q3_K: q' = low 2 bits + 4 * hbit in 0..7 is dotted unsigned; q = q' - 4, and the -4 is
// applied through bsums as for Q6_K's -32. The hmask bit of element 128h + 32j + l is bit
// 4h + j of hmask[l]; it is brought to bit 2 (in-byte shifts only) and OR-ed in.
float dot_q3_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ3_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i mask2 = _mm256_set1_epi8(0x03);
    const __m256i four = _mm256_set1_epi8(0x04);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const __m128i s8 = q3_k_scales(x[b].scales);
        const __m256i scales = pair_table16(s8);
        const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), load256(y[b].bsums));
        const __m256i hm = load256(x[b].hmask);
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i qs = load256(x[b].qs + 32 * h);
            // bits 4h..4h+3 of each byte moved to bits 2..5
            const __m256i hb = h == 0 ? _mm256_slli_epi16(hm, 2) : _mm256_srli_epi16(hm, 2);
            for (int j = 0; j < 4; ++j) {
                const __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), mask2),
                                                  _mm256_and_si256(_mm256_srli_epi16(hb, j), four));
                const __m256i p = _mm256_maddubs_epi16(q, load256(y[b].qs + 128 * h + 32 * j));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, pair_scale(scales, 4 * h + j)));
            }
        }
        isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(offset, 2));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * half(x[b].d)), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

// IQ4_XS: 32 bytes of qs hold sub-blocks 2p (low lane) and 2p+1 (high lane); low nibbles
// are their elements 0..15, high nibbles 16..31, so the activations are regrouped by lane
// to match. The eight 6-bit scales are assembled in scalar code: spreading the nibbles of
// scales_h to bytes puts the high bits of scale 2k at bits 0..1 and of 2k+1 at bits 2..3 of
// byte k.
float dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m128i table128 = load128(kIQ4NLValues);
    const __m256i table = _mm256_set_m128i(table128, table128);
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
        // pair table: words 0..3 of the low lane are scales 0,2,4,6, of the high lane 1,3,5,7
        const __m256i scales = _mm256_sub_epi16(
            _mm256_cvtepu8_epi16(_mm_set_epi32(0, static_cast<int32_t>(odds), 0, static_cast<int32_t>(evens))),
            _mm256_set1_epi16(32));
        __m256i isum = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {
            const __m256i qs = load256(x[b].qs + 32 * p);
            const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(qs, mask));
            const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(qs, 4), mask));
            const __m256i y0 = load256(y[b].qs + 64 * p);
            const __m256i y1 = load256(y[b].qs + 64 * p + 32);
            const __m256i s = pair_scale(scales, p);
            const __m256i p_lo = pairs_s8(lo, _mm256_permute2x128_si256(y0, y1, 0x20));
            const __m256i p_hi = pairs_s8(hi, _mm256_permute2x128_si256(y0, y1, 0x31));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(p_lo, s), _mm256_madd_epi16(p_hi, s)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

// The 8 scales and 8 mins of a Q4_K/Q5_K block (layout in quant_kquants.cpp).
inline void scales_mins_k4(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
    for (int i = 0; i < 4; ++i) {
        sc[i] = s[i] & 63;
        mn[i] = s[i + 4] & 63;
        sc[i + 4] = static_cast<uint8_t>((s[i + 8] & 0x0f) | ((s[i] >> 6) << 4));
        mn[i + 4] = static_cast<uint8_t>((s[i + 8] >> 4) | ((s[i + 4] >> 6) << 4));
    }
}

// d_y * (d_x * sum_i sc_i dot_i - dmin_x * sum_i mn_i bsum_i) for Q4_K/Q5_K, given the
// 8 s32 lanes whose sum is sum_i sc_i dot_i.
template <typename Block>
inline float finish_k4(const Block& xb, const BlockQ8_K& yb, __m256i scaled, const uint8_t* mn) {
    int32_t summs = 0;
    for (int i = 0; i < 8; ++i) summs += mn[i] * (yb.bsums[2 * i] + yb.bsums[2 * i + 1]);
    const float dall = yb.d * half(xb.d);
    const float dmin = yb.d * half(xb.dmin);
    return dall * static_cast<float>(hsum_epi32(scaled)) - dmin * static_cast<float>(summs);
}

float dot_q4_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i mask = _mm256_set1_epi8(0x0f);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint8_t sc[8], mn[8];
        scales_mins_k4(x[b].scales, sc, mn);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {  // 64 elements: sub-blocks 2c (low nibbles), 2c+1
            const __m256i q = load256(x[b].qs + 32 * c);
            const __m256i lo = _mm256_and_si256(q, mask);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
            const __m256i p_lo = _mm256_maddubs_epi16(lo, load256(y[b].qs + 64 * c));
            const __m256i p_hi = _mm256_maddubs_epi16(hi, load256(y[b].qs + 64 * c + 32));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(sc[2 * c])));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        sum += finish_k4(x[b], y[b], acc, mn);
    }
    return sum;
}

float dot_q5_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i mask = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint8_t sc[8], mn[8];
        scales_mins_k4(x[b].scales, sc, mn);
        const __m256i qh = load256(x[b].qh);  // bit i of qh[l]: bit 4 of element 32i + l
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(x[b].qs + 32 * c);
            const __m256i h_lo = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
            const __m256i h_hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, mask), _mm256_slli_epi16(h_lo, 4));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask),
                                               _mm256_slli_epi16(h_hi, 4));
            const __m256i p_lo = _mm256_maddubs_epi16(lo, load256(y[b].qs + 64 * c));
            const __m256i p_hi = _mm256_maddubs_epi16(hi, load256(y[b].qs + 64 * c + 32));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(sc[2 * c])));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        sum += finish_k4(x[b], y[b], acc, mn);
    }
    return sum;
}

// Q6_K: q = (low 4 | high 2 << 4) in 0..63, dotted unsigned; the -32 offset is applied
// through bsums: sum_i s_i sum_j (q - 32) y = sum_i s_i (sum_j q y) - 32 sum_i s_i bsum_i.
float dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i mask4 = _mm256_set1_epi8(0x0f);
    const __m256i mask2 = _mm256_set1_epi8(0x03);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const int8_t* s = x[b].scales;
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = load256(x[b].ql + 64 * h);
            const __m256i ql1 = load256(x[b].ql + 64 * h + 32);
            const __m256i qh = load256(x[b].qh + 32 * h);
            const __m256i low[4] = {_mm256_and_si256(ql0, mask4), _mm256_and_si256(ql1, mask4),
                                    _mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4)};
            for (int j = 0; j < 4; ++j) {  // elements 128h + 32j .. +31: sub-blocks 8h+2j, +1
                const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), mask2);
                const __m256i q = _mm256_or_si256(low[j], _mm256_slli_epi16(high, 4));
                const __m256i p = _mm256_maddubs_epi16(q, load256(y[b].qs + 128 * h + 32 * j));
                const int k = 8 * h + 2 * j;
                const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(s[k + 1]), _mm_set1_epi16(s[k]));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
            }
        }
        int32_t offset = 0;
        for (int i = 0; i < 16; ++i) offset += s[i] * y[b].bsums[i];
        const int32_t isum = hsum_epi32(acc) - 32 * offset;
        sum += y[b].d * half(x[b].d) * static_cast<float>(isum);
    }
    return sum;
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
