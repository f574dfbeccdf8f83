// IEEE 754 binary16 (F16) and bfloat16 (BF16) <-> binary32 conversions, in plain integer
// arithmetic so that results do not depend on the CPU or the FP environment.
//
// F16:  1 sign, 5 exponent (bias 15), 10 mantissa bits. Largest finite 65504, smallest
//       normal 2^-14, smallest subnormal 2^-24.
// BF16: the upper 16 bits of a binary32 (1 sign, 8 exponent, 7 mantissa bits).
//
// float -> half rounds to nearest, ties to even, with overflow to infinity and gradual
// underflow into subnormals, which is what x86 F16C (`vcvtps2ph` with imm 0) and ARM
// `fcvt` do. A NaN stays a NaN of the same sign, made quiet, keeping the top payload bits
// (as F16C does). half -> float is exact.
//
// float -> bfloat16 rounds to nearest even and keeps subnormals; a NaN is made quiet (bit 6
// of the result) and keeps its sign and top payload bits, as ggml_compute_fp32_to_bf16
// does. (AVX512-BF16's `vcvtneps2bf16` would flush subnormal inputs to zero; we do not.)
//
// These are inline functions with external linkage: do not include this header from a
// per-ISA file (*_avx2.cpp, ...), or the linker may keep a copy compiled with that ISA's
// flags for everyone (see kernels/simd_kernels.h).
#pragma once

#include <cstdint>
#include <cstring>

namespace mmojo {

inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float f32_from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp_mant = h & 0x7fffu;
    if (exp_mant >= 0x7c00u) {  // Inf or NaN: all-ones exponent, mantissa moved up
        return f32_from_bits(sign | 0x7f800000u | ((exp_mant & 0x3ffu) << 13));
    }
    if (exp_mant >= 0x0400u) {  // normal: rebias the exponent from 15 to 127
        return f32_from_bits(sign | ((exp_mant << 13) + ((127u - 15u) << 23)));
    }
    // Zero or subnormal: mantissa * 2^-24, exact in binary32.
    const float magnitude = static_cast<float>(exp_mant) * 5.9604644775390625e-08f;  // 2^-24
    return f32_from_bits(sign | f32_bits(magnitude));
}

inline uint16_t f32_to_f16(float f) {
    const uint32_t u = f32_bits(f);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) {  // NaN: quiet bit set, top 9 payload bits kept
        return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    }
    if (a >= 0x477ff000u) {  // >= 65520 (halfway between 65504 and 2^16) or Inf
        return static_cast<uint16_t>(sign | 0x7c00u);
    }
    if (a >= 0x38800000u) {  // >= 2^-14: normal half
        // Rebias the exponent (127 -> 15), then round away the low 13 mantissa bits to
        // nearest even. A carry out of the mantissa correctly bumps the exponent.
        const uint32_t rebased = a - ((127u - 15u) << 23);
        const uint32_t rounded = rebased + 0x0fffu + ((rebased >> 13) & 1u);
        return static_cast<uint16_t>(sign | (rounded >> 13));
    }
    if (a <= 0x33000000u) {  // <= 2^-25 (half of the smallest subnormal): ties to even 0
        return sign;
    }
    // Subnormal half: value = m * 2^(e-150) with the implicit bit; the half unit is 2^-24,
    // so the result is m >> (126 - e), rounded to nearest even. Here 102 <= e <= 112.
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // 14..24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u))) ++q;  // may become 0x400: min normal
    return static_cast<uint16_t>(sign | q);
}

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
    const uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep sign and top payload, force quiet
        return static_cast<uint16_t>((u >> 16) | 0x0040u);
    }
    // Round to nearest even on the low 16 bits; overflow carries into Inf as it should.
    // The sum cannot wrap: the largest finite input 0x7f7fffff + 0x8000 < 2^32.
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace mmojo
