"""`mmojo-server pack` end to end on the real binary: a plain build carries a ZIP appended
to its end. Checked with Python's zipfile (entries, 64 KiB alignment of model data from the
local header), `unzip -t`, byte-identical repacks, the 4 GiB refusal, and a packed server
that starts with its embedded model and args, overridden by an adjacent args file and the
command line."""
from __future__ import annotations

import shutil
import io
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
import requests

from conftest import BUILD, MODELS, ROOT, ServerProcess

MODEL = MODELS / "stories260K.gguf"


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def binary() -> Path:
    exe = BUILD / "mmojo-server"
    if not exe.exists():
        pytest.skip(f"{exe} not built")
    r = run([exe, "pack", "--help"])
    if r.returncode != 0 or "usage: mmojo-server pack" not in r.stdout:
        pytest.skip("the pack subcommand is not wired into main yet: " + (r.stderr or r.stdout).strip())
    return exe


@pytest.fixture()
def ui_dir(tmp_path: Path) -> Path:
    # The bundled UI the host build made (scripts/bundle-ui.mjs), as the executable embeds it.
    if (BUILD / "ui" / "index.html").exists():
        return BUILD / "ui"
    d = tmp_path / "ui"
    (d / "js").mkdir(parents=True)
    (d / "index.html").write_text("<!doctype html><title>t</title>" + "<p>x</p>" * 500)
    (d / "js" / "app.js").write_text("console.log('mmojo');\n" * 50)
    return d


def check_archive(path: Path, prefix: bytes) -> list[str]:
    raw = path.read_bytes()
    # A host build already carries its own ZIP (the web UI): only the bytes before it are
    # the executable that pack must keep.
    try:
        with zipfile.ZipFile(io.BytesIO(prefix)) as own:
            prefix = prefix[:min(i.header_offset for i in own.infolist())]
    except (zipfile.BadZipFile, ValueError):
        pass
    assert raw.startswith(prefix), "the executable bytes must be kept verbatim"
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        for info in z.infolist():
            assert info.header_offset >= len(prefix)
            if info.filename.endswith(".gguf"):
                assert info.compress_type == zipfile.ZIP_STORED
                n, x = struct.unpack_from("<HH", raw, info.header_offset + 26)
                start = info.header_offset + 30 + n + x
                assert start % 65536 == 0, (info.filename, start)
                assert raw[start:start + info.file_size] == MODEL.read_bytes()
        names = z.namelist()
    assert run(["unzip", "-tq", path]).returncode == 0
    return names


def test_pack_model_args_ui(binary: Path, tmp_path: Path, ui_dir: Path):
    args = tmp_path / "defaults.yaml"
    args.write_text("ctx-size: 256\nn-predict: 8\n")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = run([binary, "pack", "-o", out, "--model", MODEL, "--args", args, "--ui", ui_dir])
        assert r.returncode == 0, r.stderr
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes(), "pack must be reproducible"
    names = check_archive(outs[0], binary.read_bytes())
    assert names[0] == "mmojo-server-args.yaml"
    assert names[-1] == "stories260K.gguf"
    assert any(n.startswith("ui/") for n in names)
    with zipfile.ZipFile(outs[0]) as z:
        assert z.read("mmojo-server-args.yaml") == args.read_bytes()
        for n in names:
            if n.startswith("ui/"):
                assert z.read(n) == (ui_dir / n[3:]).read_bytes()


def test_packed_file_repacks_itself(binary: Path, tmp_path: Path, ui_dir: Path):
    first = tmp_path / "first"
    assert run([binary, "pack", "-o", first, "--model", MODEL, "--ui", ui_dir]).returncode == 0
    # The packed file runs `pack` on itself (self-location finds the outer file).
    second = tmp_path / "second"
    r = run([first, "pack", "-o", second, "--remove", "ui/"])
    assert r.returncode == 0, r.stderr
    names = check_archive(second, binary.read_bytes())
    assert names == ["stories260K.gguf"]
    # No changes: identical output.
    third = tmp_path / "third"
    assert run([first, "pack", "-o", third]).returncode == 0
    assert third.read_bytes() == first.read_bytes()


def test_pack_refuses_4gib(binary: Path, tmp_path: Path):
    big = tmp_path / "big.gguf"
    with open(big, "wb") as f:
        f.write(b"GGUF")
        f.truncate((1 << 32) + 10)  # sparse
    out = tmp_path / "huge"
    r = run([binary, "pack", "-o", out, "--model", big])
    assert r.returncode == 1
    assert "Windows cannot run executables of 4 GiB" in r.stderr
    assert "--allow-over-4g" in r.stderr
    assert not out.exists()


def test_pack_reports_bad_args_file(binary: Path, tmp_path: Path):
    bad = tmp_path / "bad-args"
    bad.write_text("-m x.gguf\n--prompt 'unterminated\n")
    r = run([binary, "pack", "-o", tmp_path / "o", "--args", bad])
    assert r.returncode == 1
    assert f"{bad}:2:10: unterminated single quote" in r.stderr


def n_ctx(server: ServerProcess) -> int:
    models = requests.get(server.base + "/v1/models", timeout=10).json()
    return models["data"][0]["meta"]["n_ctx"]


def test_packed_server_embedded_model_and_args_precedence(binary: Path, tmp_path: Path):
    exe = tmp_path / "bin" / "chat"
    exe.parent.mkdir()
    args = tmp_path / "defaults"
    args.write_text("--ctx-size 256 # embedded default\n")
    r = run([binary, "pack", "-o", exe, "--model", MODEL, "--args", args])
    assert r.returncode == 0, r.stderr
    with ServerProcess([], binary=exe, cwd=tmp_path) as s:
        assert n_ctx(s) == 256
        assert "stories260K.gguf" in requests.get(s.base + "/props", timeout=10).json()["model_path"]
    (exe.parent / "chat-args.yaml").write_text("ctx-size: 512\n")
    with ServerProcess([], binary=exe, cwd=tmp_path) as s:
        assert n_ctx(s) == 512
    with ServerProcess(["--ctx-size", "128"], binary=exe, cwd=tmp_path) as s:
        assert n_ctx(s) == 128
