"""Fixtures for the kernel-tree lint: a miniature kernel tree (``fixtures/linux-mini``) with an
include-prefixes layout, arm and arm64 boards (clean, boot-loader memory, overlapping, outside
RAM, broken, cross-architecture include) and no Kconfig files; ``fixtures/kconfig`` holds a tiny
Kconfig tree that :func:`kconfig_tree` adds to a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memplan.lint import LintReport, lint_tree

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "linux-mini"

#: The tree's ``scripts/dtc/include-prefixes`` links, as the kernel has them. They are made here
#: (and ignored by git): a source release (sdist) cannot carry symbolic links, and setuptools,
#: following them, would leave out the files they point to.
INCLUDE_PREFIXES = {
    "arm": "../../../arch/arm/boot/dts",
    "arm64": "../../../arch/arm64/boot/dts",
    "dt-bindings": "../../../include/dt-bindings",
}


def _ensure_include_prefixes(root: Path) -> None:
    prefixes = root / "scripts" / "dtc" / "include-prefixes"
    prefixes.mkdir(parents=True, exist_ok=True)
    for name, target in INCLUDE_PREFIXES.items():
        link = prefixes / name
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)


_ensure_include_prefixes(MINI)

BOARDS = {
    "arch/arm/boot/dts/vendor2/board32.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-bootloader.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-broken.dts": "build-failed",
    "arch/arm64/boot/dts/vendor/board-clean.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-cross.dts": "clean",
    "arch/arm64/boot/dts/vendor/board-outside.dts": "warnings",
    "arch/arm64/boot/dts/vendor/board-overlap.dts": "errors",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the real-tree tests unless ``-m`` selects ``kernel_tree``."""
    markexpr = config.getoption("markexpr") or ""
    if "kernel_tree" in markexpr and "not kernel_tree" not in markexpr:
        return
    why = "lints a whole kernel tree: run with -m kernel_tree (MEMPLAN_KERNEL_TREE=DIR)"
    skip = pytest.mark.skip(reason=why)
    for item in items:
        if "kernel_tree" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mini_report() -> LintReport:
    """The fixture tree linted in this process (one job)."""
    return lint_tree(MINI, jobs=1)


@pytest.fixture()
def kconfig_tree(tmp_path: Path) -> Path:
    """A copy of the fixture tree with the tiny Kconfig files added."""
    root = tmp_path / "linux"
    shutil.copytree(MINI, root, symlinks=True)
    shutil.copytree(FIXTURES / "kconfig", root, dirs_exist_ok=True)
    return root
