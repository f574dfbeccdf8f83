"""Independent float64 forward pass of llama and gemma3 GGUF models, for fidelity checks.

The weights are read and dequantized by the `gguf` package (GGUFReader + quants.dequantize);
every sum, norm, softmax and rotation is computed in float64 with numpy. With
`round_activations` the input of each matrix product is first rounded the way a CPU engine
must round it before an integer or half-precision dot product with that weight type
(GGML's vec_dot types: Q8_0 blocks of 32 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1,
Q8_K blocks of 256 for the k-quants and IQ4_XS, F16 for F16, BF16 for BF16), and the
GELU gate goes through half precision as GGML's CPU table does; the products themselves
then stay exact in float64. This is the "f64 + act. rounding" oracle of
shared/reference/README.md, written from the model descriptions, not from any engine.

Used by scripts/fidelity/*.py; not imported by the tests, which read the JSON it helped make.
"""
from __future__ import annotations

import math

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

_Q8_0_USERS = {T.Q4_0, T.Q5_0, T.Q8_0, T.IQ4_NL}
_Q8_1_USERS = {T.Q4_1, T.Q5_1}
_Q8_K_USERS = {T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_XS}


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32).astype(np.float16).astype(np.float64)


def _bf16(x: np.ndarray) -> np.ndarray:
    b = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16 << 16   # round to nearest even
    return b.astype(np.uint32).view(np.float32).astype(np.float64)


def round_q8_0(x: np.ndarray, with_f16_scale: bool = True) -> np.ndarray:
    """x (rows, k) as the dequantized Q8_0 blocks a CPU engine dots with: binary32 amax,
    d = amax / 127 stored as f16, q = round-half-even(x * (127 / amax))."""
    x32 = x.astype(np.float32).reshape(x.shape[0], -1, 32)
    amax = np.abs(x32).max(axis=2, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = np.where(amax > 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(x32 * inv)
    d = (amax / np.float32(127)).astype(np.float32)
    d = d.astype(np.float16).astype(np.float64) if with_f16_scale else d.astype(np.float64)
    return (d * q).reshape(x.shape)


# False: q = round(float32(iscale * x)), as our quantizers and llama.cpp's vector code do;
# True: q = round(exact iscale * x), as llama.cpp's scalar quantize_row_q8_K_ref computes when
# the compiler fuses the product into its rounding add (FMA contraction). Neither choice
# changes the figures of random_models_f64.py by more than one prompt or two.
Q8_K_EXACT_PRODUCT = False


def round_q8_k(x: np.ndarray) -> np.ndarray:
    """x (rows, k) as dequantized Q8_K blocks of 256: max = the element of largest magnitude
    (first on ties), iscale = -127 / max, q = min(127, round-half-even(iscale * x)),
    d = 1 / iscale, all binary32."""
    x32 = x.astype(np.float32).reshape(x.shape[0], -1, 256)
    idx = np.abs(x32).argmax(axis=2)[..., None]
    mx = np.take_along_axis(x32, idx, axis=2)
    with np.errstate(divide="ignore"):
        iscale = np.where(mx != 0, np.float32(-127) / mx, np.float32(0)).astype(np.float32)
        d = np.where(mx != 0, np.float32(1) / iscale, np.float32(0)).astype(np.float32)
    if Q8_K_EXACT_PRODUCT:
        q = np.minimum(np.rint(x32.astype(np.float64) * iscale.astype(np.float64)), 127)
    else:
        q = np.minimum(np.rint(x32 * iscale), 127)
    return (d.astype(np.float64) * q).reshape(x.shape)


def round_activation(x: np.ndarray, weight_type: T) -> np.ndarray:
    if weight_type == T.F32:
        return x
    if weight_type == T.F16:
        return _f16(x)
    if weight_type == T.BF16:
        return _bf16(x)
    if weight_type in _Q8_0_USERS:
        return round_q8_0(x)
    if weight_type in _Q8_1_USERS:
        return round_q8_0(x)
    if weight_type in _Q8_K_USERS:
        return round_q8_k(x)
    raise ValueError(f"no activation type known for {weight_type.name}")


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * x * (1.0 + 0.044715 * x * x)))


def gelu_f16_table(x: np.ndarray) -> np.ndarray:
    """GGML CPU GELU: 0 at or below -10, x at or above 10, else the tanh GELU of x rounded
    to f16, itself rounded to f16 (float32 arithmetic inside)."""
    h = _f16(x).astype(np.float32)
    c = np.float32(math.sqrt(2.0 / math.pi))
    g = np.float32(0.5) * h * (np.float32(1) + np.tanh(c * h * (np.float32(1) + np.float32(0.044715) * h * h)))
    y = _f16(g)
    return np.where(x <= -10, 0.0, np.where(x >= 10, x, y))


