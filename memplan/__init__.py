"""memplan: predict the physical memory layout a Linux kernel will build.

The public surface is this module:

* :func:`resolve` — Device Tree (``dts=``/``dtb=``), command line, ``.config``, architecture,
  kernel version and ``memory=`` in, a :class:`Plan` out (reserved memory, CMA areas, which
  global CMA pool wins, diagnostics). Its docstring says how paths and inline text are told apart.
* :func:`read_observed` — what a booted kernel reported (``/proc/iomem``, dmesg, debugfs, or a
  snapshot directory). Compare a prediction with a boot by
  ``resolve(...).compare(read_observed(["snapshot/"]))``, which returns a comparison whose
  ``ok`` says whether they agree and ``to_text()`` lists the differences.
* :class:`Plan`, the model classes (:class:`MemoryBank`, :class:`Region`, :class:`Device`,
  :class:`CmaCandidate`, :class:`GlobalCma`, :class:`Diagnostic`), :class:`Source`,
  :class:`KernelVersion`, and :class:`MemplanError` — the base of every error raised for bad input.
"""

from __future__ import annotations

from memplan.api import resolve
from memplan.errors import MemplanError
from memplan.model import CmaCandidate, Device, Diagnostic, GlobalCma, MemoryBank, Region
from memplan.observe import read_observed
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
    "read_observed",
    "resolve",
]
