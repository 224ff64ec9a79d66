"""The lint on a real Linux source tree (``-m kernel_tree`` with ``MEMPLAN_KERNEL_TREE=DIR``).

Debian's ``linux-source-6.12`` unpacked is the tree this was written against; arm, arm64 and
riscv are linted on every core. Slow (minutes), so it never runs by default.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from memplan.lint import KernelTree, LintReport, lint_tree
from memplan.lint.kbuild import DTC_INCLUDE

pytestmark = pytest.mark.kernel_tree

WANTED = ("arm", "arm64", "riscv")


def _tree() -> Path:
    value = os.environ.get("MEMPLAN_KERNEL_TREE")
    if not value or not (Path(value) / "Makefile").is_file():
        pytest.skip("set MEMPLAN_KERNEL_TREE to an unpacked Linux source tree")
    return Path(value)


def _arches() -> tuple[str, ...]:
    """arm, arm64 and riscv, those of them the tree has boards for."""
    return tuple(a for a in KernelTree.open(_tree()).arches_with_boards() if a in WANTED)


@pytest.fixture(scope="module")
def report() -> LintReport:
    return lint_tree(_tree(), arches=_arches())


def test_the_include_path_is_the_one_kbuild_uses() -> None:
    root = _tree()
    makefiles = [root / "scripts/Makefile.dtbs", root / "scripts/Makefile.lib"]
    text = "".join(p.read_text(errors="replace") for p in makefiles if p.is_file())
    assert f"DTC_INCLUDE := $(srctree)/{DTC_INCLUDE}" in text
    assert "-nostdinc -I $(DTC_INCLUDE) -undef -D__DTS__" in text


def test_every_board_has_an_entry_and_nothing_crashes(report: LintReport) -> None:
    root = _tree()
    # each architecture's default configuration first, then the other defconfigs its boards use
    arches = _arches()
    assert [c.arch for c in report.configs[:len(arches)]] == list(arches)
    assert {c.arch for c in report.configs} == set(arches)
    assert len({(c.arch, c.config) for c in report.configs}) == len(report.configs)
    read = {c.config for c in report.configs}
    assert {b.defconfig for b in report.boards if b.defconfig is not None} <= read
    for arch in _arches():
        top = root / f"arch/{arch}/boot/dts"
        on_disk = sorted(p.relative_to(root).as_posix() for p in top.rglob("*.dts"))
        assert [b.path for b in report.boards if b.arch == arch] == on_disk
    internal = [(b.path, d.message) for b in report.boards for d in b.diagnostics
                if d.code == "lint-internal-error"]
    assert internal == []
    summary = report.summary
    assert sum(summary.by_status.values()) == summary.boards == len(report.boards)


def test_a_board_that_fails_to_build_fails_with_cpp_and_dtc_too(report: LintReport) -> None:
    """Never stricter than the kernel build: every build-failed board is refused by kbuild's own
    commands as well (with the tree's dtc: ``make scripts_dtc``, or ``MEMPLAN_KERNEL_DTC``)."""
    root = _tree()
    tree = KernelTree.open(root)
    built_by_kbuild = []
    with tempfile.TemporaryDirectory() as tmp:
        for board in (b for b in report.boards if b.status == "build-failed"):
            cpp, dtc = tree.build_commands(board.path, f"{tmp}/board", dtc=tree.dtc())
            ok = subprocess.run(cpp, cwd=root, capture_output=True).returncode == 0 and \
                subprocess.run(dtc, cwd=root, capture_output=True).returncode == 0
            if ok:
                built_by_kbuild.append(f"{board.path}: {board.diagnostics[0]}")
    assert built_by_kbuild == []
