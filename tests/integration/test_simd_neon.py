"""NEON kernels under emulation: builds tools/simd_selfcheck.cpp in the aarch64-linux-musl
cross build (scripts/cross-build.sh, zig's clang; the engine library there is the one the
portable file ships, so nothing is compiled twice) and runs it under qemu-aarch64-static,
which compares every NEON / NEON-dotprod kernel with the generic kernel of its type and every
level's matmul_tile() (the NEON GEMMs) with matmul_tile_generic, and exits non-zero on a
mismatch (oracle and tolerance: see the tool's header).

Two emulated CPUs: qemu's default model (has the dot-product extension: levels neon and
neondot are both checked) and a Cortex-A53 (ARMv8.0, no dotprod: detection must say neon and
only the neon kernels run). Skips with the reason when zig or qemu is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZIG = ROOT / "build" / "deps" / "zig"
QEMU = shutil.which("qemu-aarch64-static")
CROSS = ROOT / "build" / "cross" / "aarch64-linux-musl" / "cmake"

# Activation rows of 1, 3, 9 blocks (floats: 1, 3, 40 elements) x 6 batch sizes x 3 row
# ranges, for each of the 28 dot types (every row of the type table with a dot product:
# tools/simd_selfcheck.cpp walks the table), per level.
TILES_PER_LEVEL = 28 * 3 * 6 * 3


@pytest.fixture(scope="module")
def selfcheck() -> Path:
    if QEMU is None:
        pytest.skip("qemu-aarch64-static not installed (apt install qemu-user-static)")
    if not ZIG.exists():
        pytest.skip(f"{ZIG} missing (scripts/setup.sh --test installs zig)")
    if not (CROSS / "build.ninja").exists():
        r = subprocess.run([str(ROOT / "scripts" / "cross-build.sh"), "aarch64-linux-musl"],
                           capture_output=True, text=True, timeout=3600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = subprocess.run(["cmake", "--build", str(CROSS), "--target", "simd_selfcheck",
                        "-j", str(os.cpu_count() or 2)], capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    exe = CROSS / "simd_selfcheck"
    # Both ARM kernel levels were compiled in, with their ISA flags (CMakeLists.txt).
    flags = (CROSS / "build.ninja").read_text()
    assert "gemm_neon.cpp" in flags and "gemm_neondot.cpp" in flags
    assert "MMOJO_HAVE_NEONDOT=1" in flags
    return exe


def run(exe: Path, cpu: str | None, *args: str) -> subprocess.CompletedProcess:
    cmd = [QEMU] + (["-cpu", cpu] if cpu else []) + [str(exe), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_neon_and_neondot_kernels_match_generic(selfcheck):
    r = run(selfcheck, None, "--expect-level", "neondot", "--min-kernels", "53",
            "--min-tiles", str(2 * TILES_PER_LEVEL))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "neondot    q4_0    ok" in r.stdout and "neon       q8_0    ok" in r.stdout, r.stdout
    # 53 = 15 neon + 12 neondot kernels of the older types + MXFP4 and 12 low-bit ones at each level.
    for level in ("neon", "neondot"):
        for t in ("iq2_xxs", "iq3_xxs", "iq2_s", "iq1_s", "iq1_m", "tq1_0", "nvfp4", "q1_0", "q2_0"):
            assert f"{level:<10} {t:<7} ok" in r.stdout, r.stdout
    assert "neondot    mxfp4   ok" in r.stdout and "neon       mxfp4   ok" in r.stdout, r.stdout
    # Both levels run their own GEMM, and it was compared on every type it handles.
    for level in ("neon", "neondot"):
        assert f"tile {level:<10} register-blocked" in r.stdout, r.stdout
        for t in ("q4_0", "q8_0", "q4_K", "q6_K"):
            assert f"tile {level:<10} {t:<7} ok" in r.stdout, r.stdout


def test_cpu_without_dotprod_uses_plain_neon(selfcheck):
    r = run(selfcheck, "cortex-a53", "--expect-level", "neon", "--min-kernels", "28",
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
