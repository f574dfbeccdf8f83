"""The committed src/kernels/iq_grids.h is what scripts/gen_iq_grids.py makes from the
installed `gguf` package (the independent source of the lattice points), and it names that
source."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from conftest import ROOT

GRIDS = ROOT / "src" / "kernels" / "iq_grids.h"
SCRIPT = ROOT / "scripts" / "gen_iq_grids.py"

pytest.importorskip("gguf")


def test_regenerating_gives_the_committed_file():
    head = GRIDS.read_text(encoding="utf-8").splitlines()[:2]
    assert "GENERATED FILE" in head[0] and "gen_iq_grids.py" in head[0]
    if f"gguf package {version('gguf')} " not in head[1]:
        pytest.skip(f"installed gguf {version('gguf')}, the file names: {head[1]}")
    out = subprocess.run([sys.executable, str(SCRIPT), "-"], check=True, capture_output=True)
    assert out.stdout.decode("utf-8") == GRIDS.read_text(encoding="utf-8")


def test_grid_sizes_follow_the_index_widths():
    text = GRIDS.read_text(encoding="utf-8")
    # 8-, 9-, 10-, 8-, 9- and 11-bit indices (ggml-common.h).
    for decl in ("kIQ2XXSGrid[256]", "kIQ2XSGrid[512]", "kIQ2SGrid[1024]", "kIQ3XXSGrid[256]",
                 "kIQ3SGrid[512]", "kIQ1SGrid[2048]"):
        assert decl in text
