#!/usr/bin/env python3
"""Writes src/kernels/iq_grids.h: the lattice tables of the i-quant formats.

The grids are format data: every IQ2/IQ3/IQ1 weight is an index into one of them. They are
read from the Python `gguf` package (PyPI, its quants module: the `grid` each i-quant class
decodes from its `grid_hex` / `grid_map`), whose version is recorded in the output, and
written as one integer per grid point, element j in byte j (little-endian), so that a
kernel can load a point with one 32- or 64-bit read:

  kIQ2XXSGrid[256], kIQ2XSGrid[512], kIQ2SGrid[1024]  uint64: 8 magnitudes in {8, 25, 43}
  kIQ3XXSGrid[256]                                      uint32: 4 magnitudes in 4..62
  kIQ3SGrid[512]                                        uint32: 4 magnitudes in 1..15
  kIQ1SGrid[2048]                                       uint64: 8 int8 values in {-1, 0, 1}
                                                        (IQ1_S and IQ1_M)

Usage: scripts/gen_iq_grids.py [OUTPUT]   (default: src/kernels/iq_grids.h; "-" writes to
stdout, which tests use to check that the committed file is up to date).
"""

import os
import sys

import numpy as np
from gguf import quants

TABLES = [
    # (C name, gguf class, C element type, bytes per point)
    ("kIQ2XXSGrid", quants.IQ2_XXS, "uint64_t", 8),
    ("kIQ2XSGrid", quants.IQ2_XS, "uint64_t", 8),
    ("kIQ2SGrid", quants.IQ2_S, "uint64_t", 8),
    ("kIQ3XXSGrid", quants.IQ3_XXS, "uint32_t", 4),
    ("kIQ3SGrid", quants.IQ3_S, "uint32_t", 4),
    ("kIQ1SGrid", quants.IQ1_S, "uint64_t", 8),
]


def gguf_version() -> str:
    from importlib.metadata import version
    return version("gguf")


def points(cls, width: int) -> list[int]:
    cls.init_grid()
    grid = np.asarray(cls.grid, dtype=np.float32).reshape(-1, width)
    as_int = grid.astype(np.int64)
    assert np.array_equal(as_int.astype(np.float32), grid), f"{cls.__name__}: non-integer grid"
    assert as_int.min() >= -128 and as_int.max() <= 255
    out = []
    for row in as_int:
        value = 0
        for j, v in enumerate(row):
            value |= (int(v) & 0xFF) << (8 * j)
        out.append(value)
    return out


def render() -> str:
    lines = [
        "// GENERATED FILE: written by scripts/gen_iq_grids.py, do not edit.",
        f"// Source: the lattice grids of the Python gguf package {gguf_version()} (gguf.quants).",
        "//",
        "// The grids of the i-quant formats (format data: ggml-common.h's iq2xxs_grid ... iq1s_grid",
        "// hold the same points). Point k, element j is byte j of entry k (little-endian); the",
        "// IQ1_S grid's bytes are int8.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "namespace mmojo {",
        "",
    ]
    for name, cls, ctype, width in TABLES:
        values = points(cls, width)
        digits = 2 * width
        lines.append(f"inline constexpr {ctype} {name}[{len(values)}] = {{")
        per_line = 4 if width == 8 else 8
        for i in range(0, len(values), per_line):
            chunk = ", ".join(f"0x{v:0{digits}x}" for v in values[i:i + per_line])
            lines.append(f"    {chunk},")
        lines.append("};")
        lines.append("")
    lines.append("}  // namespace mmojo")
    return "\n".join(lines) + "\n"


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src", "kernels", "iq_grids.h")
    text = render()
    if target == "-":
        sys.stdout.write(text)
    else:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
