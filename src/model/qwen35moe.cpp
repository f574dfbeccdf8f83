// Qwen 3.5 / 3.6 mixture of experts (Qwen3.5-35B-A3B and larger): the qwen35 hybrid graph
// (qwen35.cpp: Gated DeltaNet blocks between gated full-attention blocks) with, in every
// block, the softmax top-k mixture of experts (ops/moe.h, weights renormalised to sum 1)
// plus one shared SwiGLU expert whose output is scaled by sigmoid(w_gate_shexp . m).
// GGUF tensors beyond qwen35's attention/DeltaNet ones: blk.N.{ffn_gate_inp,
// ffn_{gate,up,down}_exps, ffn_gate_inp_shexp, ffn_{gate,up,down}_shexp}.
#include "model/architecture.h"

namespace mmojo {

std::unique_ptr<Model> create_qwen35moe_model() { return create_qwen35_model_with_moe(); }

}  // namespace mmojo
