"""``Plan``: the resolved physical memory layout, the value :func:`memplan.resolve` returns.

A ``Plan`` decides nothing: it holds the resolver's result. Presentation lives in
``memplan.render`` and comparison with a running kernel in ``memplan.observe``; the methods
here only delegate to them.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from memplan.model import Device, Diagnostic, GlobalCma, MemoryBank, Precedence, Region
from memplan.version import KernelVersion


@attrs.frozen(repr=False)
class Plan:
    """The layout the kernel will build, with every decision explained.

    * ``memory``: RAM banks as the kernel sees them (after ``mem=`` / ``memmap=``).
    * ``regions``: every reservation, including those rejected, bypassed or failed.
    * ``devices``: nodes with ``memory-region`` and the regions they get.
    * ``global_cma``: which candidate won the global CMA area, and why.
    * ``diagnostics``: findings with stable codes.
    * ``cmdline``: the effective kernel command line; ``cmdline_origin`` says where it came from.
    """

    arch: str
    kernel_version: KernelVersion | None
    precedence: Precedence
    precedence_requested: str
    cmdline: str
    cmdline_origin: str
    memory: tuple[MemoryBank, ...]
    regions: tuple[Region, ...]
    devices: tuple[Device, ...]
    global_cma: GlobalCma
    diagnostics: tuple[Diagnostic, ...]
    page_size: int = 4096
    cma_alignment: int | None = None

    # -- queries -------------------------------------------------------------------------
    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Diagnostics of severity ``error``."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def ok(self) -> bool:
        """True when there is no error diagnostic."""
        return not self.errors

    def region(self, name: str) -> Region:
        """The region named ``name`` (node name, e.g. ``linux,cma``) or with that DT path."""
        for r in self.regions:
            if r.name == name or r.path == name:
                return r
        raise KeyError(name)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary; integers for addresses and sizes (a stable format)."""
        return {
            "arch": self.arch,
            "kernel_version": str(self.kernel_version) if self.kernel_version is not None else None,
            "precedence": self.precedence,
            "precedence_requested": self.precedence_requested,
            "cmdline": self.cmdline,
            "cmdline_origin": self.cmdline_origin,
            "page_size": self.page_size,
            "cma_alignment": self.cma_alignment,
            "global_cma": self.global_cma.to_dict(),
            "memory": [m.to_dict() for m in self.memory],
            "regions": [r.to_dict() for r in self.regions],
            "devices": [d.to_dict() for d in self.devices],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)
