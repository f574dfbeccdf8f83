// x86 dot products of the low-bit formats (kernels/blocks_lowbit.h), written once for two
// levels through a `Dot` policy, as kernels_neon_common.h does for NEON: kernels_lowbit_avx2.cpp
// (VPMADDUBSW + VPMADDWD) and kernels_lowbit_avx512vnni.cpp (VPDPBUSD on 256-bit registers).
// Each kernel computes what the generic kernel of the same type in quant_*.cpp computes;
// tests/unit/simd_kernels_test.cpp compares them at every level.
//
// Lattice formats: the grid points are gathered from kernels/iq_grids.h with scalar loads (8
// bytes for IQ2, 4 for IQ3) into a 32-byte vector of unsigned magnitudes; the weights' signs
// are moved onto the activations (VPSIGNB), so each group of 32 is one unsigned x signed
// integer dot, weighted by its integer scale, exact in s32 until the super-block's float
// scale. As in kernels_avx2.cpp, activations must be in -127..127 (every Q8 quantizer's
// range): -128 has no negation in int8.
//
// Include only inside an anonymous namespace of a file built with the level's flags (see
// kernels/simd_kernels.h): everything here is then private to that file.
//
//   struct Dot {
//       // 8 s32 lanes, lane k = sum over bytes 4k..4k+3 of x * y (x unsigned, y signed),
//       // lanes 0..3 times s_lo, lanes 4..7 times s_hi (16-bit scales).
//       static __m256i scaled(__m256i x, __m256i y, int s_lo, int s_hi);
//   };

inline float lowbit_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int32_t lowbit_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x55));
    return _mm_cvtsi128_si32(s);
}

