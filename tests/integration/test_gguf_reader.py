"""The GGUF reader and writer against an independent oracle, Python's `gguf` package.

* every model in ../shared/models: what tools/gguf_dump (our reader) reports must equal what
  gguf.GGUFReader decodes: every metadata key, type and value (arrays in full), every
  tensor's name, dims, type, byte size and absolute data offset;
* files written by tools/gguf_write (our writer) from a description made here must decode
  in gguf.GGUFReader to exactly that description, and read back the same through our reader.
"""
from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

from conftest import BUILD, MODELS

GGUF_DUMP = BUILD / "gguf_dump"
GGUF_WRITE = BUILD / "gguf_write"

ALL_MODELS = sorted(p for p in MODELS.rglob("*.gguf") if "legacy" not in p.parts)
LEGACY_V1 = MODELS / "legacy" / "tinyllamas-stories-260k-f32.gguf"

VT = gguf.GGUFValueType
TYPE_NAMES = {
    VT.UINT8: "uint8", VT.INT8: "int8", VT.UINT16: "uint16", VT.INT16: "int16",
    VT.UINT32: "uint32", VT.INT32: "int32", VT.FLOAT32: "float32", VT.BOOL: "bool",
    VT.STRING: "string", VT.ARRAY: "array", VT.UINT64: "uint64", VT.INT64: "int64",
    VT.FLOAT64: "float64",
}


def dump(path: Path, *extra: str) -> dict:
    proc = subprocess.run([str(GGUF_DUMP), str(path), *extra], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout)


