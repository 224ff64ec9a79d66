"""``/sys/kernel/mm/cma/<name>/`` reader (``CONFIG_CMA_SYSFS``, ~5.14+).

Each area directory holds counters in pages: ``alloc_pages_success``, ``alloc_pages_fail``,
``release_pages_success`` (newer), ``total_pages`` and ``available_pages`` (6.18).
"""

from __future__ import annotations

from pathlib import Path

from memplan.errors import shorten
from memplan.model import Diagnostic
from memplan.numbers import is_int
from memplan.observe._common import (
    area_dirs,
    malformed,
    observed_int,
    observed_source,
    read_value_file,
    unreadable,
)
from memplan.observe.model import SysfsCmaArea


def read_sysfs_cma(root: str | Path) -> tuple[tuple[SysfsCmaArea, ...], tuple[Diagnostic, ...]]:
    """Read every area directory under ``root`` (``/sys/kernel/mm/cma`` or a copy)."""
    r = Path(root)
    areas: list[SysfsCmaArea] = []
    diagnostics: list[Diagnostic] = []
    for sub in area_dirs(r, "sysfs cma directory"):
        counters: list[tuple[str, int]] = []
        for f in sorted(p for p in sub.iterdir() if p.is_file()):
            try:
                text = read_value_file(f)
            except OSError as err:
                diagnostics.append(unreadable(f, err))
                continue
            value = text.strip()
            if not is_int(value):
                diagnostics.append(malformed(str(f), 1, shorten(text.rstrip("\n")), "cma sysfs counter"))
                continue
            where = observed_source(str(f), 1, shorten(value))
            number = observed_int(value, where, "cma sysfs counter", diagnostics)
            if number is not None:
                counters.append((f.name, number))
        areas.append(SysfsCmaArea(sub.name, tuple(counters), observed_source(str(sub))))
    return tuple(areas), tuple(diagnostics)
