"""What a running (or booted) kernel reports, and its comparison with a prediction.

* Parsers: :func:`parse_iomem`, :func:`parse_meminfo`, :func:`parse_dmesg`,
  :func:`read_debugfs_cma`, :func:`read_sysfs_cma`.
* Readers: :func:`read_observed` (files and snapshot directories), :func:`read_live`;
  :func:`save_live_snapshot` copies the live state into a snapshot directory.
* :func:`build_observed` merges parsed pieces into an :class:`Observed`.
* :func:`compare` (used by ``Plan.compare``) returns a :class:`Comparison`.
"""

from __future__ import annotations

from memplan.observe.combine import build_observed
from memplan.observe.compare import compare
from memplan.observe.debugfs import read_debugfs_cma
from memplan.observe.dmesg import parse_dmesg, read_dmesg
from memplan.observe.iomem import parse_iomem, read_iomem
from memplan.observe.meminfo import parse_meminfo, read_meminfo
from memplan.observe.model import (
    BootLog,
    DebugfsCmaArea,
    Iomem,
    IomemEntry,
    LogEvent,
    Meminfo,
    MemoryRange,
    Observed,
    ObservedCma,
    ObservedGlobalCma,
    ObservedRegion,
    SysfsCmaArea,
)
from memplan.observe.snapshot import read_live, read_observed, save_live_snapshot
from memplan.observe.sysfs import read_sysfs_cma
from memplan.observe.text import render_observed_text
from memplan.observe.verdict import Comparison, GlobalComparison, RegionComparison

__all__ = [
    "BootLog",
    "Comparison",
    "DebugfsCmaArea",
    "GlobalComparison",
    "Iomem",
    "IomemEntry",
    "LogEvent",
    "Meminfo",
    "MemoryRange",
    "Observed",
    "ObservedCma",
    "ObservedGlobalCma",
    "ObservedRegion",
    "RegionComparison",
    "SysfsCmaArea",
    "build_observed",
    "compare",
    "parse_dmesg",
    "parse_iomem",
    "parse_meminfo",
    "read_debugfs_cma",
    "read_dmesg",
    "read_iomem",
    "read_live",
    "read_meminfo",
    "read_observed",
    "read_sysfs_cma",
    "render_observed_text",
    "save_live_snapshot",
]
