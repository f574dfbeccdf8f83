"""Shared fixtures for the integration suites: where the binaries and ../shared are, and a
helper that runs the real server on a free loopback port."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MMOJO_SHARED_DIR", ROOT.parent / "shared")).resolve()
BUILD = Path(os.environ.get("MMOJO_BUILD_DIR", ROOT / "build" / "release")).resolve()
MODELS = SHARED / "models"
REFERENCE = SHARED / "reference"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """The real mmojo-server binary on 127.0.0.1:<free port>; stopped by stop()."""

    def __init__(self, args: list[str], binary: Path | None = None, env: dict | None = None,
                 cwd: Path | None = None, wait_ready: bool = True, timeout: float = 60.0):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [str(binary or BUILD / "mmojo-server"), "--host", "127.0.0.1",
               "--port", str(self.port), *args]
        self.log_path = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "test-output")) / \
            f"server-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, cwd=cwd)
        if wait_ready:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return BUILD


# The x86 extensions mmojo-server reports (kernels/dispatch.h cpu_features), spelled as Linux
# spells them in /proc/cpuinfo.
X86_FEATURE_NAMES = {"avx2", "fma", "f16c", "bmi2", "avx512f", "avx512dq", "avx512bw", "avx512vl",
                     "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}


def linux_x86_cpu_features() -> set[str] | None:
    """Those of X86_FEATURE_NAMES that the kernel lists for this CPU, or None when this is not
    x86 Linux (the independent oracle for cpu_features)."""
    import platform

    cpuinfo = Path("/proc/cpuinfo")
    if platform.machine() not in ("x86_64", "AMD64") or not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split()) & X86_FEATURE_NAMES
    return None
