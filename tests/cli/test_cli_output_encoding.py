"""Non-UTF-8 bytes in file names and --cmdline print escaped under a strict UTF-8 stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import memplan

ROOT = Path(memplan.__file__).resolve().parent.parent


def run(args: list[bytes], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    return subprocess.run([sys.executable.encode(), b"-m", b"memplan", *args], cwd=cwd, env=env,
                          capture_output=True, check=False, timeout=120)


def test_non_utf8_file_name_and_cmdline_are_escaped(tmp_path: Path) -> None:
    name = b"b\xff.dts"
    (tmp_path / os.fsdecode(name)).write_text("/dts-v1/;\n/ { };\n")
    args = [b"resolve", b"--dts", name, b"--arch", b"arm64", b"--memory", b"1G", b"--cmdline", b"cma=\xfe"]
    res = run(args, tmp_path)
    assert res.returncode == 0, res.stderr
    assert b"Traceback" not in res.stderr
    assert b"cma=\\udcfe" in res.stdout
    missing = run([b"resolve", b"--dts", b"x\xff.dts"], tmp_path)
    assert missing.returncode == 2 and b"Traceback" not in missing.stderr
    assert b"x\\udcff.dts" in missing.stderr
