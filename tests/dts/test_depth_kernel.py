"""Nesting depth: what dtc builds and what the kernel then does with it.

dtc 1.6.1 and 1.7.0 take plain nesting up to 3,330 levels (their parser stack is the bound,
which memplan follows: tests/dts/test_dtc_stack.py); blobs have no depth bound (libfdt and
the kernel have none), nor has memplan's blob reader and writer. The kernel's
``unflatten_dt_nodes()`` skips nodes 63 or more levels below the root (``FDT_MAX_DEPTH`` 64),
which memplan reports as ``dt-too-deep-for-kernel``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from memplan.dts import parse_text, read_dtb
from memplan.dts.depthcheck import KERNEL_FDT_MAX_DEPTH


def nested(levels: int) -> str:
    """A tree whose deepest node is ``levels`` levels below the root."""
    return ("/dts-v1/;\n/ {\n" + "".join(f"n{i} {{\n" for i in range(levels)) + "p = <1>;\n"
            + "};\n" * levels + "};\n")


def codes(tree: object) -> list[str]:
    return [d.code for d in tree.warnings]  # type: ignore[attr-defined]


def test_62_levels_are_unflattened_63_are_not() -> None:
    ok = parse_text(nested(KERNEL_FDT_MAX_DEPTH - 2), "ok.dts")
    assert "dt-too-deep-for-kernel" not in codes(ok)
    deep = parse_text(nested(KERNEL_FDT_MAX_DEPTH + 2), "deep.dts")
    (d,) = [w for w in deep.warnings if w.code == "dt-too-deep-for-kernel"]
    assert d.subject is not None and d.subject.endswith("/n62")
    assert d.source is not None and (d.source.file, d.source.line) == ("deep.dts", 65)
    assert "(4 in all)" in d.message and "FDT_MAX_DEPTH 64" in d.message
    # the same from the blob
    again = read_dtb(deep.to_dtb())
    assert [w.message for w in again.warnings if w.code == "dt-too-deep-for-kernel"] == [d.message]


@pytest.mark.skipif(shutil.which("dtc") is None, reason="no dtc")
def test_dtc_builds_what_memplan_accepts(tmp_path: Path) -> None:
    """At dtc's own bound (3,329 levels with a property in the deepest node): the same blob."""
    src = tmp_path / "deep.dts"
    src.write_text(nested(3329))
    res = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "o.dtb"), str(src)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert parse_text(src.read_text(), str(src)).to_dtb() == (tmp_path / "o.dtb").read_bytes()
