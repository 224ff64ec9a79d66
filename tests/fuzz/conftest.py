"""The fuzz suite: a brief deterministic run by default, a long one with ``-m fuzz``.

``-m fuzz`` (or ``MEMPLAN_FUZZ=1``) selects the long tests; ``MEMPLAN_FUZZ_EXAMPLES`` sets
how many inputs each long test tries (default 5,000 per front end).
"""

from __future__ import annotations

import os

import pytest


def long_fuzz_enabled(config: pytest.Config) -> bool:
    """True when the long fuzz run was asked for (marker expression or environment)."""
    if os.environ.get("MEMPLAN_FUZZ", "") not in ("", "0"):
        return True
    markexpr = str(config.getoption("markexpr", default="") or "")
    return "fuzz" in markexpr and "not fuzz" not in markexpr


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the long fuzz tests unless asked for."""
    if long_fuzz_enabled(config):
        return
    keep = [i for i in items if i.get_closest_marker("fuzz") is None]
    dropped = [i for i in items if i.get_closest_marker("fuzz") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
