// What distinguishes the Gemma generations in the shared Gemma graph (gemma2.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "model/model.h"

namespace mmojo {

struct GemmaVariant {
    bool qk_norm = false;          // per-head RMSNorm of q and k (gemma3)
    bool always_softcap = true;    // gemma2: caps default to 50 / 30; else only when given
    uint32_t window_period = 2;    // default attention.sliding_window_pattern
    float local_rope_base = 0.0f;  // > 0: local blocks use rope.freq_base_swa (this default),
                                   // unscaled; 0: local blocks share the global RoPE
};

std::unique_ptr<Model> create_gemma_model(const GemmaVariant& variant);

}  // namespace mmojo
