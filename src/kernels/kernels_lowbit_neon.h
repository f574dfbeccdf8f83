// AArch64 dot products of the low-bit formats (kernels/blocks_lowbit.h), written once for two
// levels through the int8 dot policy of kernels_neon_common.h (`Dot::dot16`: 4 s32 lanes
// whose sum is the dot of 16 int8 pairs): kernels_lowbit_neon.cpp (widening multiplies) and
// kernels_lowbit_neondot.cpp (SDOT). Each kernel computes what the generic kernel of the
// same type in quant_*.cpp computes; tools/simd_selfcheck.cpp (under qemu) compares them.
//
// Each group of 16 weights is built as signed int8 lanes (grid points gathered with scalar
// loads from kernels/iq_grids.h, signs applied with VTST + conditional negate), dotted with the
// activations and weighted by its integer scale in s32, exact until the super-block's
// float scale.
//
// Include only inside an anonymous namespace of a file built with the level's flags (see
// kernels/simd_kernels.h): everything here is then private to that file.

inline float lowbit_half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

inline uint32_t lowbit_u32(const void* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

// g with lanes negated where bit (i % 8) of sign byte s_lo (lanes 0..7) / s_hi (8..15) is set.
inline int8x16_t lowbit_signed(uint8x16_t g, uint8_t s_lo, uint8_t s_hi) {
    static const uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t neg = vtstq_u8(vcombine_u8(vdup_n_u8(s_lo), vdup_n_u8(s_hi)), vld1q_u8(kBits));
    const int8x16_t v = vreinterpretq_s8_u8(g);
    return vbslq_s8(neg, vnegq_s8(v), v);
}

inline uint8x16_t lowbit_grid8x2(const uint64_t* grid, uint32_t i0, uint32_t i1) {
    return vcombine_u8(vcreate_u8(grid[i0]), vcreate_u8(grid[i1]));
}

inline uint8x16_t lowbit_grid4x4(const uint32_t* grid, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
    const uint32_t v[4] = {grid[i0], grid[i1], grid[i2], grid[i3]};
    return vreinterpretq_u8_u32(vld1q_u32(v));
}

inline int32_t lowbit_sum(int32x4_t v) { return vaddvq_s32(v); }

// The 4 sign bytes of 4 x 7-bit kSignsIQ2 indices (bits 0..27 of w).
inline void lowbit_iq2_signs(uint32_t w, uint8_t* s) {
    for (int l = 0; l < 4; ++l) s[l] = kSignsIQ2.v[(w >> (7 * l)) & 127];
}

template <typename Dot>
float lowbit_dot_iq2_xxs(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ2_XXS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    uint8_t s[4];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* qs = reinterpret_cast<const uint8_t*>(&x[b]) + offsetof(BlockIQ2_XXS, qs);
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint32_t w = lowbit_u32(qs + 8 * g + 4);
            lowbit_iq2_signs(w, s);
            const uint8_t* a = qs + 8 * g;
            const int8x16_t x0 = lowbit_signed(lowbit_grid8x2(kIQ2XXSGrid, a[0], a[1]), s[0], s[1]);
            const int8x16_t x1 = lowbit_signed(lowbit_grid8x2(kIQ2XXSGrid, a[2], a[3]), s[2], s[3]);
            const int32x4_t d = vaddq_s32(Dot::dot16(x0, vld1q_s8(y[b].qs + 32 * g)),
                                          Dot::dot16(x1, vld1q_s8(y[b].qs + 32 * g + 16)));
            isum += (2 * static_cast<int>(w >> 28) + 1) * lowbit_sum(d);
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

template <typename Dot>
float lowbit_dot_iq2_xs(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ2_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* qs = reinterpret_cast<const uint8_t*>(&x[b]) + offsetof(BlockIQ2_XS, qs);
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int sc = x[b].scales[g];
            for (int h = 0; h < 2; ++h) {
                const uint32_t v = lowbit_u32(qs + 8 * g + 4 * h);
                const int8x16_t xs = lowbit_signed(lowbit_grid8x2(kIQ2XSGrid, v & 511, (v >> 16) & 511),
                                                   kSignsIQ2.v[(v >> 9) & 127], kSignsIQ2.v[v >> 25]);
                const int s = 2 * (h ? sc >> 4 : sc & 15) + 1;
                isum += s * lowbit_sum(Dot::dot16(xs, vld1q_s8(y[b].qs + 32 * g + 16 * h)));
            }
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

template <typename Dot>
float lowbit_dot_iq2_s(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ2_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int sc = x[b].scales[g];
            const uint32_t qh = x[b].qh[g];
            for (int h = 0; h < 2; ++h) {
                const uint8_t* q = x[b].qs + 4 * g + 2 * h;
                const uint8_t* sg = x[b].qs + kQK_K / 8 + 4 * g + 2 * h;
                const uint32_t i0 = q[0] | (((qh >> (4 * h)) & 3) << 8);
                const uint32_t i1 = q[1] | (((qh >> (4 * h + 2)) & 3) << 8);
                const int8x16_t xs = lowbit_signed(lowbit_grid8x2(kIQ2SGrid, i0, i1), sg[0], sg[1]);
                const int s = 2 * (h ? sc >> 4 : sc & 15) + 1;
                isum += s * lowbit_sum(Dot::dot16(xs, vld1q_s8(y[b].qs + 32 * g + 16 * h)));
            }
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

template <typename Dot>
float lowbit_dot_iq3_xxs(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ3_XXS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    uint8_t s[4];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint32_t w = lowbit_u32(x[b].qs + kQK_K / 4 + 4 * g);
            lowbit_iq2_signs(w, s);
            const uint8_t* q = x[b].qs + 8 * g;
            const int8x16_t x0 = lowbit_signed(lowbit_grid4x4(kIQ3XXSGrid, q[0], q[1], q[2], q[3]), s[0], s[1]);
            const int8x16_t x1 = lowbit_signed(lowbit_grid4x4(kIQ3XXSGrid, q[4], q[5], q[6], q[7]), s[2], s[3]);
            const int32x4_t d = vaddq_s32(Dot::dot16(x0, vld1q_s8(y[b].qs + 32 * g)),
                                          Dot::dot16(x1, vld1q_s8(y[b].qs + 32 * g + 16)));
            isum += (2 * static_cast<int>(w >> 28) + 1) * lowbit_sum(d);
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.25f * sum;
}

template <typename Dot>
float lowbit_dot_iq3_s(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ3_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    uint32_t i[8];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint32_t qh = x[b].qh[g];
            for (int k = 0; k < 8; ++k) i[k] = x[b].qs[8 * g + k] | (((qh >> k) & 1) << 8);
            const uint8_t* sg = x[b].signs + 4 * g;
            const int8x16_t x0 = lowbit_signed(lowbit_grid4x4(kIQ3SGrid, i[0], i[1], i[2], i[3]), sg[0], sg[1]);
            const int8x16_t x1 = lowbit_signed(lowbit_grid4x4(kIQ3SGrid, i[4], i[5], i[6], i[7]), sg[2], sg[3]);
            const int32x4_t d = vaddq_s32(Dot::dot16(x0, vld1q_s8(y[b].qs + 32 * g)),
                                          Dot::dot16(x1, vld1q_s8(y[b].qs + 32 * g + 16)));
            isum += (1 + 2 * ((x[b].scales[g / 2] >> (4 * (g % 2))) & 15)) * lowbit_sum(d);
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return sum;
}

// TQ2_0: trits 0..2 minus 1 as int8, 16 at a time.
template <typename Dot>
float lowbit_dot_tq2_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockTQ2_0*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t three = vdupq_n_u8(3);
    const int8x16_t one = vdupq_n_s8(1);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; ++h) {
            for (int half = 0; half < 2; ++half) {
                const uint8x16_t v = vld1q_u8(x[b].qs + 32 * h + 16 * half);
                for (int l = 0; l < 4; ++l) {
                    uint8x16_t t = v;
                    if (l == 1) t = vshrq_n_u8(v, 2);
                    if (l == 2) t = vshrq_n_u8(v, 4);
                    if (l == 3) t = vshrq_n_u8(v, 6);
                    const int8x16_t w = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(t, three)), one);
                    acc = vaddq_s32(acc, Dot::dot16(w, vld1q_s8(y[b].qs + 128 * h + 32 * l + 16 * half)));
                }
            }
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(vaddvq_s32(acc));
    }
    return sum;
}

