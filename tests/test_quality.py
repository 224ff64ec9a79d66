"""The code-quality gates are part of the test run: ruff and mypy --strict must be clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_clean() -> None:
    if shutil.which("ruff") is None:
        pytest.fail("ruff is not installed (pip install -e '.[test]')")
    targets = [d for d in ("memplan", "tests", "benchmarks", "tools") if (ROOT / d).is_dir()]
    res = _run(["ruff", "check", *targets])
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_clean() -> None:
    res = _run([sys.executable, "-m", "mypy", "--strict", "memplan"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_package_is_typed() -> None:
    assert (ROOT / "memplan" / "py.typed").is_file()
