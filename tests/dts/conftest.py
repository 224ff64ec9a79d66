"""Shared helpers for the DTS tests: compile a source text with dtc as the oracle."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dts.libfdt_tools import JUDGES, fdtoverlay

DTC = shutil.which("dtc")


def _dtc_compile(tmp_path: Path) -> Callable[..., bytes]:
    counter = [0]

    def compile_(text: str, *flags: str, name: str | None = None) -> bytes:
        if DTC is None:
            pytest.skip("dtc is not installed")
        counter[0] += 1
        src = tmp_path / (name or f"oracle{counter[0]}.dts")
        src.write_text(text)
        out = tmp_path / f"oracle{counter[0]}.dtb"
        cmd = [DTC, "-q", "-I", "dts", "-O", "dtb", "-b", "0", *flags, "-o", str(out), str(src)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
        assert res.returncode == 0, f"dtc rejected the test input:\n{res.stderr}"
        return out.read_bytes()

    return compile_


@pytest.fixture
def dtc_dtb(tmp_path: Path) -> Callable[..., bytes]:
    """``dtc_dtb(text, *flags)``: the DTB dtc 1.6 builds from ``text`` (skips without dtc)."""
    return _dtc_compile(tmp_path)


@pytest.fixture
def dtc_rejects(tmp_path: Path) -> Callable[[str], str]:
    """``dtc_rejects(text)``: assert dtc fails on ``text``; returns its stderr."""

    def run(text: str) -> str:
        if DTC is None:
            pytest.skip("dtc is not installed")
        src = tmp_path / "bad.dts"
        src.write_text(text)
        res = subprocess.run([DTC, "-q", "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "bad.dtb"), str(src)],
                             capture_output=True, text=True, check=False, cwd=tmp_path)
        assert res.returncode != 0, "dtc accepted input the test expects it to reject"
        return res.stderr

    return run


@pytest.fixture(params=JUDGES)
def fdto(request: pytest.FixtureRequest) -> str:
    """Each fdtoverlay that judges overlay parity: the installed one (1.6.1 in CI) and the kernel
    tree's (1.7.0, built from its sources: :mod:`tests.dts.libfdt_tools`); skips an absent one."""
    return fdtoverlay(request.param)
