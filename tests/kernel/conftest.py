"""Kernel-in-the-loop tests: make ``tools.qemu`` importable and gate live QEMU boots.

Tests marked ``qemu`` boot real kernels. They run only when selected explicitly
(``pytest -m qemu`` or ``MEMPLAN_QEMU=1``); otherwise they are skipped so the default run stays
fast and offline. The replay tests (recorded fixtures) always run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip live boots unless ``-m`` mentions ``qemu`` or ``MEMPLAN_QEMU=1`` is set."""
    markexpr = str(config.getoption("markexpr", "") or "")
    wanted = ("qemu" in markexpr and "not qemu" not in markexpr) or os.environ.get("MEMPLAN_QEMU") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="live QEMU boot: run with -m qemu or MEMPLAN_QEMU=1")
    for item in items:
        if "qemu" in item.keywords and HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
