"""NEON kernels under emulation: cross-builds tools/simd_selfcheck.cpp with the quant sources
and the matrix-product tiles (ops/matmul.cpp, ops/gemm_neon*.cpp, and runtime/thread_pool.cpp
which matmul.cpp links against) for aarch64-linux-musl (zig's clang from .venv) and runs it
under qemu-aarch64-static, which compares every NEON / NEON-dotprod kernel with the generic
kernel of its type and every level's matmul_tile() (the NEON GEMMs) with
matmul_tile_generic, and exits non-zero on a mismatch (oracle and tolerance: see the tool's
header).

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
SRC = ROOT / "src"
X86_SUFFIXES = ("avx2", "avx512", "avx512vnni", "amx")

# Per-ISA flags by file-name suffix as zig's clang spells them (it reads -march as a CPU
# name), as CMakeLists.txt gives them.
ISA_FLAGS = {"neon": ["-mcpu=generic"],
             "neondot": ["-mcpu=generic+dotprod+fullfp16"]}

# Activation rows of 1, 3, 9 blocks (floats: 1, 3, 40 elements) x 6 batch sizes x 3 row
# ranges, for each of the 15 dot types, per level (tools/simd_selfcheck.cpp).
TILES_PER_LEVEL = 15 * 3 * 6 * 3


def isa_of(path: Path) -> str | None:
    suffix = path.stem.rsplit("_", 1)[-1]
    return suffix if suffix in ISA_FLAGS or suffix in X86_SUFFIXES else None


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
    candidates = sorted(SRC.glob("quant/*.cpp")) + [SRC / "ops" / "matmul.cpp"]
    candidates += sorted(SRC.glob("ops/gemm_*.cpp"))
    sources = [p for p in candidates if isa_of(p) not in X86_SUFFIXES]
    sources += [SRC / "runtime" / "thread_pool.cpp", ROOT / "tools" / "simd_selfcheck.cpp"]
    isas = sorted({isa_of(p) for p in sources} - {None})
    assert isas == ["neon", "neondot"], isas
    assert {p.name for p in sources} >= {"gemm_neon.cpp", "gemm_neondot.cpp"}, sources
    defines = [f"-DMMOJO_HAVE_{isa.upper()}=1" for isa in isas]
    objects = []
    for src in sources:
        obj = out / (src.parent.name + "_" + src.stem + ".o")
        cmd = cxx + ISA_FLAGS.get(isa_of(src) or "", []) + defines + ["-c", str(src), "-o", str(obj)]
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
    r = run(selfcheck, None, "--expect-level", "neondot", "--min-kernels", "27",
            "--min-tiles", str(2 * TILES_PER_LEVEL))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "neondot    q4_0    ok" in r.stdout and "neon       q8_0    ok" in r.stdout, r.stdout
    # Both levels run their own GEMM, and it was compared on every type it handles.
    for level in ("neon", "neondot"):
        assert f"tile {level:<10} register-blocked" in r.stdout, r.stdout
        for t in ("q4_0", "q8_0", "q4_K", "q6_K"):
            assert f"tile {level:<10} {t:<7} ok" in r.stdout, r.stdout


def test_cpu_without_dotprod_uses_plain_neon(selfcheck):
    r = run(selfcheck, "cortex-a53", "--expect-level", "neon", "--min-kernels", "15",
            "--min-tiles", str(TILES_PER_LEVEL))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "neondot" not in r.stdout, r.stdout
    assert "tile neon       register-blocked" in r.stdout, r.stdout


def features_of(stdout: str) -> list[str]:
    line = next(l for l in stdout.splitlines() if l.startswith("cpu features:"))
    return line.split()[2:]


@pytest.mark.parametrize("cpu,expected", [
    # Arm's manuals: the Cortex-A53 is ARMv8.0 (no half-precision arithmetic, no dot
    # product); the Cortex-A76 is ARMv8.2 with both but without the int8 matrix multiply
    # (FEAT_I8MM, optional from v8.2); qemu's "max" model implements all three.
    ("cortex-a53", ["asimd"]),
    ("cortex-a76", ["asimd", "asimdhp", "asimddp"]),
    ("max", ["asimd", "asimdhp", "asimddp", "i8mm"]),
])
def test_cpu_features_follow_the_emulated_cpu(selfcheck, cpu, expected):
    r = run(selfcheck, cpu, "--min-kernels", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert features_of(r.stdout) == expected, r.stdout
