"""The committed src/tokenizer/unicode_tables.cpp is what scripts/gen_unicode_tables.py makes,
and its tables agree with Python's unicodedata (the independent source they come from)."""
from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest

from conftest import ROOT

TABLES = ROOT / "src" / "tokenizer" / "unicode_tables.cpp"
SCRIPT = ROOT / "scripts" / "gen_unicode_tables.py"


def committed_version() -> str:
    m = re.search(r'kUnicodeVersion = "([^"]+)"', TABLES.read_text(encoding="utf-8"))
    assert m, "unicode_tables.cpp does not record its Unicode version"
    return m.group(1)


def test_regenerating_gives_the_committed_file():
    if unicodedata.unidata_version != committed_version():
        pytest.skip(f"this Python has Unicode {unicodedata.unidata_version}, the file was "
                    f"generated from {committed_version()}")
    out = subprocess.run([sys.executable, str(SCRIPT), "-"], check=True, capture_output=True)
    assert out.stdout.decode("utf-8") == TABLES.read_text(encoding="utf-8")


def test_header_names_generator_and_version():
    head = TABLES.read_text(encoding="utf-8").splitlines()[:3]
    assert "GENERATED FILE" in head[0] and "gen_unicode_tables.py" in head[0]
    assert f"Unicode {committed_version()}" in head[1]


def test_category_runs_match_unicodedata_samples():
    if unicodedata.unidata_version != committed_version():
        pytest.skip("different Unicode version")
    text = TABLES.read_text(encoding="utf-8")
    body = text[text.index("kCategoryRuns[]"):text.index("kCategoryRunCount")]
    runs = [(int(cp, 16), cat) for cp, cat in re.findall(r"\{0x([0-9A-F]+), k(\w+)\}", body)]
    family = {"Number": "N", "Letter": "L", "Separator": "Z", "Mark": "M",
              "Punctuation": "P", "Symbol": "S"}
    for i, (first, cat) in enumerate(runs):
        last = runs[i + 1][0] - 1 if i + 1 < len(runs) else 0x10FFFF
        for cp in {first, last, (first + last) // 2}:
            got = unicodedata.category(chr(cp))
            if cat == "Undefined":
                assert got == "Cn", hex(cp)
            elif cat == "Control":
                assert got in ("Cc", "Cf", "Co", "Cs"), hex(cp)
            else:
                assert got[0] == family[cat], hex(cp)
