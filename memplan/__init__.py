"""memplan: predict the physical memory layout a Linux kernel will build.

The public surface is this module: :func:`resolve` (added by the resolver), :class:`Plan`,
the model classes and :class:`MemplanError`.
"""

from __future__ import annotations

from memplan.api import resolve
from memplan.errors import MemplanError
from memplan.model import CmaCandidate, Device, Diagnostic, GlobalCma, MemoryBank, Region
from memplan.plan import Plan
from memplan.source import Source
from memplan.version import KernelVersion

__version__ = "0.1.0"

__all__ = [
    "CmaCandidate",
    "Device",
    "Diagnostic",
    "GlobalCma",
    "KernelVersion",
    "MemoryBank",
    "MemplanError",
    "Plan",
    "Region",
    "Source",
    "__version__",
    "resolve",
]
