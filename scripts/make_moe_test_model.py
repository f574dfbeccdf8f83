#!/usr/bin/env python3
"""Make the small random-weight mixture-of-experts GGUF models the MoE fidelity tests use.

One function per family writes the keys and tensors llama.cpp reads for that architecture
(names from the `gguf` package's tables; llama.cpp loading the file is the check that they
are right). Every feature that distinguishes the family is present:

  qwen3moe  QK-norm (per-head RMSNorm of q and k), NEOX RoPE, head size != n_embd / n_head,
            every block a MoE: softmax router over n_expert experts, top-k, the k weights
            renormalised to sum 1, SwiGLU experts stored as 3-D tensors
            ffn_{gate,up,down}_exps [n_expert, rows, cols].
  glm4moe   q/k/v biases, QK-norm, partial rotary (rope.dimension_count = head_dim / 2, NEOX),
            post_attention_norm, a leading dense SwiGLU block, then MoE blocks with a sigmoid
            router, a selection bias exp_probs_b (used to choose experts, not to weight them),
            renormalised weights times expert_weights_scale, expert groups (the best groups
            by the sum of their two best biased scores; experts outside them are not
            chosen), a shared expert added to the routed ones, and one trailing MTP
            (next-token prediction) block that the trunk does not run.
  gpt-oss   ("gpt-oss" in GGUF, llama.cpp's OPENAI_MOE) attention sinks (one logit per head
            in the softmax's denominator), sliding-window layers (even blocks, window 8)
            alternating with full ones, biases on q/k/v/o, NEOX RoPE with YaRN scaling
            (factor 32 over an original context of 4096), post_attention_norm, a router
            with a bias whose top-k is taken on the raw scores and weighted by the softmax
            of the k chosen, expert biases, and the clamped SwiGLU
            (min(g, 7) * sigmoid(1.702 min(g, 7)) * (clamp(u, -7, 7) + 1)).
            The quantized variant keeps every matrix F16 but the experts, which are MXFP4
            (as the released gpt-oss files).

Sizes are small (n_embd 64, 8 experts of 32, the 512-token stories260K vocabulary) so the
files are a few hundred kB and generated at test time. The same seed always gives the
same bytes (numpy's PCG64 and the gguf package's quantizers are deterministic); the
reference JSON records the sha256 so a test notices if that ever changes.

The router (ffn_gate_inp) and every 1-D tensor stay F32, as llama.cpp's converter and
llama-quantize keep them; --type sets the type of every other matrix.

Usage: make_moe_test_model.py --arch qwen3moe --type F16 out.gguf
       make_moe_test_model.py --all OUT_DIR      (every file the tests use)
"""
import argparse
import math
import os
import sys

import numpy as np
from gguf import (MODEL_ARCH_NAMES, ExpertGatingFuncType, MODEL_TENSOR, MODEL_TENSORS, TENSOR_NAMES,
                  GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType, RopeScalingType,
                  quants)

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "models", "stories260K.gguf"))
T = MODEL_TENSOR

TYPES = {
    "F16": (GGMLQuantizationType.F16, LlamaFileType.MOSTLY_F16),
    "Q8_0": (GGMLQuantizationType.Q8_0, LlamaFileType.MOSTLY_Q8_0),
    "Q4_0": (GGMLQuantizationType.Q4_0, LlamaFileType.MOSTLY_Q4_0),
    "MXFP4": (GGMLQuantizationType.MXFP4, LlamaFileType.MOSTLY_MXFP4_MOE),   # experts only
}

# The files the tests use: (arch, type) -> name.
TEST_MODELS = [
    ("qwen3moe", "F16"), ("qwen3moe", "Q4_0"),
    ("glm4moe", "F16"), ("glm4moe", "Q8_0"),
    ("gpt-oss", "F16"), ("gpt-oss", "MXFP4"),
]

N_EMBD = 64
N_HEAD, N_HEAD_KV, HEAD_DIM = 4, 2, 32
N_EXPERT, N_EXPERT_USED, N_FF_EXP = 8, 2, 32
EMBD_SD = 4.0 / math.sqrt(N_EMBD)   # logits with a standard deviation of about 4 (peaked)


# Ablations (scripts/record_moe_reference.py runs llama.cpp on each to show that the feature
# changes the output): the same file with one feature switched off, same random draws.
ABLATIONS = {
    "qwen3moe": ["one_expert"],
    "glm4moe": ["no_selection_bias", "no_groups", "no_weight_scale", "no_shared_expert", "full_rotary"],
    "gpt-oss": ["no_sinks", "no_window", "no_router_bias", "no_expert_biases", "no_yarn"],
}
ABLATE = set()


