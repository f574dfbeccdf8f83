#!/usr/bin/env python3
"""Make the small random-weight GGUF models of the attention-only families' fidelity tests.

The shared pieces (tokenizer copy, the Tensors helper that draws and quantizes weights in
call order, the type table) come from make_moe_test_model.py. One function per family
writes the keys and tensors llama.cpp reads for that architecture (names from the `gguf`
package's tables; llama.cpp loading the file is the check that they are right). Every
feature that distinguishes the family is present:

  smollm3   the LLaMA block with RoPE (pairs (2i, 2i+1)) in blocks 0-2 and none in block 3
            (llama.cpp: every fourth block is NoPE); tied output (no output.weight).
  olmo2     no pre-norms: RMSNorm after attention and after the feed-forward
            (post_attention_norm, post_ffw_norm); RMSNorm over the whole q and k
            projections (attn_q_norm [n_head * head_dim], attn_k_norm [n_head_kv *
            head_dim]); NEOX RoPE; OLMo 3's sliding window (8 positions in blocks 0-2,
            block 3 global; llama.cpp rotates them with rope.freq_base), and YaRN (factor 4) on the
            global block only.
  mistral3  YaRN (factor 16 over an original context of 16, beta_fast 32, beta_slow 1,
            yarn_log_multiplier 1) and attention temperature tuning
            (attention.temperature_scale 0.1: q * (1 + 0.1 ln(floor(pos / 16) + 1))).
  gemma4    (dense) 6 blocks, sliding (window 8) / global per a boolean
            sliding_window_pattern [T, F, T, F, T, F]; head size 64 in sliding blocks
            (key_length_swa) and 128 in global ones (key_length), each kind with its own
            RoPE (freq_base_swa 10000 over 64 dims; freq_base 1e6 over 128 dims with
            rope_freqs making it proportional: the upper half of the pairs not rotated);
            per-head QK-norm, V RMS-normed without weight, no V projection in global blocks
            (V = K before its norm), attention scale 1; the last 2 blocks share the KV of
            blocks 2 (sliding) and 3 (global) (attention.shared_kv_layers) and have a
            double-wide FFN (feed_forward_length per block); per-layer embeddings
            (embedding_length_per_layer_input 128: per_layer_token_embd,
            per_layer_model_proj, per_layer_proj_norm, blk.N.inp_gate / proj / post_norm);
            GeGLU with post-norms; layer_output_scale; final logit soft-cap 15; tied output.

Sizes: n_embd 256, 4 heads of 64 (2 KV heads), n_ff 512, 4 blocks, the 512-token
stories260K vocabulary: every row is a multiple of 256, so k-quants would apply too; the
quantized files use Q8_0 (the gguf package quantizes it; its K-quant quantizers are
missing). Deterministic: the same seed always gives the same bytes; the reference JSON
records the sha256.

Usage: make_family_test_model.py --arch smollm3 --type F16 out.gguf
       make_family_test_model.py --all OUT_DIR      (every file the tests use)
"""
import math
import os
import sys

import numpy as np
from gguf import RopeScalingType

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_moe_test_model as base  # noqa: E402

T = base.T
TYPES = {k: base.TYPES[k] for k in ("F16", "Q8_0")}

TEST_MODELS = [
    ("smollm3", "F16"), ("smollm3", "Q8_0"),
    ("olmo2", "F16"), ("olmo2", "Q8_0"),
    ("mistral3", "F16"), ("mistral3", "Q8_0"),
    ("gemma4", "F16"), ("gemma4", "Q8_0"),
]

N_EMBD, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_LAYER = 256, 4, 2, 64, 512, 4
CTX = 256
EMBD_SD = 4.0 / math.sqrt(N_EMBD)   # logits with a standard deviation of about 4

# Ablations (scripts/record_family_reference.py runs llama.cpp on each to show that the
# feature changes the output): the same file with one feature switched off, same draws.
ABLATIONS = {
    "smollm3": ["rope_everywhere"],
    "olmo2": ["no_window", "no_yarn", "per_head_norm_weights_one"],
    "mistral3": ["no_yarn", "no_temperature"],
    "gemma4": ["no_window", "no_per_layer_input", "unit_output_scale", "no_softcap", "no_rope_freqs"],
}
ABLATE = base.ABLATE


def model_name(arch, type_name):
    return f"fam-{arch}-{type_name.lower()}"


def common_keys(w):
    w.add_context_length(CTX)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(N_LAYER)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-6)