class Model:
    def __init__(self, path: str, round_activations: bool = True):
        self.reader = gguf.GGUFReader(path)
        self.round = round_activations
        self.tensors = {t.name: t for t in self.reader.tensors}
        self._cache: dict[str, np.ndarray] = {}
        f = self.reader.fields
        self.arch = f["general.architecture"].contents()
        a = self.arch

        def get(key, default=None):
            return f[key].contents() if key in f else default

        self.n_embd = get(f"{a}.embedding_length")
        self.n_layer = get(f"{a}.block_count")
        self.n_head = get(f"{a}.attention.head_count")
        self.n_head_kv = get(f"{a}.attention.head_count_kv", self.n_head)
        self.head_dim = get(f"{a}.attention.key_length", self.n_embd // self.n_head)
        self.eps = get(f"{a}.attention.layer_norm_rms_epsilon")
        self.rope_base = get(f"{a}.rope.freq_base", 10000.0)
        scaling = get(f"{a}.rope.scaling.factor", 1.0)
        self.rope_scale = 1.0 / scaling if get(f"{a}.rope.scaling.type", "linear") == "linear" else 1.0
        self.window = get(f"{a}.attention.sliding_window", 0)
        self.window_period = get(f"{a}.attention.sliding_window_pattern", 6)
        self.rope_base_swa = get(f"{a}.rope.freq_base_swa", 10000.0)
        self.final_softcap = get(f"{a}.final_logit_softcapping", 0.0)
        if a not in ("llama", "gemma3"):
            raise ValueError(f"architecture {a} is not implemented here")

    def weight(self, name: str) -> tuple[np.ndarray, T]:
        t = self.tensors[name]
        if name not in self._cache:
            w = gguf.quants.dequantize(t.data, t.tensor_type)
            self._cache[name] = np.asarray(w, dtype=np.float32).reshape(-1, int(t.shape[0]))
        return self._cache[name], t.tensor_type

    def vector(self, name: str) -> np.ndarray:
        return self.weight(name)[0].reshape(-1).astype(np.float64)

    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        w, wt = self.weight(name)
        xr = round_activation(x, wt) if self.round else x
        out = np.empty((x.shape[0], w.shape[0]))
        step = 16384   # rows of w at a time, to bound the float64 copy
        for r in range(0, w.shape[0], step):
            out[:, r:r + step] = xr @ w[r:r + step].astype(np.float64).T
        return out

    def rms_norm(self, x: np.ndarray, name: str | None) -> np.ndarray:
        y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)
        return y * self.vector(name) if name else y

    def rope(self, x: np.ndarray, pos: np.ndarray, base: float, scale: float, neox: bool) -> np.ndarray:
        # x: (n, heads, head_dim)
        d = self.head_dim
        half = d // 2
        inv = base ** (-2.0 * np.arange(half) / d)
        theta = (pos[:, None] * scale) * inv[None, :]
        c, s = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
        y = x.copy()
        if neox:
            a, b = x[..., :half], x[..., half:]
            y[..., :half] = a * c - b * s
            y[..., half:] = a * s + b * c
        else:
            a, b = x[..., 0::2], x[..., 1::2]
            y[..., 0::2] = a * c - b * s
            y[..., 1::2] = a * s + b * c
        return y

    def forward(self, tokens: list[int]) -> np.ndarray:
        """Logits (n_tokens, n_vocab) of one sequence evaluated from an empty cache."""
        n = len(tokens)
        pos = np.arange(n, dtype=np.float64)
        gemma = self.arch == "gemma3"
        emb, _ = self.weight("token_embd.weight")
        x = emb[np.array(tokens)].astype(np.float64)
        if gemma:
            x = x * math.sqrt(self.n_embd)
        nh, nkv, hd = self.n_head, self.n_head_kv, self.head_dim
        group = nh // nkv
        causal = np.tril(np.ones((n, n), dtype=bool))
        for l in range(self.n_layer):
            p = f"blk.{l}."
            h = self.rms_norm(x, p + "attn_norm.weight")
            q = self.linear(h, p + "attn_q.weight").reshape(n, nh, hd)
            k = self.linear(h, p + "attn_k.weight").reshape(n, nkv, hd)
            v = self.linear(h, p + "attn_v.weight").reshape(n, nkv, hd)
            mask = causal
            if gemma:
                q = self.rms_norm(q, p + "attn_q_norm.weight")
                k = self.rms_norm(k, p + "attn_k_norm.weight")
                local = self.window > 0 and (l + 1) % self.window_period != 0
                base, scale = (self.rope_base_swa, 1.0) if local else (self.rope_base, self.rope_scale)
                q = self.rope(q, pos, base, scale, neox=True)
                k = self.rope(k, pos, base, scale, neox=True)
                if local:
                    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
                    mask = causal & (i - j < self.window)
            else:
                q = self.rope(q, pos, self.rope_base, self.rope_scale, neox=False)
                k = self.rope(k, pos, self.rope_base, self.rope_scale, neox=False)
            heads = np.empty((n, nh, hd))
            for hh in range(nh):
                kv = hh // group
                s = q[:, hh, :] @ k[:, kv, :].T / math.sqrt(hd)
                s = np.where(mask, s, -np.inf)
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                heads[:, hh, :] = s @ v[:, kv, :]
            attn = self.linear(heads.reshape(n, nh * hd), p + "attn_output.weight")
            if gemma:
                attn = self.rms_norm(attn, p + "post_attention_norm.weight")
            x = x + attn
            h = self.rms_norm(x, p + "ffn_norm.weight")
            gate = self.linear(h, p + "ffn_gate.weight")
            up = self.linear(h, p + "ffn_up.weight")
            if gemma:
                act = gelu_f16_table(gate) if self.round else gelu_tanh(gate)
            else:
                act = gate / (1.0 + np.exp(-gate))
            ff = self.linear(act * up, p + "ffn_down.weight")
            if gemma:
                ff = self.rms_norm(ff, p + "post_ffw_norm.weight")
            x = x + ff
        x = self.rms_norm(x, "output_norm.weight")
        out = "output.weight" if "output.weight" in self.tensors else "token_embd.weight"
        logits = self.linear(x, out)
        if self.final_softcap:
            logits = self.final_softcap * np.tanh(logits / self.final_softcap)
        return logits


def log_softmax(logits: np.ndarray) -> np.ndarray:
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