inline __m256i lowbit_load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline uint32_t lowbit_u32(const void* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

inline float lowbit_half(uint16_t h) { return _cvtsh_ss(h); }

// Byte j of entry v is -1 where bit j of v is set, else +1: the VPSIGNB operand that applies
// a sign byte to 8 activations (computed at compile time; data only).
struct SignExpansion {
    uint64_t v[256];
};

constexpr SignExpansion make_sign_expansion() {
    SignExpansion t{};
    for (int i = 0; i < 256; ++i) {
        uint64_t e = 0;
        for (int j = 0; j < 8; ++j) e |= static_cast<uint64_t>((i >> j) & 1 ? 0xff : 0x01) << (8 * j);
        t.v[i] = e;
    }
    return t;
}

constexpr SignExpansion kSignExpansion = make_sign_expansion();

// The +-1 bytes of 4 sign bytes (one per 8 elements).
inline __m256i sign_vector(uint32_t s0, uint32_t s1, uint32_t s2, uint32_t s3) {
    return _mm256_set_epi64x(static_cast<long long>(kSignExpansion.v[s3]), static_cast<long long>(kSignExpansion.v[s2]),
                             static_cast<long long>(kSignExpansion.v[s1]), static_cast<long long>(kSignExpansion.v[s0]));
}

inline __m256i sign_vector(uint32_t bytes) {
    return sign_vector(bytes & 255, (bytes >> 8) & 255, (bytes >> 16) & 255, bytes >> 24);
}

// 0xff in byte i where bit i % 8 of byte i / 8 of `bits` is set (32 bits -> 32 bytes).
inline __m256i bits_to_mask(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int32_t>(bits)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i select = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

// y with the elements negated where `bits` has a 1.
inline __m256i apply_signs(__m256i y, uint32_t bits) {
    return _mm256_sign_epi8(y, _mm256_or_si256(bits_to_mask(bits), _mm256_set1_epi8(1)));
}

// The +-1 bytes of 4 x 7-bit kSignsIQ2 indices (bits 0..27 of w).
inline __m256i iq2_sign_vector(uint32_t w) {
    return sign_vector(kSignsIQ2.v[w & 127], kSignsIQ2.v[(w >> 7) & 127], kSignsIQ2.v[(w >> 14) & 127],
                       kSignsIQ2.v[(w >> 21) & 127]);
}

inline __m256i grid8x4(const uint64_t* grid, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
    return _mm256_set_epi64x(static_cast<long long>(grid[i3]), static_cast<long long>(grid[i2]),
                             static_cast<long long>(grid[i1]), static_cast<long long>(grid[i0]));
}

// ---- lattice formats (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) --------------------------
// A decoder gives group g (32 weights) of a block as unsigned grid magnitudes, their signs as
// +-1 bytes (the VPSIGNB operand) and the integer scales of its two halves of 16; the block's
// value is d * kFactor * sum of scale * grid * sign. kernels/gemm_lowbit_x86.h reuses them.

struct IQ2XXSDecoder {
    using Block = BlockIQ2_XXS;
    static constexpr float kFactor = 0.125f;
    static void group(const Block& b, int g, __m256i& grid, __m256i& sign, int& s_lo, int& s_hi) {
        const uint8_t* qs = reinterpret_cast<const uint8_t*>(&b) + offsetof(BlockIQ2_XXS, qs) + 8 * g;
        const uint32_t a = lowbit_u32(qs), w = lowbit_u32(qs + 4);
        grid = grid8x4(kIQ2XXSGrid, a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24);
        sign = iq2_sign_vector(w);
        s_lo = s_hi = 2 * static_cast<int>(w >> 28) + 1;
    }
};

struct IQ2XSDecoder {
    using Block = BlockIQ2_XS;
    static constexpr float kFactor = 0.125f;
    static void group(const Block& b, int g, __m256i& grid, __m256i& sign, int& s_lo, int& s_hi) {
        const uint8_t* qs = reinterpret_cast<const uint8_t*>(&b) + offsetof(BlockIQ2_XS, qs) + 8 * g;
        const uint32_t v01 = lowbit_u32(qs), v23 = lowbit_u32(qs + 4);
        grid = grid8x4(kIQ2XSGrid, v01 & 511, (v01 >> 16) & 511, v23 & 511, (v23 >> 16) & 511);
        sign = sign_vector(kSignsIQ2.v[(v01 >> 9) & 127], kSignsIQ2.v[v01 >> 25], kSignsIQ2.v[(v23 >> 9) & 127],
                           kSignsIQ2.v[v23 >> 25]);
        s_lo = 2 * (b.scales[g] & 15) + 1;
        s_hi = 2 * (b.scales[g] >> 4) + 1;
    }
};

struct IQ2SDecoder {
    using Block = BlockIQ2_S;
    static constexpr float kFactor = 0.125f;
    static void group(const Block& b, int g, __m256i& grid, __m256i& sign, int& s_lo, int& s_hi) {
        const uint8_t* q = b.qs + 4 * g;
        const uint32_t h = b.qh[g];
        grid = grid8x4(kIQ2SGrid, q[0] | ((h << 8) & 0x300), q[1] | ((h << 6) & 0x300), q[2] | ((h << 4) & 0x300),
                       q[3] | ((h << 2) & 0x300));
        sign = sign_vector(lowbit_u32(b.qs + kQK_K / 8 + 4 * g));
        s_lo = 2 * (b.scales[g] & 15) + 1;
        s_hi = 2 * (b.scales[g] >> 4) + 1;
    }
};

inline __m256i grid4x8(const uint32_t* grid, const uint32_t* i) {
    return _mm256_set_epi32(static_cast<int>(grid[i[7]]), static_cast<int>(grid[i[6]]), static_cast<int>(grid[i[5]]),
                            static_cast<int>(grid[i[4]]), static_cast<int>(grid[i[3]]), static_cast<int>(grid[i[2]]),
                            static_cast<int>(grid[i[1]]), static_cast<int>(grid[i[0]]));
}

struct IQ3XXSDecoder {
    using Block = BlockIQ3_XXS;
    static constexpr float kFactor = 0.25f;
    static void group(const Block& b, int g, __m256i& grid, __m256i& sign, int& s_lo, int& s_hi) {
        uint32_t idx[8];
        for (int k = 0; k < 8; ++k) idx[k] = b.qs[8 * g + k];
        grid = grid4x8(kIQ3XXSGrid, idx);
        const uint32_t w = lowbit_u32(b.qs + kQK_K / 4 + 4 * g);
        sign = iq2_sign_vector(w);
        s_lo = s_hi = 2 * static_cast<int>(w >> 28) + 1;
    }
};

struct IQ3SDecoder {
    using Block = BlockIQ3_S;
    static constexpr float kFactor = 1.0f;
    static void group(const Block& b, int g, __m256i& grid, __m256i& sign, int& s_lo, int& s_hi) {
        uint32_t idx[8];
        const uint32_t h = b.qh[g];
        for (int k = 0; k < 8; ++k) idx[k] = b.qs[8 * g + k] | (((h >> k) & 1) << 8);
        grid = grid4x8(kIQ3SGrid, idx);
        sign = sign_vector(lowbit_u32(b.signs + 4 * g));
        s_lo = s_hi = 1 + 2 * ((b.scales[g / 2] >> (4 * (g % 2))) & 15);
    }
};

template <typename Dot, typename Decoder>
float lowbit_dot_lattice(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const typename Decoder::Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        __m256i isum = _mm256_setzero_si256();
        for (int g = 0; g < kQK_K / 32; ++g) {
            __m256i grid, sign;
            int s_lo, s_hi;
            Decoder::group(x[b], g, grid, sign, s_lo, s_hi);
            const __m256i ys = _mm256_sign_epi8(lowbit_load(y[b].qs + 32 * g), sign);
            isum = _mm256_add_epi32(isum, Dot::scaled(grid, ys, s_lo, s_hi));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(lowbit_half(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return Decoder::kFactor * lowbit_hsum(acc);
}

// ---- IQ1_S -----------------------------------------------------------------------------

// grid + 1 (0..2, unsigned) times y, then - sum y: the grid dot without a signed multiply.
template <typename Dot>
float lowbit_dot_iq1_s(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i one = _mm256_set1_epi8(1);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        __m256i isum = _mm256_setzero_si256();
        int32_t correction = 0, shift_sum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint32_t h = x[b].qh[g];
            const uint8_t* q = x[b].qs + 4 * g;
            const __m256i grid = _mm256_add_epi8(
                grid8x4(kIQ1SGrid, q[0] | ((h << 8) & 0x700), q[1] | ((h << 5) & 0x700), q[2] | ((h << 2) & 0x700),
                        q[3] | ((h >> 1) & 0x700)),
                one);
            const int s = 2 * static_cast<int>((h >> 12) & 7) + 1;
            const int32_t a_sum = y[b].bsums[2 * g] + y[b].bsums[2 * g + 1];
            isum = _mm256_add_epi32(isum, Dot::scaled(grid, lowbit_load(y[b].qs + 32 * g), s, s));
            correction += s * a_sum;
            shift_sum += s * (h & 0x8000 ? -a_sum : a_sum);
        }
        const int32_t grid_sum = lowbit_hsum_i32(isum) - correction;
        sum += lowbit_half(x[b].d) * y[b].d *
               (static_cast<float>(grid_sum) + kIQ1Delta * static_cast<float>(shift_sum));
    }
    return sum;
}

// ---- ternary ---------------------------------------------------------------------------

// TQ2_0: trits 0..2 (unsigned) times y, minus the sum of y (Q8_K's bsums).
template <typename Dot>
float lowbit_dot_tq2_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockTQ2_0*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i three = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i v = lowbit_load(x[b].qs + 32 * h);
            for (int l = 0; l < 4; ++l) {
                const __m256i t = _mm256_and_si256(_mm256_srli_epi16(v, 2 * l), three);
                isum = _mm256_add_epi32(isum, Dot::scaled(t, lowbit_load(y[b].qs + 128 * h + 32 * l), 1, 1));
            }
        }
        int32_t a_sum = 0;
        for (int i = 0; i < kQK_K / 16; ++i) a_sum += y[b].bsums[i];
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(lowbit_hsum_i32(isum) - a_sum);
    }
    return sum;
}

