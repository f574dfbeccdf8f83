"""Split GGUF models (issue 17): a model written as PREFIX-0000i-of-00003.gguf by gguf-py's
own writer (split_max_tensors, which adds split.no / split.count / split.tensors.count) is
loaded from its first part and generates exactly what the unsplit file generates (F32 and
K-quant tensors); a missing,
foreign or misnamed part, or a later part given first, is a clear error."""
from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import gguf
import pytest

from conftest import BUILD, MODELS
from server_helpers import STORIES

BINARY = BUILD / "mmojo-server"
# A small random-weight model with K-quant tensors (shared/tools/make_test_model.py).
Q4_K_M = MODELS / "gen" / "test-q4_k_m.gguf"


def write_split(source: Path, out_dir: Path, parts: int = 3) -> list[Path]:
    """Copies `source` into `parts` split files with gguf-py's writer (metadata in the first
    part; tensors spread evenly, their bytes copied unchanged)."""
    reader = gguf.GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    per_part = math.ceil(len(reader.tensors) / parts)
    base = out_dir / f"{source.stem}.gguf"
    writer = gguf.GGUFWriter(base, arch, split_max_tensors=per_part)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub_type)
    for t in reader.tensors:
        writer.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    names = [out_dir / f"{source.stem}-{i:05d}-of-{parts:05d}.gguf" for i in range(1, parts + 1)]
    assert all(p.exists() for p in names), sorted(out_dir.iterdir())
    return names


def generate(model: Path, n: int = 24) -> subprocess.CompletedProcess:
    """Greedy CLI run; stdout stays bytes (a random-weight model's text need not be UTF-8)."""
    r = subprocess.run([str(BINARY), "--cli", "-m", str(model), "-p", "Once upon a time", "-n", str(n),
                        "--temp", "0"], capture_output=True, timeout=300)
    r.stderr = r.stderr.decode("utf-8", "replace")
    return r


@pytest.mark.parametrize("source", [STORIES, Q4_K_M], ids=["stories260K-f32", "test-q4_k_m"])
def test_split_model_generates_what_the_whole_file_does(tmp_path, source):
    if not source.exists():
        pytest.skip(f"{source} not present")
    parts = write_split(source, tmp_path)
    n_tensors = []
    for i, p in enumerate(parts):
        r = gguf.GGUFReader(p)
        assert r.fields["split.no"].contents() == i and r.fields["split.count"].contents() == 3
        n_tensors.append(len(r.tensors))
    assert all(n > 0 for n in n_tensors)
    assert r.fields["split.tensors.count"].contents() == sum(n_tensors)
    whole = generate(source)
    split = generate(parts[0])
    assert whole.returncode == 0, whole.stderr
    assert split.returncode == 0, split.stderr
    assert split.stdout == whole.stdout and len(whole.stdout) > 0


@pytest.fixture()
def stories_parts(tmp_path) -> list[Path]:
    return write_split(STORIES, tmp_path)


def test_missing_part_is_named(stories_parts):
    stories_parts[2].unlink()
    r = generate(stories_parts[0])
    assert r.returncode == 1
    assert f"part 3 of 3 of the split model is missing: expected {stories_parts[2]}" in r.stderr, r.stderr


def test_later_part_given_first_points_to_the_first(stories_parts):
    r = generate(stories_parts[1])
    assert r.returncode == 1
    assert f"this is part 2 of 3 of a split model; give the first part, {stories_parts[0]}" in r.stderr, r.stderr


def test_part_of_another_position_is_refused(stories_parts):
    shutil.copyfile(stories_parts[2], stories_parts[1])   # part 3's keys under part 2's name
    r = generate(stories_parts[0])
    assert r.returncode == 1
    assert "expected part 2 of 3 of the split model" in r.stderr and "keys say part 3 of 3" in r.stderr, r.stderr


def test_first_part_with_another_name_cannot_find_the_rest(stories_parts, tmp_path):
    renamed = tmp_path / "renamed.gguf"
    shutil.copyfile(stories_parts[0], renamed)
    r = generate(renamed)
    assert r.returncode == 1
    assert "does not end in '-00001-of-00003.gguf'" in r.stderr, r.stderr


def test_repeated_tensor_across_parts_is_refused(tmp_path):
    # Part 2 rewritten (same split keys) to hold part 1's tensors again.
    a = write_split(STORIES, tmp_path)
    r = gguf.GGUFReader(a[0])
    first_names = {t.name for t in r.tensors}
    # Rewrite part 2 to hold part 1's tensors (same split keys).
    src2 = gguf.GGUFReader(a[1])
    w = gguf.GGUFWriter(a[1].with_suffix(".tmp"), "llama")
    for field in src2.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(field.name, field.contents(), vtype, sub_type=sub_type)
    for t in r.tensors:
        w.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    a[1].with_suffix(".tmp").replace(a[1])
    res = generate(a[0])
    assert res.returncode == 1
    repeated = sorted(first_names)[0]
    assert "is also in" in res.stderr and "tensor '" in res.stderr, res.stderr
    assert any(f"tensor '{n}'" in res.stderr for n in first_names), (repeated, res.stderr)