def model_name(arch, type_name):
    return f"moe-{arch}-{type_name.lower()}"


def tokenizer_fields(path):
    """(key, value, type, sub_type) of every tokenizer.* key of a GGUF file, copied raw."""
    for key, f in GGUFReader(path).fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype, sub = f.types[0], (f.types[-1] if f.types[0] == GGUFValueType.ARRAY else None)
        if sub == GGUFValueType.STRING:
            value = [bytes(f.parts[i]) for i in f.data]
        elif vtype == GGUFValueType.STRING:
            value = bytes(f.parts[-1])
        else:
            value = f.contents()
        yield key, value, vtype, sub


class Tensors:
    """Adds tensors in call order; the random draws happen in the same order for every type."""

    def __init__(self, w, arch, qtype, seed):
        self.w, self.qtype = w, qtype
        self.rng = np.random.default_rng(seed)
        arch_id = next(k for k, v in MODEL_ARCH_NAMES.items() if v == arch)
        self.allowed = set(MODEL_TENSORS[arch_id])

    def name(self, kind, bid, part):
        if kind not in self.allowed:
            raise ValueError(f"{TENSOR_NAMES[kind]} is not a tensor of this architecture")
        return TENSOR_NAMES[kind].format(bid=bid) + "." + part

    def matrix(self, kind, shape, std=None, bid=None, f32=False, zero=False):
        """A weight of numpy shape (..., rows, cols) (GGUF ne reversed); default std 1/sqrt(cols).
        zero: write zeros instead (an ablation), after the same random draw."""
        std = 1.0 / math.sqrt(shape[-1]) if std is None else std
        data = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        if zero:
            data = np.zeros(shape, dtype=np.float32)
        name = self.name(kind, bid, "weight")
        qtype = self.qtype
        if qtype == GGMLQuantizationType.MXFP4 and len(shape) < 3:
            qtype = GGMLQuantizationType.F16   # MXFP4 files: only the experts are MXFP4
        if f32:
            self.w.add_tensor(name, data)
        else:
            self.w.add_tensor(name, quants.quantize(data, qtype), raw_dtype=qtype)

    def vector(self, kind, n, mean=1.0, std=0.2, bid=None, part="weight", off=None):
        """A 1-D F32 tensor from N(mean, std^2): norm weights by default, biases with mean 0.
        off: the value written instead (an ablation), after the same random draw."""
        data = mean + std * self.rng.standard_normal(n, dtype=np.float32)
        if off is not None:
            data = np.full(n, off, dtype=np.float32)
        self.w.add_tensor(self.name(kind, bid, part), data.astype(np.float32))


def attention(t, i, bias_sd=None, qk_norm=True, out_bias=False):
    q_dim, kv_dim = N_HEAD * HEAD_DIM, N_HEAD_KV * HEAD_DIM
    t.vector(T.ATTN_NORM, N_EMBD, bid=i)
    for kind, rows in ((T.ATTN_Q, q_dim), (T.ATTN_K, kv_dim), (T.ATTN_V, kv_dim)):
        t.matrix(kind, (rows, N_EMBD), bid=i)
        if bias_sd is not None:
            t.vector(kind, rows, 0.0, bias_sd, bid=i, part="bias")
    if qk_norm:
        t.vector(T.ATTN_Q_NORM, HEAD_DIM, bid=i)
        t.vector(T.ATTN_K_NORM, HEAD_DIM, bid=i)
    t.matrix(T.ATTN_OUT, (N_EMBD, q_dim), bid=i)
    if out_bias:
        t.vector(T.ATTN_OUT, N_EMBD, 0.0, bias_sd, bid=i, part="bias")


def experts(t, i, router_sd):
    # router_sd > 1/sqrt(n_embd) spreads the router's scores, so that rounding noise rarely
    # reorders the chosen experts.
    t.matrix(T.FFN_GATE_INP, (N_EXPERT, N_EMBD), std=router_sd, bid=i, f32=True)
    t.matrix(T.FFN_GATE_EXP, (N_EXPERT, N_FF_EXP, N_EMBD), bid=i)
    t.matrix(T.FFN_UP_EXP, (N_EXPERT, N_FF_EXP, N_EMBD), bid=i)
    t.matrix(T.FFN_DOWN_EXP, (N_EXPERT, N_EMBD, N_FF_EXP), bid=i)