// NVFP4: doubled E2M1 values by table lookup, one sub-block of 16 per dot16.
inline float lowbit_ue4m3(uint8_t v) {
    if (v == 0 || v == 0x7f) return 0.0f;
    const int exp = (v >> 3) & 0x0f, man = v & 7;
    if (exp == 0) return static_cast<float>(man) * (1.0f / 1024.0f);
    const uint32_t bits = static_cast<uint32_t>((exp + 119) << 23) | static_cast<uint32_t>(man << 20);
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

template <typename Dot>
float lowbit_dot_nvfp4(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockNVFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int8x16_t table = vld1q_s8(kE2M1Doubled);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_NVFP4; ++b) {
        for (int s = 0; s < kQK_NVFP4 / kQK_NVFP4_SUB; ++s) {
            const BlockQ8_0& a = y[2 * b + s / 2];
            const uint8x8_t q = vld1_u8(x[b].qs + 8 * s);
            const uint8x16_t idx = vcombine_u8(vand_u8(q, vdup_n_u8(15)), vshr_n_u8(q, 4));
            const int8x16_t w = vqtbl1q_s8(table, idx);
            const int32_t d = vaddvq_s32(Dot::dot16(w, vld1q_s8(a.qs + 16 * (s % 2))));
            sum += lowbit_ue4m3(x[b].d[s]) * lowbit_half(a.d) * static_cast<float>(d);
        }
    }
    return sum;
}

