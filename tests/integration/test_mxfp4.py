"""MXFP4 (GGUF type 39) against Python's `gguf` package, an independent decoder of the format.

Random blocks (every 4-bit code, E8M0 scales over the whole finite range 0..254) are piped
through tools/dequant_tensor (mmojo's generic mxfp4_to_float) and compared bit for bit with
gguf.quants.dequantize; blocks made by gguf.quants.quantize from random floats round-trip
the same way.
"""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf.quants import dequantize, quantize  # noqa: E402

from conftest import BUILD  # noqa: E402

BLOCK, BLOCK_BYTES = 32, 17


def mmojo_dequantize(raw: bytes, n: int) -> np.ndarray:
    tool = BUILD / "dequant_tensor"
    if not tool.exists():
        pytest.fail(f"{tool} not built (set MMOJO_BUILD_DIR)")
    proc = subprocess.run([str(tool), str(int(T.MXFP4)), str(n)], input=raw, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return np.frombuffer(proc.stdout, dtype=np.float32)


def test_random_blocks_dequantize_like_gguf():
    rng = np.random.default_rng(7)
    n_blocks = 4096
    raw = rng.integers(0, 256, size=(n_blocks, BLOCK_BYTES), dtype=np.uint8)
    raw[:, 0] = np.arange(n_blocks) % 255          # every finite scale (255 is NaN)
    want = dequantize(raw.reshape(1, -1), T.MXFP4).reshape(-1).astype(np.float32)
    got = mmojo_dequantize(raw.tobytes(), n_blocks * BLOCK)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_quantized_floats_round_trip_like_gguf():
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((64, 256)) * rng.uniform(1e-3, 10.0, size=(64, 1))).astype(np.float32)
    raw = quantize(x, T.MXFP4)
    want = dequantize(raw, T.MXFP4).reshape(-1).astype(np.float32)
    got = mmojo_dequantize(raw.tobytes(), x.size)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.abs(got - x.reshape(-1)).max() <= np.abs(x).max() * 0.25   # it is a 4-bit format
