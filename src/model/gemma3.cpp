// Gemma 3 (Gemma Team 2025, "Gemma 3 Technical Report"): the Gemma 2 graph (gemma2.cpp)
// with three changes:
//  - QK-norm instead of attention soft-capping: q_h = RMSNorm(q_h) * g_q, k_h likewise,
//    before RoPE; a final logit cap only when final_logit_softcapping is given;
//  - 5 local blocks per global one (window pattern period 6, so blocks 0-4 are local and
//    block 5 is global);
//  - per-kind RoPE: global blocks use rope.freq_base (1e6) with the file's linear scaling
//    (position / rope.scaling.factor), local blocks rope.freq_base_swa (default 10000),
//    unscaled.
#include "model/architecture.h"
#include "model/gemma.h"

namespace mmojo {

std::unique_ptr<Model> create_gemma3_model() {
    return create_gemma_model({.qk_norm = true, .always_softcap = false, .window_period = 6,
                               .local_rope_base = 10000.0f});
}

}  // namespace mmojo