def common_keys(w, n_layer, ctx, n_ff):
    w.add_context_length(ctx)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(n_ff)
    w.add_block_count(n_layer)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_expert_count(N_EXPERT)
    w.add_expert_used_count(1 if "one_expert" in ABLATE else N_EXPERT_USED)
    w.add_expert_feed_forward_length(N_FF_EXP)


def ends(t, n_vocab):
    t.vector(T.OUTPUT_NORM, N_EMBD)
    t.matrix(T.OUTPUT, (n_vocab, N_EMBD), std=EMBD_SD)


QWEN3MOE_LAYERS = 2


def arch_qwen3moe(w, t, n_vocab):
    common_keys(w, QWEN3MOE_LAYERS, 40960, 6 * N_FF_EXP)
    w.add_rope_freq_base(1e6)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    for i in range(QWEN3MOE_LAYERS):
        attention(t, i)
        t.vector(T.FFN_NORM, N_EMBD, bid=i)
        experts(t, i, router_sd=2.0 / math.sqrt(N_EMBD))
    ends(t, n_vocab)


GLM4MOE_LAYERS = 3            # trunk blocks; one MTP block follows them in the file
GLM4MOE_DENSE_LEAD = 1
GLM4MOE_N_FF = 128            # the dense block's width
GLM4MOE_ROUTED_SCALE = 2.5    # expert_weights_scale (GLM-4.5's value)
GLM4MOE_GROUPS, GLM4MOE_GROUPS_USED = 4, 2
GLM4MOE_BIAS_SD = 0.5


