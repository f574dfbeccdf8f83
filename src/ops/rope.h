// Rotary position embedding (RoFormer, Su et al. 2021).
//
// Pair i of a head (i < n_dims / 2) is rotated by the angle
//     theta_i = pos * freq_scale * freq_base^(-2i / n_dims) / freq_factors[i],
// and cos/sin are multiplied by attn_factor. freq_scale is 1 / the linear scaling factor;
// freq_factors are the per-dimension divisors of Llama-3's `rope_freqs` (or of LongRoPE).
// The two pair layouts of GGUF models: kNormal rotates (2i, 2i+1) (llama), kNeox rotates
// (i, i + n_dims/2) (GPT-NeoX, qwen, gemma, phi3). Dimensions from n_dims to head_dim are
// left unchanged. Angles are computed in double and rounded once.
#pragma once

#include <cstdint>

namespace mmojo {

enum class RopeLayout : int32_t { kNormal = 0, kNeox = 2 };

struct RopeConfig {
    int32_t n_dims = 0;            // rotated dimensions per head: even, <= head_dim
    RopeLayout layout = RopeLayout::kNormal;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;
    float attn_factor = 1.0f;
    const float* freq_factors = nullptr;   // n_dims / 2 floats, or null
    // YaRN (Peng et al. 2023), as ggml's rope: with yarn_ext_factor != 0, pair i blends the
    // scaled angle theta * freq_scale and the unscaled theta by
    //     r = ext_factor * (1 - clamp((i - yarn_low) / max(0.001, yarn_high - yarn_low), 0, 1))
    // (r = 1 keeps the fast-rotating pairs unscaled) and cos/sin get the extra magnitude
    // factor 1 + 0.1 ln(1 / freq_scale). yarn_low/high: rope_yarn_corr_dims below.
    float yarn_ext_factor = 0.0f;
    float yarn_low = 0.0f;
    float yarn_high = 0.0f;
};

// The pairs where YaRN's blend starts and ends: for beta rotations over the original
// context, dim(beta) = n_dims ln(n_ctx_orig / (2 pi beta)) / (2 ln base);
// low = max(0, floor(dim(beta_fast))), high = min(n_dims - 1, ceil(dim(beta_slow))).
void rope_yarn_corr_dims(int32_t n_dims, uint32_t n_ctx_orig, float freq_base, float beta_fast,
                         float beta_slow, float& low, float& high);

// cos and sin (n_dims / 2 each) of the angles at position `pos`.
void rope_angles(const RopeConfig& config, int32_t pos, float* cos_out, float* sin_out);

// Rotates the first n_dims of each of n_heads heads, head_dim floats apart, in place.
void rope_apply(const RopeConfig& config, float* x, int64_t n_heads, int64_t head_dim,
                const float* cos_table, const float* sin_table);

}  // namespace mmojo
