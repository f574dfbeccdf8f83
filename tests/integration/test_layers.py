"""One-way layers: every `#include "folder/..."` under src/ must point to the file's own
folder, a folder on a lower line of src/layers.txt, or one on the same line, and the folders
must not include each other in a cycle. The rank list is read from src/layers.txt (the one
place it is declared; docs/development.md describes it). The checker is also run on small
made-up trees, so it is shown to fail on an upward include, a cycle and an unknown folder."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".c", ".inc"}


def read_ranks(text: str) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        rank = len(set(ranks.values()))
        for folder in line:
            assert folder not in ranks, f"src/layers.txt lists {folder} twice"
            ranks[folder] = rank
    return ranks


def folder_edges(files: dict[str, str]) -> list[tuple[str, str, str]]:
    """(from folder, to folder, 'path: #include "x"') for every include across folders.
    `files` maps a path relative to src/ to its text; files at the top of src/ are skipped
    (main.cpp is above every layer)."""
    edges = []
    for path, text in files.items():
        parts = path.split("/")
        if len(parts) < 2:
            continue
        for target in INCLUDE.findall(text):
            to = target.split("/")[0] if "/" in target else parts[0]
            if to != parts[0]:
                edges.append((parts[0], to, f'src/{path}: #include "{target}"'))
    return edges


def violations(files: dict[str, str], ranks: dict[str, int]) -> list[str]:
    problems = []
    edges = folder_edges(files)
    folders = {p.split("/")[0] for p in files if "/" in p}
    for folder in sorted(folders - ranks.keys()):
        problems.append(f"src/{folder}/ is not listed in src/layers.txt")
    graph: dict[str, set[str]] = {}
    for a, b, where in edges:
        if a not in ranks or b not in ranks:
            if b not in ranks and b not in folders:
                problems.append(f"{where}: no folder src/{b}/")
            continue
        if ranks[b] > ranks[a]:
            problems.append(f"{where}: {a} (layer {ranks[a]}) includes {b} (layer {ranks[b]}), "
                            "a higher layer")
        graph.setdefault(a, set()).add(b)
    # Cycles between folders (only possible among folders of one rank once the above holds).
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("cycle between folders: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return problems


def tree_files() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8", errors="replace")
            for p in SRC.rglob("*") if p.suffix in SOURCE_SUFFIXES}


RANKS_TEXT = "base\nkernels\nops gguf\nmodel\nruntime\n"


def test_src_includes_point_down():
    ranks = read_ranks((SRC / "layers.txt").read_text())
    files = tree_files()
    assert len(files) > 100
    problems = violations(files, ranks)
    assert not problems, "\n".join(problems)


def test_every_layer_folder_exists():
    ranks = read_ranks((SRC / "layers.txt").read_text())
    missing = [f for f in ranks if not (SRC / f).is_dir()]
    assert not missing, f"src/layers.txt names folders that do not exist: {missing}"


def test_docs_list_the_same_layers():
    ranks = read_ranks((SRC / "layers.txt").read_text())
    doc = (ROOT / "docs" / "development.md").read_text()
    for folder in ranks:
        assert f"`src/{folder}/`" in doc, f"docs/development.md does not describe src/{folder}/"


def test_checker_accepts_downward_includes():
    ranks = read_ranks(RANKS_TEXT)
    files = {"model/m.cpp": '#include "ops/a.h"\n#include "base/b.h"\n#include "m.h"\n',
             "ops/a.h": '#include "kernels/k.h"\n#include "gguf/g.h"\n',
             "gguf/g.h": '#include "kernels/k.h"\n', "main.cpp": '#include "runtime/r.h"\n'}
    assert violations(files, ranks) == []


def test_checker_catches_an_upward_include():
    ranks = read_ranks(RANKS_TEXT)
    files = {"ops/a.cpp": '#include "base/b.h"\n  #  include "runtime/context.h"\n',
             "runtime/context.h": '#include "ops/a.h"\n'}
    problems = violations(files, ranks)
    assert len(problems) == 2, problems   # the upward include, and the cycle it closes
    assert 'src/ops/a.cpp: #include "runtime/context.h"' in problems[0]
    assert "cycle" in problems[1]


def test_checker_catches_a_cycle_within_a_rank():
    ranks = read_ranks(RANKS_TEXT)
    files = {"ops/a.cpp": '#include "gguf/g.h"\n', "gguf/g.cpp": '#include "ops/a.h"\n'}
    problems = violations(files, ranks)
    assert problems and all("cycle" in p for p in problems), problems


def test_checker_catches_unlisted_and_unknown_folders():
    ranks = read_ranks(RANKS_TEXT)
    files = {"extra/x.cpp": '#include "base/b.h"\n', "base/b.cpp": '#include "nowhere/n.h"\n'}
    problems = violations(files, ranks)
    assert any("src/extra/ is not listed" in p for p in problems), problems
    assert any("no folder src/nowhere/" in p for p in problems), problems


@pytest.mark.parametrize("text", ["base\nbase\n"])
def test_rank_file_rejects_duplicates(text):
    with pytest.raises(AssertionError):
        read_ranks(text)
