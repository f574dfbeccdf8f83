// Qwen3 (Qwen team 2025, "Qwen3 Technical Report"): the Qwen2 graph (qwen2.cpp) without
// q/k/v biases, plus an RMSNorm of every head of q and of k before RoPE ("QK-norm"):
//
//   q_h = RoPE(RMSNorm(W_q n)_h * g_q),  k_h = RoPE(RMSNorm(W_k n)_h * g_k)   (per head h)
//
// The head size comes from attention.key_length and may differ from n_embd / n_head
// (the test model: 4 heads of 64 on n_embd 128, so W_o maps 256 -> 128).
// GGUF tensors: those of qwen2 plus blk.N.attn_q_norm / attn_k_norm [head_dim_k].
#include "model/architecture.h"

namespace mmojo {

std::unique_ptr<Model> create_qwen3_model() { return create_qwen_model_with_qk_norm(); }

}  // namespace mmojo