def arch_glm4moe(w, t, n_vocab):
    common_keys(w, GLM4MOE_LAYERS + 1, 131072, GLM4MOE_N_FF)
    w.add_rope_dimension_count(HEAD_DIM if "full_rotary" in ABLATE else HEAD_DIM // 2)   # partial rotary
    w.add_rope_freq_base(1e6)
    w.add_leading_dense_block_count(GLM4MOE_DENSE_LEAD)
    w.add_expert_shared_count(1)
    w.add_expert_weights_scale(1.0 if "no_weight_scale" in ABLATE else GLM4MOE_ROUTED_SCALE)
    w.add_expert_weights_norm(True)
    w.add_expert_gating_func(ExpertGatingFuncType.SIGMOID)
    if "no_groups" not in ABLATE:
        w.add_expert_group_count(GLM4MOE_GROUPS)
        w.add_expert_group_used_count(GLM4MOE_GROUPS_USED)
    w.add_nextn_predict_layers(1)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    for i in range(GLM4MOE_LAYERS + 1):
        attention(t, i, bias_sd=GLM4MOE_BIAS_SD)
        t.vector(T.ATTN_POST_NORM, N_EMBD, bid=i)
        if i < GLM4MOE_DENSE_LEAD:
            t.matrix(T.FFN_GATE, (GLM4MOE_N_FF, N_EMBD), bid=i)
            t.matrix(T.FFN_UP, (GLM4MOE_N_FF, N_EMBD), bid=i)
            t.matrix(T.FFN_DOWN, (N_EMBD, GLM4MOE_N_FF), bid=i)
            continue
        experts(t, i, router_sd=2.0 / math.sqrt(N_EMBD))
        # Selection bias of the size of the sigmoid scores' spread, so it changes the choice.
        t.vector(T.FFN_EXP_PROBS_B, N_EXPERT, 0.0, 0.2, bid=i, part="bias",
                 off=0.0 if "no_selection_bias" in ABLATE else None)
        t.matrix(T.FFN_GATE_SHEXP, (N_FF_EXP, N_EMBD), bid=i)
        t.matrix(T.FFN_UP_SHEXP, (N_FF_EXP, N_EMBD), bid=i)
        t.matrix(T.FFN_DOWN_SHEXP, (N_EMBD, N_FF_EXP), bid=i, zero="no_shared_expert" in ABLATE)
        if i == GLM4MOE_LAYERS:   # the MTP block's own tensors
            t.matrix(T.NEXTN_EH_PROJ, (N_EMBD, 2 * N_EMBD), bid=i)
            t.vector(T.NEXTN_ENORM, N_EMBD, bid=i)
            t.vector(T.NEXTN_HNORM, N_EMBD, bid=i)
            t.vector(T.NEXTN_SHARED_HEAD_NORM, N_EMBD, bid=i)
    ends(t, n_vocab)


GPTOSS_LAYERS = 4
GPTOSS_WINDOW = 8
GPTOSS_YARN_FACTOR, GPTOSS_ORIG_CTX = 32.0, 4096
GPTOSS_BIAS_SD = 0.2


def arch_gpt_oss(w, t, n_vocab):
    common_keys(w, GPTOSS_LAYERS, GPTOSS_ORIG_CTX * int(GPTOSS_YARN_FACTOR), N_FF_EXP)
    w.add_rope_freq_base(150000.0)
    if "no_yarn" not in ABLATE:
        w.add_rope_scaling_type(RopeScalingType.YARN)
        w.add_rope_scaling_factor(GPTOSS_YARN_FACTOR)
        w.add_rope_scaling_orig_ctx_len(GPTOSS_ORIG_CTX)
    w.add_sliding_window(4096 if "no_window" in ABLATE else GPTOSS_WINDOW)
    t.matrix(T.TOKEN_EMBD, (n_vocab, N_EMBD), std=EMBD_SD)
    for i in range(GPTOSS_LAYERS):
        attention(t, i, bias_sd=GPTOSS_BIAS_SD, qk_norm=False, out_bias=True)
        # Sinks of the size of the scores, so that they take a visible share of the softmax.
        t.vector(T.ATTN_SINKS, N_HEAD, 0.0, 1.0, bid=i, off=-1e4 if "no_sinks" in ABLATE else None)
        t.vector(T.ATTN_POST_NORM, N_EMBD, bid=i)
        experts(t, i, router_sd=2.0 / math.sqrt(N_EMBD))
        t.vector(T.FFN_GATE_INP, N_EXPERT, 0.0, 0.5, bid=i, part="bias",
                 off=0.0 if "no_router_bias" in ABLATE else None)
        for kind, rows in ((T.FFN_GATE_EXP, N_FF_EXP), (T.FFN_UP_EXP, N_FF_EXP), (T.FFN_DOWN_EXP, N_EMBD)):
            bias = GPTOSS_BIAS_SD * t.rng.standard_normal((N_EXPERT, rows), dtype=np.float32)
            if "no_expert_biases" in ABLATE:
                bias = np.zeros_like(bias)
            t.w.add_tensor(t.name(kind, i, "bias"), bias)
    ends(t, n_vocab)


ARCHS = {"qwen3moe": arch_qwen3moe, "glm4moe": arch_glm4moe, "gpt-oss": arch_gpt_oss}


def write_gguf(out, file_arch, name_arch, qtype, ftype, seed, vocab, build, tensors=None):
    """Writes a random model: `build(writer, tensors, n_vocab)` adds its keys and tensors,
    then the file type and the tokenizer copied from `vocab`. Shared by the generators of
    the other families (make_hybrid_test_model.py, make_family_test_model.py)."""
    tok = list(tokenizer_fields(vocab))
    n_vocab = next(len(v) for k, v, _, _ in tok if k == "tokenizer.ggml.tokens")
    tmp = out + f".tmp{os.getpid()}"
    w = GGUFWriter(tmp, file_arch)
    w.add_name(f"random-{name_arch}-seed{seed}")
    t = (tensors or Tensors)(w, name_arch, qtype, seed)
    build(w, t, n_vocab)
    w.add_file_type(ftype)
    for key, value, vtype, sub in tok:
        w.add_key_value(key, value, vtype, sub)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out)   # atomic: tests running side by side never see half a file


def write_model(arch, type_name, out, seed=1, vocab=VOCAB, ablate=()):
    ABLATE.clear()
    ABLATE.update(ablate)
    qtype, ftype = TYPES[type_name]
    write_gguf(out, arch, arch, qtype, ftype, seed, vocab, ARCHS[arch])


def run_cli(doc, archs, types, test_models, name_of, write):
    """The command line of a test-model generator: one model, or every test model."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="output .gguf path (a folder with --all)")
    p.add_argument("--arch", choices=sorted(archs))
    p.add_argument("--type", default="F16", choices=sorted(types))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--all", action="store_true", help="write every test model into the folder OUT")
    a = p.parse_args()
    if a.all:
        os.makedirs(a.out, exist_ok=True)
        for arch, type_name in test_models:
            write(arch, type_name, os.path.join(a.out, name_of(arch, type_name) + ".gguf"))
    elif a.arch:
        write(a.arch, a.type, a.out, a.seed)
    else:
        p.error("give --arch or --all")


def main():
    run_cli(__doc__, ARCHS, TYPES, TEST_MODELS, model_name, write_model)


if __name__ == "__main__":
    sys.exit(main())