// IQ1_S / IQ1_M: 8 * x / (d * scale) = 8 * grid + (shift sign), an int8 in -9..9, so a group's
// shifted grid is one integer dot; the 1/8 goes into the float factor.
inline int8x16_t lowbit_iq1_points(uint64_t p0, uint64_t p1, bool neg0, bool neg1) {
    const int8x16_t grid = vreinterpretq_s8_u8(vcombine_u8(vcreate_u8(p0), vcreate_u8(p1)));
    const int8x16_t shift = vcombine_s8(vdup_n_s8(neg0 ? -1 : 1), vdup_n_s8(neg1 ? -1 : 1));
    return vaddq_s8(vshlq_n_s8(grid, 3), shift);
}

template <typename Dot>
float lowbit_dot_iq1_s(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const uint32_t h = x[b].qh[g];
            const uint8_t* q = x[b].qs + 4 * g;
            const bool neg = (h & 0x8000) != 0;
            const int8x16_t w0 = lowbit_iq1_points(kIQ1SGrid[q[0] | ((h << 8) & 0x700)],
                                                   kIQ1SGrid[q[1] | ((h << 5) & 0x700)], neg, neg);
            const int8x16_t w1 = lowbit_iq1_points(kIQ1SGrid[q[2] | ((h << 2) & 0x700)],
                                                   kIQ1SGrid[q[3] | ((h >> 1) & 0x700)], neg, neg);
            const int32x4_t d = vaddq_s32(Dot::dot16(w0, vld1q_s8(y[b].qs + 32 * g)),
                                          Dot::dot16(w1, vld1q_s8(y[b].qs + 32 * g + 16)));
            isum += (2 * static_cast<int>((h >> 12) & 7) + 1) * vaddvq_s32(d);
        }
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

template <typename Dot>
float lowbit_dot_iq1_m(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_M*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        uint16_t w[4];
        __builtin_memcpy(w, x[b].scales, sizeof w);
        const uint16_t d_bits = static_cast<uint16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) | ((w[2] >> 4) & 0x0f00) |
                                                      (w[3] & 0xf000));
        int32_t isum = 0;
        for (int k = 0; k < kQK_K / 16; ++k) {  // 16 weights: two grid points, one scale
            const uint32_t h = x[b].qh[k];        // nibbles of points 2k and 2k + 1
            const uint8_t* q = x[b].qs + 2 * k;
            const int8x16_t pts = lowbit_iq1_points(kIQ1SGrid[q[0] | ((h << 8) & 0x700)],
                                                    kIQ1SGrid[q[1] | ((h << 4) & 0x700)], (h & 0x08) != 0,
                                                    (h & 0x80) != 0);
            const int scale = 2 * ((w[k / 4] >> (3 * (k % 4))) & 7) + 1;
            isum += scale * vaddvq_s32(Dot::dot16(pts, vld1q_s8(y[b].qs + 16 * k)));
        }
        sum += lowbit_half(d_bits) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

// TQ1_0: trit n of byte v = ((v * 3^n) mod 256) * 3 >> 8 (VMUL wraps mod 256, VMULL widens).
inline int8x16_t lowbit_tq1_trits(uint8x16_t v, uint8x16_t pow) {
    const uint8x16_t q = vmulq_u8(v, pow);
    const uint8x16_t three = vdupq_n_u8(3);
    const uint8x8_t lo = vshrn_n_u16(vmull_u8(vget_low_u8(q), vget_low_u8(three)), 8);
    const uint8x8_t hi = vshrn_n_u16(vmull_high_u8(q, three), 8);
    return vsubq_s8(vreinterpretq_s8_u8(vcombine_u8(lo, hi)), vdupq_n_s8(1));
}

