#!/usr/bin/env python3
"""Make the small random-weight hybrid (recurrent + attention) GGUF models the hybrid
fidelity tests use. Shared helpers (tokenizer copy, the Tensors drawer, the stories260K
vocabulary) come from make_moe_test_model.py; this file adds the families and a Q4_K
quantizer (the gguf package has none).

  lfm2       short-convolution blocks (shortconv.l_cache 3: in_proj to b | c | x, conv of
             b * x with the carried state, c * conv, out_proj) between grouped-query
             attention blocks with QK-norm (attention.head_count_kv is per block, 0 for a
             convolution block), NEOX RoPE, SwiGLU, final norm token_embd_norm.
  qwen35     Gated DeltaNet blocks (attn_qkv -> causal conv1d of width 4 -> SiLU -> q | k | v,
             2 key heads and 4 value heads of 64 (value head h reads key head h mod 2), L2-norm
             of q and k, beta = sigmoid(ssm_beta x), decay g = softplus(ssm_alpha x + dt) * ssm_a,
             gated RMSNorm with silu(attn_gate x), ssm_out) and every full_attention_interval-th
             block gated attention (q and a sigmoid output gate per head from attn_q, QK-norm,
             interleaved M-RoPE over 16 of 64 dims), post_attention_norm, SwiGLU.
  qwen35moe  the same with a softmax top-2 of 4 experts and a shared expert gated by
             sigmoid(ffn_gate_inp_shexp . x).

The decays are drawn so that several heads remember over tens of tokens: the prompts of the
reference (about 100 tokens) cross several chunks of the chunked delta rule, and the state
carried from chunk to chunk changes the output.

n_embd is 256 and every matrix has a multiple of 256 columns, so the k-quants apply: lfm2 and
qwen35 are written F16 and Q4_K, qwen35moe F16 and Q8_0 (llama.cpp's own batched and
one-token Q4_K paths part by up to 1.8 on it, a router choice flipping between them, which
leaves no margin to test against). Conv kernels, norms, ssm_a, dt, router and the
shared-expert gate stay F32 as llama.cpp's converter and llama-quantize keep them.

Usage: make_hybrid_test_model.py --arch qwen35 --type Q4_K out.gguf
       make_hybrid_test_model.py --all OUT_DIR
"""
import math
import os
import sys

import numpy as np
from gguf import (GGMLQuantizationType, LlamaFileType, MODEL_TENSOR, TENSOR_NAMES)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_moe_test_model as shared  # noqa: E402

T = MODEL_TENSOR
TYPES = {
    "F16": (GGMLQuantizationType.F16, LlamaFileType.MOSTLY_F16),
    "Q4_K": (GGMLQuantizationType.Q4_K, LlamaFileType.MOSTLY_Q4_K_M),
    "Q8_0": (GGMLQuantizationType.Q8_0, LlamaFileType.MOSTLY_Q8_0),
}
TEST_MODELS = [("lfm2", "F16"), ("lfm2", "Q4_K"), ("qwen35", "F16"), ("qwen35", "Q4_K"),
               ("qwen35moe", "F16"), ("qwen35moe", "Q8_0")]

N_EMBD = 256
N_HEAD, N_HEAD_KV, HEAD_DIM = 4, 2, 64
N_FF = 512
EMBD_SD = 4.0 / math.sqrt(N_EMBD)


def model_name(arch, type_name):
    return f"hybrid-{arch}-{type_name.lower()}"


def fp16_bits(x):
    return np.asarray(x, dtype=np.float16).view(np.uint16)