// TQ1_0: trit n of byte v is ((v * 3^n) mod 256) * 3 >> 8, computed in 16-bit lanes for the
// low and high byte of each lane (pow: 3^n per 16-bit lane, the same for both bytes).
inline __m256i tq1_trits(__m256i v, __m256i pow) {
    const __m256i low = _mm256_set1_epi16(0xff), three = _mm256_set1_epi16(3);
    const __m256i lo = _mm256_and_si256(_mm256_mullo_epi16(_mm256_and_si256(v, low), pow), low);
    const __m256i hi = _mm256_and_si256(_mm256_mullo_epi16(_mm256_srli_epi16(v, 8), pow), low);
    const __m256i t_lo = _mm256_srli_epi16(_mm256_mullo_epi16(lo, three), 8);
    const __m256i t_hi = _mm256_srli_epi16(_mm256_mullo_epi16(hi, three), 8);
    return _mm256_or_si256(t_lo, _mm256_slli_epi16(t_hi, 8));
}

template <typename Dot>
float lowbit_dot_tq1_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockTQ1_0*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    static constexpr int16_t kPow3[5] = {1, 3, 9, 27, 81};
    // qh: bytes 4n..4n+3 of the 16 are its 4 bytes' trit n (elements 240 + 4n + m).
    const __m128i qh_spread = _mm_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
    const __m256i tail_pow = _mm256_setr_epi16(81, 81, 81, 81, 81, 81, 81, 81, 1, 1, 3, 3, 9, 9, 27, 27);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* qs = x[b].qs;
        __m256i isum = _mm256_setzero_si256();
        const __m256i head = lowbit_load(qs);  // elements 32n + m, n < 5
        for (int t = 0; t < 5; ++t) {
            const __m256i trits = tq1_trits(head, _mm256_set1_epi16(kPow3[t]));
            isum = _mm256_add_epi32(isum, Dot::scaled(trits, lowbit_load(y[b].qs + 32 * t), 1, 1));
        }
        const __m128i mid = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 32));  // 160 + 16n + m
        const __m256i mid2 = _mm256_set_m128i(mid, mid);
        for (int t = 0; t < 4; t += 2) {
            const __m256i pow = _mm256_set_m128i(_mm_set1_epi16(kPow3[t + 1]), _mm_set1_epi16(kPow3[t]));
            isum = _mm256_add_epi32(isum, Dot::scaled(tq1_trits(mid2, pow), lowbit_load(y[b].qs + 160 + 16 * t), 1, 1));
        }
        const __m128i qh = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(lowbit_u32(x[b].qh))), qh_spread);
        const __m256i tail = tq1_trits(_mm256_set_m128i(qh, mid), tail_pow);  // elements 224..255
        isum = _mm256_add_epi32(isum, Dot::scaled(tail, lowbit_load(y[b].qs + 224), 1, 1));
        int32_t a_sum = 0;
        for (int i = 0; i < kQK_K / 16; ++i) a_sum += y[b].bsums[i];
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(lowbit_hsum_i32(isum) - a_sum);
    }
    return sum;
}

