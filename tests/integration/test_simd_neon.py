"""NEON kernels under emulation: cross-builds tools/simd_selfcheck.cpp with the quant sources
for aarch64-linux-musl (zig's clang from .venv) and runs it under qemu-aarch64-static, which
compares every NEON / NEON-dotprod kernel with the generic kernel of its type and exits
non-zero on a mismatch (oracle and tolerance: see the tool's header).

Two emulated CPUs: qemu's default model (has the dot-product extension: levels neon and
neondot are both checked) and a Cortex-A53 (ARMv8.0, no dotprod: detection must say neon and
only the neon kernels run). Skips with the reason when zig or qemu is missing."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
QEMU = shutil.which("qemu-aarch64-static")
QUANT = ROOT / "src" / "quant"

# Per-file ISA flags as zig's clang spells them (it reads -march as a CPU name).
ISA_FLAGS = {"kernels_neon.cpp": ["-mcpu=generic"],
             "kernels_neondot.cpp": ["-mcpu=generic+dotprod+fullfp16"]}


def have_zig() -> bool:
    if not PYTHON.exists():
        return False
    return subprocess.run([str(PYTHON), "-m", "ziglang", "version"],
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def selfcheck(tmp_path_factory) -> Path:
    if QEMU is None:
        pytest.skip("qemu-aarch64-static not installed (apt install qemu-user-static)")
    if not have_zig():
        pytest.skip(f"{PYTHON} -m ziglang does not run (scripts/setup.sh installs it)")
    out = tmp_path_factory.mktemp("simd-aarch64")
    cxx = [str(PYTHON), "-m", "ziglang", "c++", "-target", "aarch64-linux-musl", "-std=c++20",
           "-O2", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'src'}"]
    sources = sorted(p for p in QUANT.glob("*.cpp")
                     if not any(p.name.endswith(f"_{isa}.cpp")
                                for isa in ("avx2", "avx512", "avx512vnni")))
    sources.append(ROOT / "tools" / "simd_selfcheck.cpp")
    defines = [f"-DMMOJO_HAVE_{p.stem.rsplit('_', 1)[1].upper()}=1"
               for p in sources if p.name in ISA_FLAGS]
    objects = []
    for src in sources:
        obj = out / (src.stem + ".o")
        cmd = cxx + ISA_FLAGS.get(src.name, []) + defines + ["-c", str(src), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
        objects.append(str(obj))
    exe = out / "simd_selfcheck"
    r = subprocess.run(cxx + objects + ["-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def run(exe: Path, cpu: str | None, *args: str) -> subprocess.CompletedProcess:
    cmd = [QEMU] + (["-cpu", cpu] if cpu else []) + [str(exe), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_neon_and_neondot_kernels_match_generic(selfcheck):
    r = run(selfcheck, None, "--expect-level", "neondot", "--min-kernels", "27")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "neondot    q4_0    ok" in r.stdout and "neon       q8_0    ok" in r.stdout, r.stdout


def test_cpu_without_dotprod_uses_plain_neon(selfcheck):
    r = run(selfcheck, "cortex-a53", "--expect-level", "neon", "--min-kernels", "15")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "neondot" not in r.stdout, r.stdout
