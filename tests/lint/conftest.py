"""Fixtures for the kernel-tree lint: a miniature kernel tree (``fixtures/linux-mini``) with an
include-prefixes layout, arm and arm64 boards (clean, boot-loader memory, overlapping, outside
RAM, broken, cross-architecture include) and no Kconfig files; ``fixtures/kconfig`` holds a tiny
Kconfig tree that :func:`kconfig_tree` adds to a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lint_mini_tree import FIXTURES, MINI  # tests/lint is on sys.path

from memplan.lint import LintReport, lint_tree


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