// IQ1_M: as IQ1_S with grid + 1, a scale per 16 and a shift sign per 8 elements; the sums of
// the activations per 8 come from one VPMADDUBSW / VPMADDWD against ones.
template <typename Dot>
float lowbit_dot_iq1_m(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_M*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const __m256i one8 = _mm256_set1_epi8(1);
    const __m256i one16 = _mm256_set1_epi16(1);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint16_t w[4];
        __builtin_memcpy(w, x[b].scales, sizeof w);
        const uint16_t d_bits = static_cast<uint16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) | ((w[2] >> 4) & 0x0f00) |
                                                      (w[3] & 0xf000));
        __m256i isum = _mm256_setzero_si256();
        int32_t correction = 0, shift_sum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint8_t* q = x[b].qs + 4 * g;
            const uint32_t h0 = x[b].qh[2 * g], h1 = x[b].qh[2 * g + 1];
            const __m256i grid = _mm256_add_epi8(
                grid8x4(kIQ1SGrid, q[0] | ((h0 << 8) & 0x700), q[1] | ((h0 << 4) & 0x700), q[2] | ((h1 << 8) & 0x700),
                        q[3] | ((h1 << 4) & 0x700)),
                one8);
            const int s_lo = 2 * ((w[g / 2] >> (6 * (g % 2))) & 7) + 1;
            const int s_hi = 2 * ((w[g / 2] >> (6 * (g % 2) + 3)) & 7) + 1;
            const __m256i ya = lowbit_load(y[b].qs + 32 * g);
            isum = _mm256_add_epi32(isum, Dot::scaled(grid, ya, s_lo, s_hi));
            alignas(32) int32_t quad[8];  // sums of 4 activations
            _mm256_store_si256(reinterpret_cast<__m256i*>(quad),
                               _mm256_madd_epi16(_mm256_maddubs_epi16(one8, ya), one16));
            const uint32_t nibbles = h0 | (h1 << 8);
            for (int k = 0; k < 4; ++k) {
                const int32_t a8 = quad[2 * k] + quad[2 * k + 1];
                const int scale = k < 2 ? s_lo : s_hi;
                correction += scale * a8;
                shift_sum += scale * ((nibbles >> (4 * k)) & 8 ? -a8 : a8);
            }
        }
        const int32_t grid_sum = lowbit_hsum_i32(isum) - correction;
        sum += lowbit_half(d_bits) * y[b].d * (static_cast<float>(grid_sum) + kIQ1Delta * static_cast<float>(shift_sum));
    }
    return sum;
}