def qkvo(t, i):
    t.matrix(T.ATTN_Q, (N_HEAD * HEAD_DIM, N_EMBD), bid=i)
    t.matrix(T.ATTN_K, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
    t.matrix(T.ATTN_V, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
    t.matrix(T.ATTN_OUT, (N_EMBD, N_HEAD * HEAD_DIM), bid=i)


def swiglu(t, i):
    t.matrix(T.FFN_GATE, (N_FF, N_EMBD), bid=i)
    t.matrix(T.FFN_UP, (N_FF, N_EMBD), bid=i)
    t.matrix(T.FFN_DOWN, (N_EMBD, N_FF), bid=i)


def llama_blocks(t):
    for i in range(N_LAYER):
        t.vector(T.ATTN_NORM, N_EMBD, bid=i)
        qkvo(t, i)
        t.vector(T.FFN_NORM, N_EMBD, bid=i)
        swiglu(t, i)


def arch_smollm3(w, t, n_vocab):
    common_keys(w)
    w.add_rope_freq_base(10000.0)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    llama_blocks(t)
    t.vector(T.OUTPUT_NORM, N_EMBD)   # tied output: no output.weight


OLMO2_WINDOW, OLMO2_YARN, OLMO2_ORIG_CTX = 8, 4.0, 64


def arch_olmo2(w, t, n_vocab):
    common_keys(w)
    w.add_rope_freq_base(500000.0)
    if "no_yarn" not in ABLATE:
        w.add_rope_scaling_type(RopeScalingType.YARN)
        w.add_rope_scaling_factor(OLMO2_YARN)
        w.add_rope_scaling_orig_ctx_len(OLMO2_ORIG_CTX)
    if "no_window" not in ABLATE:
        w.add_sliding_window(OLMO2_WINDOW)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    ones = 1.0 if "per_head_norm_weights_one" in ABLATE else None
    for i in range(N_LAYER):
        qkvo(t, i)
        # Norm weights over the whole projection: distinct per head, so a per-head reading
        # of the first head's weights would differ.
        t.vector(T.ATTN_Q_NORM, N_HEAD * HEAD_DIM, std=0.5, bid=i, off=ones)
        t.vector(T.ATTN_K_NORM, N_HEAD_KV * HEAD_DIM, std=0.5, bid=i, off=ones)
        t.vector(T.ATTN_POST_NORM, N_EMBD, bid=i)
        swiglu(t, i)
        t.vector(T.FFN_POST_NORM, N_EMBD, bid=i)
    t.vector(T.OUTPUT_NORM, N_EMBD)
    t.matrix(T.OUTPUT, (n_vocab, N_EMBD), std=EMBD_SD)


MISTRAL3_YARN, MISTRAL3_ORIG_CTX, MISTRAL3_TEMP = 16.0, 16, 0.1


def arch_mistral3(w, t, n_vocab):
    common_keys(w)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(HEAD_DIM)
    if "no_yarn" not in ABLATE:
        w.add_rope_scaling_type(RopeScalingType.YARN)
        w.add_rope_scaling_factor(MISTRAL3_YARN)
        w.add_rope_scaling_yarn_beta_fast(32.0)
        w.add_rope_scaling_yarn_beta_slow(1.0)
        w.add_rope_scaling_yarn_log_mul(1.0)
    w.add_rope_scaling_orig_ctx_len(MISTRAL3_ORIG_CTX)
    if "no_temperature" not in ABLATE:
        w.add_attn_temperature_scale(MISTRAL3_TEMP)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    llama_blocks(t)
    t.vector(T.OUTPUT_NORM, N_EMBD)
    t.matrix(T.OUTPUT, (n_vocab, N_EMBD), std=EMBD_SD)


G4_LAYERS, G4_SHARED = 6, 2
G4_SLIDING = [True, False, True, False, True, False]
G4_HD_SWA, G4_HD = 64, 128
G4_PLE = 128
G4_WINDOW = 8


def arch_gemma4(w, t, n_vocab):
    w.add_context_length(CTX)
    w.add_embedding_length(N_EMBD)
    n_ff = [N_FF if i < G4_LAYERS - G4_SHARED else 2 * N_FF for i in range(G4_LAYERS)]
    w.add_feed_forward_length(n_ff)
    w.add_block_count(G4_LAYERS)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(G4_HD)
    w.add_value_length(G4_HD)
    w.add_key_length_swa(G4_HD_SWA)
    w.add_value_length_swa(G4_HD_SWA)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1e6)
    w.add_rope_freq_base_swa(10000.0)
    w.add_rope_dimension_count(G4_HD)
    w.add_rope_dimension_count_swa(G4_HD_SWA)
    w.add_sliding_window(1024 if "no_window" in ABLATE else G4_WINDOW)
    w.add_sliding_window_pattern(G4_SLIDING)
    w.add_shared_kv_layers(G4_SHARED)
    w.add_embedding_length_per_layer_input(G4_PLE)
    if "no_softcap" not in ABLATE:
        w.add_final_logit_softcapping(15.0)
    n_kv = G4_LAYERS - G4_SHARED
    # Proportional RoPE of the global blocks: pairs in the upper half get a huge divisor
    # (no rotation), as the converter writes for partial rotary factors.
    factors = np.ones(G4_HD // 2, dtype=np.float32)
    if "no_rope_freqs" not in ABLATE:
        factors[G4_HD // 4:] = 1e30
    t.w.add_tensor(t.name(T.ROPE_FREQS, None, "weight"), factors)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    t.matrix(T.PER_LAYER_TOKEN_EMBD, (n_vocab, G4_PLE * G4_LAYERS), std=0.5, zero="no_per_layer_input" in ABLATE)
    t.matrix(T.PER_LAYER_MODEL_PROJ, (G4_PLE * G4_LAYERS, N_EMBD))
    t.vector(T.PER_LAYER_PROJ_NORM, G4_PLE)
    for i in range(G4_LAYERS):
        hd = G4_HD_SWA if G4_SLIDING[i] else G4_HD
        t.vector(T.ATTN_NORM, N_EMBD, bid=i)
        t.matrix(T.ATTN_Q, (N_HEAD * hd, N_EMBD), bid=i)
        # Attention scale is 1: q/k norm weights near 1/sqrt(sqrt(hd)) keep the scores'
        # spread near 1, as trained weights do (unit weights make the softmax so peaked
        # that F16 rounding moves llama.cpp's own output by 0.1).
        t.vector(T.ATTN_Q_NORM, hd, mean=hd ** -0.25, std=0.05, bid=i)
        if i < n_kv:
            t.matrix(T.ATTN_K, (N_HEAD_KV * hd, N_EMBD), bid=i)
            if G4_SLIDING[i]:   # global blocks: V = K (attention_k_eq_v)
                t.matrix(T.ATTN_V, (N_HEAD_KV * hd, N_EMBD), bid=i)
            t.vector(T.ATTN_K_NORM, hd, mean=hd ** -0.25, std=0.05, bid=i)
        t.matrix(T.ATTN_OUT, (N_EMBD, N_HEAD * hd), bid=i)
        t.vector(T.ATTN_POST_NORM, N_EMBD, bid=i)
        t.vector(T.FFN_PRE_NORM, N_EMBD, bid=i)
        t.matrix(T.FFN_GATE, (n_ff[i], N_EMBD), bid=i)
        t.matrix(T.FFN_UP, (n_ff[i], N_EMBD), bid=i)
        t.matrix(T.FFN_DOWN, (N_EMBD, n_ff[i]), bid=i)
        t.vector(T.FFN_POST_NORM, N_EMBD, bid=i)
        t.matrix(T.PER_LAYER_INP_GATE, (G4_PLE, N_EMBD), bid=i)
        t.matrix(T.PER_LAYER_PROJ, (N_EMBD, G4_PLE), bid=i)
        t.vector(T.PER_LAYER_POST_NORM, N_EMBD, bid=i)
        t.vector(T.LAYER_OUT_SCALE, 1, mean=0.7, std=0.2, bid=i, off=1.0 if "unit_output_scale" in ABLATE else None)
    t.vector(T.OUTPUT_NORM, N_EMBD)   # tied output


ARCHS = {"smollm3": arch_smollm3, "olmo2": arch_olmo2, "mistral3": arch_mistral3, "gemma4": arch_gemma4}


def write_model(arch, type_name, out, seed=1, vocab=base.VOCAB, ablate=()):
    ABLATE.clear()
    ABLATE.update(ablate)
    qtype, ftype = TYPES[type_name]
    # smollm3 with RoPE everywhere is the same file read as a llama model.
    file_arch = "llama" if arch == "smollm3" and "rope_everywhere" in ABLATE else arch
    base.write_gguf(out, file_arch, arch, qtype, ftype, seed, vocab, ARCHS[arch], base.Tensors)


def main():
    base.run_cli(__doc__, ARCHS, TYPES, TEST_MODELS, model_name, write_model)


if __name__ == "__main__":
    sys.exit(main())
