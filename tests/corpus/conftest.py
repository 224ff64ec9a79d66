"""The dtc corpus oracle: locate the shared corpus and gate the full run.

The corpus lives at ``<repo>/../shared/corpus`` (CI checks ``shared/`` out beside the
clone) or wherever ``$MEMPLAN_CORPUS`` points. The default run compiles a deterministic
sample of boards; ``-m corpus_full`` or ``MEMPLAN_FULL_CORPUS=1`` compiles every board.
"""

from __future__ import annotations

import os

import pytest


def full_corpus_enabled(config: pytest.Config) -> bool:
    """True when the full corpus run was asked for (marker expression or environment)."""
    if os.environ.get("MEMPLAN_FULL_CORPUS", "") not in ("", "0"):
        return True
    markexpr = str(config.getoption("markexpr", default="") or "")
    return "corpus_full" in markexpr and "not corpus_full" not in markexpr


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the full-corpus tests unless asked for, and the sample when the full run is on."""
    full = full_corpus_enabled(config)
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        is_full = item.get_closest_marker("corpus_full") is not None
        is_sample = item.get_closest_marker("corpus_sample") is not None
        if (is_full and not full) or (is_sample and full):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker of the default-run sample (the full run replaces it)."""
    config.addinivalue_line("markers", "corpus_sample: dtc oracle on the default sample of corpus boards")