// ---- Q1_0 / Q2_0 / NVFP4 (against Q8_0) ------------------------------------------------

// Q1_0: sum over 32 of +-y (bit set: +), as ones . (y with signs) minus nothing.
template <typename Dot>
float lowbit_dot_q1_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ1_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK1_0; ++b) {
        const float d = lowbit_half(x[b].d);
        for (int k = 0; k < kQK1_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK1_0 / kQK) + k];
            // bit 1 -> +y, bit 0 -> -y: negate where the bit is clear.
            const __m256i ys = apply_signs(lowbit_load(a.qs), ~lowbit_u32(x[b].qs + 4 * k));
            const __m256 s = _mm256_cvtepi32_ps(Dot::scaled(ones, ys, 1, 1));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * lowbit_half(a.d)), s, acc);
        }
    }
    return lowbit_hsum(acc);
}

// Q2_0: q = b0 + 2 b1 from the two bit planes (bits 2(j % 4) and 2(j % 4) + 1 of byte j / 4),
// then q . y - sum y.
template <typename Dot>
float lowbit_dot_q2_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const __m256i spread_index = _mm256_set_epi64x(0x0707070706060606, 0x0505050504040404, 0x0303030302020202,
                                                   0x0101010100000000);
    const __m256i plane0 = _mm256_set1_epi32(0x40100401);
    const __m256i plane1 = _mm256_set1_epi32(static_cast<int>(0x80200802u));
    const __m256i ones = _mm256_set1_epi8(1), twos = _mm256_set1_epi8(2);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK2_0; ++b) {
        const float d = lowbit_half(x[b].d);
        for (int k = 0; k < kQK2_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK2_0 / kQK) + k];
            uint64_t bytes;
            __builtin_memcpy(&bytes, x[b].qs + 8 * k, 8);
            // Byte j of v = byte j / 4 of the 8 (within each 128-bit half: bytes 0..3 / 4..7).
            const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi64x(static_cast<long long>(bytes)), spread_index);
            const __m256i b0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, plane0), plane0), ones);
            const __m256i b1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, plane1), plane1), twos);
            const __m256i ya = lowbit_load(a.qs);
            const __m256i qy = Dot::scaled(_mm256_or_si256(b0, b1), ya, 1, 1);
            const __m256i sy = Dot::scaled(ones, ya, 1, 1);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * lowbit_half(a.d)), _mm256_cvtepi32_ps(_mm256_sub_epi32(qy, sy)),
                                  acc);
        }
    }
    return lowbit_hsum(acc);
}

