"""Tensor types against Python's `gguf` package (an independent decoder of the same bytes).

1. Dequantization: every tensor of every model in ../shared/models/gen is read with
   gguf.GGUFReader, its raw bytes piped through tools/dequant_tensor (mmojo's generic
   `to_float`) and compared with gguf.quants.dequantize: bit-identical for the float types and
   the legacy/IQ4_NL formats (same operations in the same order), and within
   1e-6 x max|tensor| for the K-quants and IQ4_XS (numpy may group their products
   differently).
2. Activation quantizers (tools/quantize_tensor, mmojo's `from_float`):
   - F16 against numpy's float32 -> float16 cast (round to nearest even, subnormals, Inf/NaN);
   - BF16 against gguf.quants.quantize (ggml_compute_fp32_to_bf16's rounding);
   - Q8_0 against gguf.quants.quantize, which follows the *scalar reference*
     quantize_row_q8_0_ref (id = 1/d, roundf: ties away from zero), while llama.cpp's x86
     CPU backend (what produced ../shared/reference) uses id = 127/amax and rounds ties to
     even. So: the f16 scales must match exactly, and quants may differ by one only where the
     scaled value is (within float rounding) a tie. In addition Q8_0, Q8_1 and Q8_K are
     compared bit-exactly with a numpy transcription of the x86 algorithm.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf.quants import dequantize, quantize  # noqa: E402

from conftest import BUILD, MODELS  # noqa: E402

GEN = MODELS / "gen"
MODEL_FILES = sorted(GEN.glob("test-*.gguf")) + sorted(GEN.glob("arch-*.gguf"))

EXACT_TYPES = {T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL}
CLOSE_TYPES = {T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_XS}
CLOSE_REL_TOL = 1e-6


def tool(name: str) -> Path:
    path = BUILD / name
    if not path.exists():
        pytest.fail(f"{path} not built (set MMOJO_BUILD_DIR)")
    return path


def run_tool(name: str, args: list[str], data: bytes) -> bytes:
    proc = subprocess.run([str(tool(name)), *args], input=data, capture_output=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"{name} {args} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def mmojo_dequantize(qtype: T, n: int, raw: bytes) -> np.ndarray:
    out = run_tool("dequant_tensor", [str(int(qtype)), str(n)], raw)
    assert len(out) == 4 * n, f"expected {4 * n} bytes, got {len(out)}"
    return np.frombuffer(out, dtype=np.float32)


def mmojo_quantize(qtype: T, x: np.ndarray) -> bytes:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return run_tool("quantize_tensor", [str(int(qtype)), str(x.size)], x.tobytes())


@pytest.mark.parametrize("path", MODEL_FILES, ids=[p.name for p in MODEL_FILES])
def test_dequantize_matches_gguf(path: Path) -> None:
    reader = gguf.GGUFReader(path)
    failures: list[str] = []
    checked = 0
    for t in reader.tensors:
        qtype = T(t.tensor_type)
        if qtype not in EXACT_TYPES and qtype not in CLOSE_TYPES:
            failures.append(f"{t.name}: unexpected type {qtype.name} in the test models")
            continue
        raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(-1)
        n = int(t.n_elements)
        expected = np.asarray(dequantize(raw, qtype), dtype=np.float32).reshape(-1)
        ours = mmojo_dequantize(qtype, n, raw.tobytes())
        checked += 1
        if expected.size != n:
            failures.append(f"{t.name}: gguf gave {expected.size} values for {n} elements")
            continue
        if qtype in EXACT_TYPES:
            diff = np.nonzero(ours.view(np.uint32) != expected.view(np.uint32))[0]
            if diff.size:
                i = int(diff[0])
                failures.append(f"{t.name} ({qtype.name}): {diff.size} values differ, first at "
                                f"{i}: ours {ours[i]!r} vs gguf {expected[i]!r}")
        else:
            if not np.all(np.isfinite(expected)) or not np.all(np.isfinite(ours)):
                same = np.array_equal(np.isfinite(expected), np.isfinite(ours))
                if not same:
                    failures.append(f"{t.name} ({qtype.name}): non-finite values differ")
                    continue
            scale = float(np.max(np.abs(expected))) if n else 0.0
            err = float(np.max(np.abs(ours.astype(np.float64) - expected))) if n else 0.0
            if err > CLOSE_REL_TOL * scale:
                failures.append(f"{t.name} ({qtype.name}): max abs diff {err:g} > "
                                f"{CLOSE_REL_TOL:g} x {scale:g}")
    assert checked > 0, f"{path.name} has no tensors"
    assert not failures, "\n".join(failures[:20])


# ----------------------------------------------------------------------------------------
# Activation quantizers


def activation_rows(rng: np.random.Generator, blocks: int, block: int) -> np.ndarray:
    """Blocks of varied scale and shape, with zeros, single spikes and exact ties."""
    x = rng.standard_normal((blocks, block)).astype(np.float32)
    scales = np.float32(10.0) ** rng.uniform(-6, 4, size=(blocks, 1)).astype(np.float32)
    x *= scales
    x[0] = 0.0                                   # an all-zero block
    x[1] = 0.0
    x[1, 5] = -3.0                               # one spike: the rest quantizes to 0
    # amax = 127 makes the scale 1 and 127/amax = 1, so halves are exact ties.
    x[2] = rng.integers(-126, 126, size=block).astype(np.float32) + np.float32(0.5)
    x[2, 0] = 127.0
    x[3] = rng.uniform(-1e-30, 1e-30, size=block).astype(np.float32)  # tiny (f16 d -> 0)
    x[4] = rng.uniform(-60000, 60000, size=block).astype(np.float32)
    x[5, :] = 1.0                                 # constant block
    return x


def x86_q8_blocks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """llama.cpp's x86 quantize_row_q8_0/q8_1 in numpy: returns (d f32, q int32, d f16)."""
    amax = np.max(np.abs(x), axis=1, keepdims=True)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(amax != 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(x * inv).astype(np.int32)        # rint: ties to even
    return d, np.clip(q, -128, 127), d.astype(np.float16)


def test_q8_0_quantize_matches_x86_model_and_gguf() -> None:
    rng = np.random.default_rng(1234)
    x = activation_rows(rng, 200, 32)
    ours = np.frombuffer(mmojo_quantize(T.Q8_0, x), dtype=np.uint8).reshape(-1, 34)
    our_d = ours[:, :2].copy().view(np.float16).reshape(-1)
    our_q = ours[:, 2:].copy().view(np.int8).astype(np.int32)

    _, q_x86, d16 = x86_q8_blocks(x)
    assert np.array_equal(our_d.view(np.uint16), d16.reshape(-1).view(np.uint16))
    assert np.array_equal(our_q, q_x86)

    ref = np.asarray(quantize(x, T.Q8_0)).reshape(-1, 34)
    assert np.array_equal(ref[:, :2], ours[:, :2]), "f16 scales differ from gguf"
    ref_q = ref[:, 2:].copy().view(np.int8).astype(np.int32)
    diff = our_q != ref_q
    assert np.all(np.abs(our_q - ref_q) <= 1)
    # Every difference must sit on a tie of the scaled value (x * 127/amax, in exact
    # arithmetic), where gguf rounds away from zero and x86 rounds to even.
    amax = np.max(np.abs(x.astype(np.float64)), axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(amax != 0, x * 127.0 / amax, 0.0)
    frac = np.abs(scaled - np.trunc(scaled))
    assert np.all(np.abs(frac[diff] - 0.5) < 1e-4), "a difference that is not a tie"
    assert diff[2].any(), "the tie block should show the documented rounding difference"


def test_q8_1_quantize_matches_x86_model() -> None:
    rng = np.random.default_rng(99)
    x = activation_rows(rng, 200, 32)
    ours = np.frombuffer(mmojo_quantize(T.Q8_1, x), dtype=np.uint8).reshape(-1, 36)
    d32, q_x86, d16 = x86_q8_blocks(x)
    assert np.array_equal(ours[:, 0:2].copy().view(np.uint16).reshape(-1),
                          d16.reshape(-1).view(np.uint16))
    with np.errstate(over="ignore"):  # large blocks overflow s to Inf, as in llama.cpp
        s = (d32.reshape(-1) * q_x86.sum(axis=1).astype(np.float32)).astype(np.float16)
    assert np.array_equal(ours[:, 2:4].copy().view(np.uint16).reshape(-1), s.view(np.uint16))
    assert np.array_equal(ours[:, 4:].copy().view(np.int8).astype(np.int32), q_x86)


def test_q8_k_quantize_matches_reference_model() -> None:
    rng = np.random.default_rng(7)
    x = activation_rows(rng, 40, 256)
    ours = np.frombuffer(mmojo_quantize(T.Q8_K, x), dtype=np.uint8).reshape(-1, 292)
    our_d = ours[:, :4].copy().view(np.float32).reshape(-1)
    our_q = ours[:, 4:260].copy().view(np.int8).astype(np.int32)
    our_bsums = ours[:, 260:].copy().view(np.int16).astype(np.int32)

    # quantize_row_q8_K_ref: signed max of largest magnitude (first on ties),
    # iscale = -127/max, nearest_int (ties to even), min(127, .), d = 1/iscale.
    imax = np.argmax(np.abs(x), axis=1)
    mx = x[np.arange(x.shape[0]), imax].reshape(-1, 1)
    zero = (mx == 0).reshape(-1)
    with np.errstate(divide="ignore"):
        iscale = np.where(mx != 0, np.float32(-127) / mx, np.float32(0)).astype(np.float32)
    q = np.minimum(np.rint(x * iscale), 127).astype(np.int32)
    with np.errstate(divide="ignore"):
        d = (np.float32(1) / iscale).astype(np.float32).reshape(-1)
    d[zero] = 0
    assert np.array_equal(our_d.view(np.uint32), d.view(np.uint32))
    assert np.array_equal(our_q, q)
    assert np.array_equal(our_bsums, q.reshape(-1, 16, 16).sum(axis=2))


def special_floats(rng: np.random.Generator) -> np.ndarray:
    bits = rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    extra = np.array([0.0, -0.0, np.inf, -np.inf, 65504, 65519.99, 65520, -65520, 6e-8,
                      2.98e-8, 2.9802322e-8, 1e-45, 3.4e38, -3.4e38], dtype=np.float32)
    return np.concatenate([x, extra, rng.standard_normal(2000).astype(np.float32)])


def test_f16_quantize_matches_numpy() -> None:
    x = special_floats(np.random.default_rng(5))
    ours = np.frombuffer(mmojo_quantize(T.F16, x), dtype=np.uint16)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = x.astype(np.float16).view(np.uint16)
    nan = np.isnan(x)
    assert np.array_equal(ours[~nan], ref[~nan])
    # NaN: same sign, still NaN (payload handling is hardware-defined).
    assert np.all(np.isnan(ours[nan].view(np.float16)))
    assert np.array_equal(ours[nan] >> 15, (x[nan].view(np.uint32) >> 31).astype(np.uint16))


def test_bf16_quantize_matches_gguf() -> None:
    x = special_floats(np.random.default_rng(6))
    ours = np.frombuffer(mmojo_quantize(T.BF16, x), dtype=np.uint16)
    ref = np.asarray(quantize(x, T.BF16)).reshape(-1).view(np.uint16)
    assert np.array_equal(ours, ref)


def test_tools_reject_bad_input() -> None:
    for args, data, message in [
        (["q4_0", "33"], b"", "multiple of its block size"),
        (["q4_0", "32"], b"abc", "stdin ended"),
        (["q4_2", "32"], b"", "not supported"),
        (["nonsense", "1"], b"", "unknown tensor type"),
    ]:
        proc = subprocess.run([str(tool("dequant_tensor")), *args], input=data,
                              capture_output=True, timeout=30)
        assert proc.returncode == 1, args
        assert message in proc.stderr.decode(), (args, proc.stderr)


# ----------------------------------------------------------------------------------------
# Every row of the type table on random blocks

ORACLES = Path(__file__).resolve().parent / "data" / "dequant"


def table_rows() -> list[tuple[int, str, int, int]]:
    out = subprocess.run([str(tool("dequant_tensor")), "--list"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    rows = []
    for line in out.splitlines():
        num, name, block, nbytes, _dot = line.split()
        rows.append((int(num), name, int(block), int(nbytes)))
    return rows


def gguf_knows(qtype: int) -> bool:
    try:
        t = T(qtype)
        dequantize(np.zeros(gguf.GGML_QUANT_SIZES[t][1], dtype=np.uint8), t)
        return True
    except (ValueError, KeyError, NotImplementedError):
        return False


def random_blocks(rng: np.random.Generator, blocks: int, nbytes: int) -> bytes:
    """Every byte random: all quant patterns, all scale patterns (Inf/NaN scales too)."""
    return rng.integers(0, 256, size=blocks * nbytes, dtype=np.uint8).tobytes()


def assert_same_floats(name: str, ours: np.ndarray, expected: np.ndarray) -> None:
    expected = np.asarray(expected, dtype=np.float32).reshape(-1)
    assert ours.size == expected.size, name
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(ours), nan), f"{name}: NaN positions differ"
    diff = np.nonzero(ours[~nan].view(np.uint32) != expected[~nan].view(np.uint32))[0]
    if diff.size:
        i = int(diff[0])
        raise AssertionError(f"{name}: {diff.size} values differ, first at {i}: ours "
                             f"{ours[~nan][i]!r} vs oracle {expected[~nan][i]!r}")


@pytest.mark.parametrize("row", table_rows() if (BUILD / "dequant_tensor").exists() else [],
                         ids=lambda r: r[1])
def test_every_table_type_dequantizes_like_the_oracle(row) -> None:
    """Random blocks of every type the table has: bit-identical to gguf.quants.dequantize
    (every type it knows; its float64 intermediates give the same binary32 results because
    every product in these formats is exact), else to llama.cpp's own dequantization
    recorded by scripts/record_dequant_oracles.py in tests/integration/data/dequant/."""
    qtype, name, block, nbytes = row
    if qtype in (int(T.Q8_1), int(T.Q8_K)):
        pytest.skip("activation-only format, checked against its quantizer above")
    if gguf_knows(qtype):
        rng = np.random.default_rng(qtype)
        raw = random_blocks(rng, 97, nbytes)
        ours = mmojo_dequantize(qtype, 97 * block, raw)
        with np.errstate(all="ignore"):
            expected = dequantize(np.frombuffer(raw, dtype=np.uint8), T(qtype))
        assert_same_floats(name, ours, expected)
        return
    path = ORACLES / f"{name}.json"
    assert path.exists(), f"{name}: gguf {gguf.__name__} lacks it and {path} is missing"
    rec = __import__("json").loads(path.read_text())
    assert rec["type"] == qtype and rec["block_size"] == block
    raw = bytes.fromhex(rec["blocks_hex"])
    n = len(raw) // nbytes * block
    ours = mmojo_dequantize(qtype, n, raw)
    expected = np.array(rec["values_f32_bits"], dtype=np.uint32).view(np.float32)
    assert_same_floats(name, ours, expected)