def quantize_q4_k(data):
    """Q4_K blocks of 256 (ggml's block_q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and
    mins for 8 sub-blocks of 32, 128 bytes of 4-bit values; x = d*sc*q - dmin*m). A plain
    min/max fit per sub-block; any valid encoding serves, both engines read the same bytes."""
    rows = data.reshape(-1, 256).astype(np.float32)
    sub = rows.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0.0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / 15.0                       # per sub-block step
    mins = -lo                                     # per sub-block offset (>= 0)
    d = scale.max(axis=1) / 63.0
    dmin = mins.max(axis=1) / 63.0
    d16 = d.astype(np.float16).astype(np.float32)
    dmin16 = dmin.astype(np.float16).astype(np.float32)
    sc = np.where(d16[:, None] > 0, np.rint(scale / np.where(d16 > 0, d16, 1)[:, None]), 0).clip(0, 63)
    mn = np.where(dmin16[:, None] > 0, np.rint(mins / np.where(dmin16 > 0, dmin16, 1)[:, None]), 0).clip(0, 63)
    step = (d16[:, None] * sc)[:, :, None]
    off = (dmin16[:, None] * mn)[:, :, None]
    q = np.where(step > 0, np.rint((sub + off) / np.where(step > 0, step, 1)), 0).clip(0, 15).astype(np.uint8)
    sc, mn = sc.astype(np.uint8), mn.astype(np.uint8)
    scales = np.zeros((rows.shape[0], 12), dtype=np.uint8)
    scales[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    scales[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:8] & 0xF) | ((mn[:, 4:8] & 0xF) << 4)
    # 32 bytes per pair of sub-blocks: low nibbles the even sub-block, high the odd one.
    qs = (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(rows.shape[0], 128)
    blocks = np.concatenate([fp16_bits(d).view(np.uint8).reshape(-1, 2), fp16_bits(dmin).view(np.uint8).reshape(-1, 2),
                             scales, qs], axis=1)
    out_rows = data.shape[:-1] + (data.shape[-1] // 256 * 144,)
    return blocks.reshape(out_rows)


class Tensors(shared.Tensors):
    """make_moe_test_model's drawer with a Q4_K writer and bare names (ssm_a has no suffix)."""

    def matrix(self, kind, shape, std=None, bid=None, f32=False, zero=False):
        if self.qtype != GGMLQuantizationType.Q4_K or f32:
            return super().matrix(kind, shape, std=std, bid=bid, f32=f32, zero=zero)
        std = 1.0 / math.sqrt(shape[-1]) if std is None else std
        data = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        self.w.add_tensor(self.name(kind, bid, "weight"), quantize_q4_k(data), raw_dtype=self.qtype)

    def raw(self, kind, bid, data):
        self.w.add_tensor(TENSOR_NAMES[kind].format(bid=bid), data.astype(np.float32))


def common_keys(w, n_layer, ctx, head_count_kv):
    w.add_context_length(ctx)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(n_layer)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(head_count_kv)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-6)


def ffn(t, i):
    t.matrix(T.FFN_GATE, (N_FF, N_EMBD), bid=i)
    t.matrix(T.FFN_UP, (N_FF, N_EMBD), bid=i)
    t.matrix(T.FFN_DOWN, (N_EMBD, N_FF), bid=i)


LFM2_CONV = [True, False, True, True, False]   # block kinds: convolution or attention
LFM2_L_CACHE = 3


def arch_lfm2(w, t, n_vocab):
    common_keys(w, len(LFM2_CONV), 128000, [0 if c else N_HEAD_KV for c in LFM2_CONV])
    w.add_rope_freq_base(1e6)
    w.add_shortconv_l_cache(LFM2_L_CACHE)
    w.add_vocab_size(n_vocab)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    for i, conv in enumerate(LFM2_CONV):
        t.vector(T.ATTN_NORM, N_EMBD, bid=i)
        if conv:
            t.matrix(T.SHORTCONV_CONV, (N_EMBD, LFM2_L_CACHE), std=0.6, bid=i, f32=True)
            t.matrix(T.SHORTCONV_INPROJ, (3 * N_EMBD, N_EMBD), bid=i)
            t.matrix(T.SHORTCONV_OUTPROJ, (N_EMBD, N_EMBD), bid=i)
        else:
            t.vector(T.ATTN_Q_NORM, HEAD_DIM, bid=i)
            t.vector(T.ATTN_K_NORM, HEAD_DIM, bid=i)
            t.matrix(T.ATTN_Q, (N_HEAD * HEAD_DIM, N_EMBD), bid=i)
            t.matrix(T.ATTN_K, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
            t.matrix(T.ATTN_V, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
            t.matrix(T.ATTN_OUT, (N_EMBD, N_HEAD * HEAD_DIM), bid=i)
        t.vector(T.FFN_NORM, N_EMBD, bid=i)
        ffn(t, i)
    t.vector(T.TOKEN_EMBD_NORM, N_EMBD)
    t.matrix(T.OUTPUT, (n_vocab, N_EMBD), std=EMBD_SD)


QWEN35_LAYERS = 4
QWEN35_INTERVAL = 2              # blocks 1 and 3 are attention, 0 and 2 Gated DeltaNet
SSM_D, SSM_K_HEADS, SSM_V_HEADS, SSM_CONV = 64, 2, 4, 4
ROPE_DIMS, ROPE_SECTIONS = 16, [3, 3, 2, 0]
N_EXPERT, N_EXPERT_USED, N_FF_EXP, N_FF_SHEXP = 4, 2, 256, 256
# A wide router (scores with a standard deviation of about 6) so that rounding noise rarely
# reorders the chosen experts.
ROUTER_SD = 6.0 / math.sqrt(N_EMBD)


def qwen35(w, t, n_vocab, moe):
    common_keys(w, QWEN35_LAYERS, 262144, N_HEAD_KV)
    w.add_rope_freq_base(1e7)
    w.add_rope_dimension_count(ROPE_DIMS)
    w.add_rope_dimension_sections(ROPE_SECTIONS)
    w.add_full_attention_interval(QWEN35_INTERVAL)
    w.add_ssm_conv_kernel(SSM_CONV)
    w.add_ssm_inner_size(SSM_V_HEADS * SSM_D)
    w.add_ssm_state_size(SSM_D)
    w.add_ssm_time_step_rank(SSM_V_HEADS)
    w.add_ssm_group_count(SSM_K_HEADS)
    if moe:
        w.add_expert_count(N_EXPERT)
        w.add_expert_used_count(N_EXPERT_USED)
        w.add_expert_feed_forward_length(N_FF_EXP)
        w.add_expert_shared_feed_forward_length(N_FF_SHEXP)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    key_dim, value_dim = SSM_K_HEADS * SSM_D, SSM_V_HEADS * SSM_D
    for i in range(QWEN35_LAYERS):
        t.vector(T.ATTN_NORM, N_EMBD, bid=i)
        t.vector(T.ATTN_POST_NORM, N_EMBD, bid=i)
        if (i + 1) % QWEN35_INTERVAL != 0:
            t.matrix(T.ATTN_QKV, (2 * key_dim + value_dim, N_EMBD), bid=i)
            t.matrix(T.ATTN_GATE, (value_dim, N_EMBD), bid=i)
            t.matrix(T.SSM_CONV1D, (2 * key_dim + value_dim, SSM_CONV), std=0.5, bid=i, f32=True)
            t.vector(T.SSM_DT, SSM_V_HEADS, 0.0, 0.5, bid=i, part="bias")
            # a = -exp(A_log): A_log from N(-2.5, 1), decays from about 0.6 to 0.99 per token.
            t.raw(T.SSM_A, i, -np.exp(-2.5 + t.rng.standard_normal(SSM_V_HEADS, dtype=np.float32)))
            t.matrix(T.SSM_BETA, (SSM_V_HEADS, N_EMBD), bid=i)
            t.matrix(T.SSM_ALPHA, (SSM_V_HEADS, N_EMBD), bid=i)
            t.vector(T.SSM_NORM, SSM_D, bid=i)
            t.matrix(T.SSM_OUT, (N_EMBD, value_dim), bid=i)
        else:
            t.matrix(T.ATTN_Q, (N_HEAD * HEAD_DIM * 2, N_EMBD), bid=i)
            t.matrix(T.ATTN_K, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
            t.matrix(T.ATTN_V, (N_HEAD_KV * HEAD_DIM, N_EMBD), bid=i)
            t.matrix(T.ATTN_OUT, (N_EMBD, N_HEAD * HEAD_DIM), bid=i)
            t.vector(T.ATTN_Q_NORM, HEAD_DIM, bid=i)
            t.vector(T.ATTN_K_NORM, HEAD_DIM, bid=i)
        if not moe:
            ffn(t, i)
            continue
        t.matrix(T.FFN_GATE_INP, (N_EXPERT, N_EMBD), std=ROUTER_SD, bid=i, f32=True)
        t.matrix(T.FFN_GATE_EXP, (N_EXPERT, N_FF_EXP, N_EMBD), bid=i)
        t.matrix(T.FFN_UP_EXP, (N_EXPERT, N_FF_EXP, N_EMBD), bid=i)
        t.matrix(T.FFN_DOWN_EXP, (N_EXPERT, N_EMBD, N_FF_EXP), bid=i)
        t.vector(T.FFN_GATE_INP_SHEXP, N_EMBD, 0.0, 2.0 / math.sqrt(N_EMBD), bid=i)
        t.matrix(T.FFN_GATE_SHEXP, (N_FF_SHEXP, N_EMBD), bid=i)
        t.matrix(T.FFN_UP_SHEXP, (N_FF_SHEXP, N_EMBD), bid=i)
        t.matrix(T.FFN_DOWN_SHEXP, (N_EMBD, N_FF_SHEXP), bid=i)
    t.vector(T.OUTPUT_NORM, N_EMBD)
    t.matrix(T.OUTPUT, (n_vocab, N_EMBD), std=EMBD_SD)


ARCHS = {"lfm2": arch_lfm2, "qwen35": lambda w, t, n: qwen35(w, t, n, False),
         "qwen35moe": lambda w, t, n: qwen35(w, t, n, True)}


def write_model(arch, type_name, out, seed=1, vocab=shared.VOCAB):
    qtype, ftype = TYPES[type_name]
    shared.write_gguf(out, arch, arch, qtype, ftype, seed, vocab, ARCHS[arch], Tensors)


def main():
    shared.run_cli(__doc__, ARCHS, TYPES, TEST_MODELS, model_name, write_model)


if __name__ == "__main__":
    sys.exit(main())