template <typename Dot>
float lowbit_dot_tq1_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockTQ1_0*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    static const uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    static const uint8_t kTailPow[16] = {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27};
    static const uint8_t kTailSpread[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32x4_t acc = vdupq_n_s32(0);
        for (int half = 0; half < 2; ++half) {  // qs[0..31]: elements 32t + m
            const uint8x16_t v = vld1q_u8(x[b].qs + 16 * half);
            for (int t = 0; t < 5; ++t) {
                const int8x16_t w = lowbit_tq1_trits(v, vdupq_n_u8(kPow3[t]));
                acc = vaddq_s32(acc, Dot::dot16(w, vld1q_s8(y[b].qs + 32 * t + 16 * half)));
            }
        }
        const uint8x16_t mid = vld1q_u8(x[b].qs + 32);  // elements 160 + 16t + m
        for (int t = 0; t < 5; ++t) {
            const int8x16_t w = lowbit_tq1_trits(mid, vdupq_n_u8(kPow3[t]));
            acc = vaddq_s32(acc, Dot::dot16(w, vld1q_s8(y[b].qs + 160 + 16 * t)));
        }
        uint8_t qh[16] = {0};
        __builtin_memcpy(qh, x[b].qh, 4);
        const uint8x16_t tail = vqtbl1q_u8(vld1q_u8(qh), vld1q_u8(kTailSpread));  // 240 + 4t + m
        acc = vaddq_s32(acc, Dot::dot16(lowbit_tq1_trits(tail, vld1q_u8(kTailPow)), vld1q_s8(y[b].qs + 240)));
        sum += lowbit_half(x[b].d) * y[b].d * static_cast<float>(vaddvq_s32(acc));
    }
    return sum;
}

// Q1_0: +-1 from the bits; Q2_0: q - 1 from 2-bit fields, both against Q8_0.
template <typename Dot>
float lowbit_dot_q1_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ1_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    static const uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bits = vld1q_u8(kBits);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK1_0; ++b) {
        const float d = lowbit_half(x[b].d);
        for (int k = 0; k < kQK1_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK1_0 / kQK) + k];
            int32x4_t acc = vdupq_n_s32(0);
            for (int h = 0; h < 2; ++h) {
                const uint8_t* q = x[b].qs + 4 * k + 2 * h;
                const uint8x16_t set = vtstq_u8(vcombine_u8(vdup_n_u8(q[0]), vdup_n_u8(q[1])), bits);
                const int8x16_t w = vbslq_s8(set, vdupq_n_s8(1), vdupq_n_s8(-1));
                acc = vaddq_s32(acc, Dot::dot16(w, vld1q_s8(a.qs + 16 * h)));
            }
            sum += d * lowbit_half(a.d) * static_cast<float>(vaddvq_s32(acc));
        }
    }
    return sum;
}

template <typename Dot>
float lowbit_dot_q2_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    static const uint8_t kSpread[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    static const int8_t kShift[16] = {0, -2, -4, -6, 0, -2, -4, -6, 0, -2, -4, -6, 0, -2, -4, -6};
    const uint8x16_t spread = vld1q_u8(kSpread);
    const int8x16_t shift = vld1q_s8(kShift);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK2_0; ++b) {
        const float d = lowbit_half(x[b].d);
        for (int k = 0; k < kQK2_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK2_0 / kQK) + k];
            int32x4_t acc = vdupq_n_s32(0);
            for (int h = 0; h < 2; ++h) {
                uint8_t four[16] = {0};
                __builtin_memcpy(four, x[b].qs + 8 * k + 4 * h, 4);
                const uint8x16_t bytes = vqtbl1q_u8(vld1q_u8(four), spread);
                const uint8x16_t q = vandq_u8(vshlq_u8(bytes, shift), vdupq_n_u8(3));
                const int8x16_t w = vsubq_s8(vreinterpretq_s8_u8(q), vdupq_n_s8(1));
                acc = vaddq_s32(acc, Dot::dot16(w, vld1q_s8(a.qs + 16 * h)));
            }
            sum += d * lowbit_half(a.d) * static_cast<float>(vaddvq_s32(acc));
        }
    }
    return sum;
}

template <typename Dot>
VecDotFn lowbit_lookup(TensorType type) {
    switch (type) {
        case TensorType::kIQ2_XXS: return lowbit_dot_iq2_xxs<Dot>;
        case TensorType::kIQ2_XS: return lowbit_dot_iq2_xs<Dot>;
        case TensorType::kIQ2_S: return lowbit_dot_iq2_s<Dot>;
        case TensorType::kIQ3_XXS: return lowbit_dot_iq3_xxs<Dot>;
        case TensorType::kIQ3_S: return lowbit_dot_iq3_s<Dot>;
        case TensorType::kTQ2_0: return lowbit_dot_tq2_0<Dot>;
        case TensorType::kNVFP4: return lowbit_dot_nvfp4<Dot>;
        case TensorType::kIQ1_S: return lowbit_dot_iq1_s<Dot>;
        case TensorType::kIQ1_M: return lowbit_dot_iq1_m<Dot>;
        case TensorType::kTQ1_0: return lowbit_dot_tq1_0<Dot>;
        case TensorType::kQ1_0: return lowbit_dot_q1_0<Dot>;
        case TensorType::kQ2_0: return lowbit_dot_q2_0<Dot>;
        default: return nullptr;
    }
}
