// AArch64 dot products of the low-bit formats (quant/blocks_lowbit.h), written once for two
// levels through the int8 dot policy of kernels_neon_common.h (`Dot::dot16`: 4 s32 lanes
// whose sum is the dot of 16 int8 pairs): kernels_lowbit_neon.cpp (widening multiplies) and
// kernels_lowbit_neondot.cpp (SDOT). Each kernel computes what the generic kernel of the
// same type in quant_*.cpp computes; tools/simd_selfcheck.cpp (under qemu) compares them.
//
// Each group of 16 weights is built as signed int8 lanes (grid points gathered with scalar
// loads from quant/iq_grids.h, signs applied with VTST + conditional negate), dotted with the
// activations and weighted by its integer scale in s32, exact until the super-block's
// float scale.
//
// Include only inside an anonymous namespace of a file built with the level's flags (see
// quant/simd_kernels.h): everything here is then private to that file.

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
        default: return nullptr;
    }
}
