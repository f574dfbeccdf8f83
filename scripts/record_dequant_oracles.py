#!/usr/bin/env python3
"""Records llama.cpp's own dequantization of random blocks, for the tensor types that the
Python `gguf` package cannot decode yet (Q1_0, Q2_0 in gguf 0.19.0), into
tests/integration/data/dequant/<name>.json. tests/integration/test_dequant.py compares
mmojo's to_float with these files, so CI needs neither llama.cpp nor this script.

The oracle is ggml as shipped in PyPI's llama-cpp-python: its libggml-base exports
ggml_get_type_traits(type)->to_float, called here through ctypes on random bytes (every
quant pattern; the f16 scale is random too, so Inf/NaN scales are covered).

Usage (with the Python that has llama_cpp installed, e.g. /work/llcpp-venv/bin/python):
  scripts/record_dequant_oracles.py [--lib PATH/libggml-base.so --version V] [NAME=NUMBER ...]
  default types: q1_0=41 q2_0=42. --lib loads that ggml library instead of the installed
  llama_cpp package's (e.g. the one its pip build made), with V naming where it came from.
"""

import ctypes
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "integration" / "data" / "dequant"
BLOCKS = 31


class TypeTraits(ctypes.Structure):  # ggml.h struct ggml_type_traits
    _fields_ = [
        ("type_name", ctypes.c_char_p),
        ("blck_size", ctypes.c_int64),
        ("blck_size_interleave", ctypes.c_int64),
        ("type_size", ctypes.c_size_t),
        ("is_quantized", ctypes.c_bool),
        ("to_float", ctypes.c_void_p),
        ("from_float_ref", ctypes.c_void_p),
    ]


ToFloat = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)


def load_ggml():
    import llama_cpp  # noqa: F401  (locates the package's bundled libraries)
    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    for name in ("libggml-base.so", "libggml-base.dylib", "ggml-base.dll"):
        if (lib_dir / name).exists():
            return load_library(str(lib_dir / name)), f"llama-cpp-python {llama_cpp.__version__}"
    raise SystemExit(f"no libggml-base in {lib_dir}")


def record(lib, version: str, name: str, number: int) -> None:
    traits = lib.ggml_get_type_traits(number).contents
    got = traits.type_name.decode()
    if got != name:
        raise SystemExit(f"ggml type {number} is {got!r}, not {name!r}")
    rng = np.random.default_rng(1000 + number)
    raw = rng.integers(0, 256, size=BLOCKS * traits.type_size, dtype=np.uint8)
    n = BLOCKS * traits.blck_size
    out = np.zeros(n, dtype=np.float32)
    ToFloat(traits.to_float)(raw.ctypes.data, out.ctypes.data, n)
    rec = {
        "source": f"{version}: ggml_get_type_traits({number})->to_float "
                  f"on {BLOCKS} random blocks (scripts/record_dequant_oracles.py)",
        "type": number,
        "name": name,
        "block_size": int(traits.blck_size),
        "block_bytes": int(traits.type_size),
        "blocks_hex": raw.tobytes().hex(),
        "values_f32_bits": [int(v) for v in out.view(np.uint32)],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(rec) + "\n")
    print(f"{name}: {n} values -> {OUT / (name + '.json')}")


def load_library(path: str):
    lib = ctypes.CDLL(path)
    lib.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
    lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
    return lib


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--lib"]:
        if len(args) < 4 or args[2] != "--version":
            raise SystemExit("usage: --lib PATH --version V [NAME=NUMBER ...]")
        lib, version = load_library(args[1]), args[3]
        args = args[4:]
    else:
        lib, version = load_ggml()
    specs = args or ["q1_0=41", "q2_0=42"]
    for spec in specs:
        name, number = spec.split("=")
        record(lib, version, name, int(number))


if __name__ == "__main__":
    os.environ.setdefault("LLAMA_LOG_LEVEL", "error")
    main()