// NVFP4 scale byte (unsigned E4M3) times 1/2, as ue4m3_to_float in kernels/blocks_lowbit.h
// (a private copy: an inline function shared with generic code must not be compiled here).
inline float lowbit_ue4m3(uint8_t v) {
    if (v == 0 || v == 0x7f) return 0.0f;
    const int exp = (v >> 3) & 0x0f, man = v & 7;
    const uint32_t bits = exp == 0 ? 0u : static_cast<uint32_t>((exp + 127 - 7 - 1) << 23) | static_cast<uint32_t>(man << 20);
    if (exp == 0) return static_cast<float>(man) * (1.0f / 1024.0f);
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

// NVFP4: two sub-blocks of 16 per Q8_0 block, one per 128-bit half; signed x signed via
// |x| and the sign of x moved onto y.
template <typename Dot>
float lowbit_dot_nvfp4(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockNVFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kE2M1Doubled));
    const __m128i mask = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_NVFP4; ++b) {
        for (int k = 0; k < 2; ++k) {
            const BlockQ8_0& a = y[2 * b + k];
            const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs + 16 * k));
            const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, mask));
            const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), mask));
            const __m256i xv = _mm256_set_m128i(_mm_unpackhi_epi64(lo, hi), _mm_unpacklo_epi64(lo, hi));
            const __m256i ys = _mm256_sign_epi8(lowbit_load(a.qs), xv);
            const __m256i s = Dot::scaled(_mm256_sign_epi8(xv, xv), ys, 1, 1);
            const float dy = lowbit_half(a.d);
            const __m256 scales = _mm256_set_m128(_mm_set1_ps(lowbit_ue4m3(x[b].d[2 * k + 1]) * dy),
                                                  _mm_set1_ps(lowbit_ue4m3(x[b].d[2 * k]) * dy));
            acc = _mm256_fmadd_ps(scales, _mm256_cvtepi32_ps(s), acc);
        }
    }
    return lowbit_hsum(acc);
}

// The lookup shared by both levels.
template <typename Dot>
VecDotFn lowbit_lookup(TensorType type) {
    switch (type) {
        case TensorType::kIQ2_XXS: return lowbit_dot_lattice<Dot, IQ2XXSDecoder>;
        case TensorType::kIQ2_XS: return lowbit_dot_lattice<Dot, IQ2XSDecoder>;
        case TensorType::kIQ2_S: return lowbit_dot_lattice<Dot, IQ2SDecoder>;
        case TensorType::kIQ3_XXS: return lowbit_dot_lattice<Dot, IQ3XXSDecoder>;
        case TensorType::kIQ3_S: return lowbit_dot_lattice<Dot, IQ3SDecoder>;
        case TensorType::kIQ1_S: return lowbit_dot_iq1_s<Dot>;
        case TensorType::kTQ2_0: return lowbit_dot_tq2_0<Dot>;
        case TensorType::kTQ1_0: return lowbit_dot_tq1_0<Dot>;
        case TensorType::kIQ1_M: return lowbit_dot_iq1_m<Dot>;
        case TensorType::kQ1_0: return lowbit_dot_q1_0<Dot>;
        case TensorType::kQ2_0: return lowbit_dot_q2_0<Dot>;
        case TensorType::kNVFP4: return lowbit_dot_nvfp4<Dot>;
        default: return nullptr;
    }
}