def decode_string(raw: bytes):
    """The same convention as gguf_dump: valid UTF-8 as text, otherwise {"hex": ...}."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}


def rebuild(parts: list, i: int, vtype: VT):
    """Rebuilds one value from the numpy parts GGUFReader decoded (it flattens nested
    arrays, so the structure is recovered from the element types and lengths it read)."""
    if vtype == VT.STRING:
        return decode_string(bytes(parts[i + 1].tobytes())), i + 2
    if vtype == VT.ARRAY:
        etype = VT(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        values = []
        for _ in range(count):
            v, i = rebuild(parts, i, etype)
            values.append(v)
        return {"element_type": TYPE_NAMES[etype], "values": values}, i
    x = parts[i][0]
    if vtype == VT.BOOL:
        return bool(x), i + 1
    if vtype in (VT.FLOAT32, VT.FLOAT64):
        return float(x), i + 1
    return int(x), i + 1


def same(a, b) -> bool:
    """Structural equality where NaN equals NaN; gguf_dump spells non-finite floats as
    "nan", "inf", "-inf" (JSON has no such numbers)."""
    special = ("nan", "inf", "-inf")
    if isinstance(a, str) and a in special and isinstance(b, float):
        a = float(a)
    if isinstance(b, str) and b in special and isinstance(a, float):
        b = float(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def python_view(path: Path) -> dict:
    r = gguf.GGUFReader(path)
    metadata = []
    for field in r.fields.values():
        if field.name.startswith("GGUF."):  # the reader's pseudo-fields for the header
            continue
        vtype = VT(int(field.parts[2][0]))  # parts: key length, key bytes, type, value...
        value, end = rebuild(field.parts, 3, vtype)
        assert end == len(field.parts), field.name
        metadata.append({"key": field.name, "type": TYPE_NAMES[vtype], "value": value})
    tensors = [{
        "name": t.name,
        "dims": [int(d) for d in t.shape],
        "type_id": int(t.tensor_type),
        "n_elements": int(t.n_elements),
        "n_bytes": int(t.n_bytes),
        "file_offset": int(t.data_offset),
    } for t in r.tensors]
    version = int(r.fields["GGUF.version"].parts[0][0])
    return {"version": version, "alignment": int(r.alignment), "data_offset": int(r.data_offset),
            "metadata": metadata, "tensors": tensors}


def compare(ours: dict, theirs: dict) -> None:
    assert ours["version"] == theirs["version"]
    assert ours["alignment"] == theirs["alignment"]
    if theirs["tensors"]:
        assert ours["data_offset"] == theirs["data_offset"]
    assert [m["key"] for m in ours["metadata"]] == [m["key"] for m in theirs["metadata"]]
    for a, b in zip(ours["metadata"], theirs["metadata"]):
        assert a["type"] == b["type"], a["key"]
        assert same(a["value"], b["value"]), a["key"]
    assert len(ours["tensors"]) == len(theirs["tensors"])
    for a, b in zip(ours["tensors"], theirs["tensors"]):
        for field in ("name", "dims", "type_id", "n_elements", "n_bytes", "file_offset"):
            assert a[field] == b[field], (a["name"], field)
        assert a["offset"] == b["file_offset"] - ours["data_offset"]


@pytest.mark.parametrize("path", ALL_MODELS, ids=lambda p: str(p.relative_to(MODELS)))
def test_model_matches_python_reader(path: Path):
    compare(dump(path), python_view(path))


def test_all_model_folders_are_covered():
    names = {str(p.relative_to(MODELS)) for p in ALL_MODELS}
    assert any(n.startswith("gen/") for n in names)
    assert any(n.startswith("vocab/") for n in names)
    assert "stories260K.gguf" in names


def test_version_1_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="version 1 "):  # the oracle agrees it is version 1
        gguf.GGUFReader(LEGACY_V1)
    proc = subprocess.run([str(GGUF_DUMP), str(LEGACY_V1)], capture_output=True, timeout=60)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "unsupported GGUF version 1" in err
    assert str(LEGACY_V1) in err


def test_embedded_range_reads_like_the_file(tmp_path: Path):
    # A GGUF stored inside a larger file at an offset that is not page-aligned.
    src = MODELS / "stories260K.gguf"
    prefix = bytes(random.Random(1).randrange(256) for _ in range(4096 + 123))
    blob = tmp_path / "container.bin"
    blob.write_bytes(prefix + src.read_bytes() + b"trailing junk")
    whole = dump(src)
    inner = dump(blob, str(len(prefix)), str(src.stat().st_size))
    assert inner["metadata"] == whole["metadata"]
    assert inner["tensors"] == whole["tensors"]


# ---- writer ---------------------------------------------------------------------------

def sample_spec(alignment: int, seed: int) -> dict:
    rng = random.Random(seed)
    arr = lambda et, vs: {"element_type": et, "values": vs}  # noqa: E731
    metadata = [
        {"key": "general.architecture", "type": "string", "value": "llama"},
        {"key": "t.u8", "type": "uint8", "value": 255},
        {"key": "t.i8", "type": "int8", "value": -128},
        {"key": "t.u16", "type": "uint16", "value": 65535},
        {"key": "t.i16", "type": "int16", "value": -32768},
        {"key": "t.u32", "type": "uint32", "value": 4294967295},
        {"key": "t.i32", "type": "int32", "value": -2147483648},
        {"key": "t.f32", "type": "float32", "value": -1.25},
        {"key": "t.f32big", "type": "float32", "value": 3.0e38},
        {"key": "t.f32inf", "type": "float32", "value": "-inf"},
        {"key": "t.f32nan", "type": "float32", "value": "nan"},
        {"key": "t.bool", "type": "bool", "value": True},
        {"key": "t.false", "type": "bool", "value": False},
        {"key": "t.str", "type": "string", "value": "héllo ▁wörld \u0000 end"},
        {"key": "t.empty", "type": "string", "value": ""},
        {"key": "t.u64", "type": "uint64", "value": 18446744073709551615},
        {"key": "t.i64", "type": "int64", "value": -9223372036854775808},
        {"key": "t.f64", "type": "float64", "value": 0.1},
        {"key": "t.arr.u8", "type": "array", "value": arr("uint8", [0, 1, 255])},
        {"key": "t.arr.i32", "type": "array", "value": arr("int32", [-5, 7, 2147483647])},
        {"key": "t.arr.f32", "type": "array", "value": arr("float32", [0.5, -2.0, 1e-3])},
        {"key": "t.arr.str", "type": "array", "value": arr("string", ["a", "", "ü"])},
        {"key": "t.arr.bool", "type": "array", "value": arr("bool", [True, False])},
        {"key": "t.arr.empty", "type": "array", "value": arr("int64", [])},
        {"key": "t.arr.nested", "type": "array", "value": arr("array", [
            arr("int16", [1, -2]), arr("int16", []), arr("int16", [3])])},
        {"key": "t.arr.deep", "type": "array", "value": arr("array", [
            arr("array", [arr("string", ["x", "yz"]), arr("string", [])])])},
    ]
    # float32 values must be exactly representable for an exact comparison
    for m in metadata:
        v = m["value"]
        if m["type"] == "float32" and isinstance(v, float):
            m["value"] = float(np.float32(v))
        if m["type"] == "array" and v["element_type"] == "float32":
            v["values"] = [float(np.float32(x)) for x in v["values"]]
    block = {  # (elements, bytes) per block, from the gguf package: an independent table
        name: gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[name.upper()]]
        for name in ("f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K",
                     "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs")}
    tensors = []
    for i, (name, (bs, bb)) in enumerate(block.items()):
        dims = [bs * rng.randint(1, 3), rng.randint(1, 3)] + ([2] if i % 3 == 0 else [])
        n_bytes = math.prod(dims) // bs * bb
        data = bytes(rng.randrange(256) for _ in range(n_bytes))
        tensors.append({"name": f"blk.{i}.{name}.weight", "type": name, "dims": dims,
                        "data_hex": data.hex()})
    return {"alignment": alignment, "metadata": metadata, "tensors": tensors}


def expected_fields(spec: dict) -> list[dict]:
    out = [dict(m) for m in spec["metadata"]]
    for m in out:
        if m["value"] in ("nan", "inf", "-inf"):
            m["value"] = float(m["value"])
    if spec["alignment"] != 32:
        out.append({"key": "general.alignment", "type": "uint32", "value": spec["alignment"]})
    return out


@pytest.mark.parametrize("alignment,seed", [(32, 1), (64, 2), (1, 3), (4096, 4)])
def test_writer_output_read_by_python(tmp_path: Path, alignment: int, seed: int):
    spec = sample_spec(alignment, seed)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = tmp_path / "out.gguf"
    proc = subprocess.run([str(GGUF_WRITE), str(tmp_path / "spec.json"), str(out)],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()

    theirs = python_view(out)
    assert theirs["version"] == 3
    assert theirs["alignment"] == alignment
    want = expected_fields(spec)
    assert [m["key"] for m in theirs["metadata"]] == [m["key"] for m in want]
    for got, exp in zip(theirs["metadata"], want):
        assert got["type"] == exp["type"], exp["key"]
        assert same(got["value"], exp["value"]), exp["key"]
    r = gguf.GGUFReader(out)
    assert len(r.tensors) == len(spec["tensors"])
    for t, exp in zip(r.tensors, spec["tensors"]):
        assert t.name == exp["name"]
        assert [int(d) for d in t.shape] == exp["dims"]
        assert t.tensor_type == gguf.GGMLQuantizationType[exp["type"].upper()]
        assert t.data_offset % alignment == 0
        raw = out.read_bytes()[t.data_offset:t.data_offset + t.n_bytes]
        assert raw.hex() == exp["data_hex"]

    # and our reader agrees with the oracle on the same file
    compare(dump(out), theirs)


def test_writer_without_tensors_ends_after_metadata(tmp_path: Path):
    spec = {"metadata": [{"key": "a", "type": "string", "value": "xyz"}], "tensors": []}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = tmp_path / "out.gguf"
    subprocess.run([str(GGUF_WRITE), str(tmp_path / "spec.json"), str(out)], check=True)
    # header 24 + key (8 + 1) + type 4 + string (8 + 3)
    assert out.stat().st_size == 24 + 9 + 4 + 11
    assert python_view(out)["metadata"][0]["value"] == "xyz"
    assert dump(out)["metadata"][0]["value"] == "xyz"
