"""``Plan``: the resolved physical memory layout, the value :func:`memplan.resolve` returns.

A ``Plan`` decides nothing: it records every decision of the resolver (regions with their
activation and no-map handling, the boot events, the version and architecture model used).
Presentation lives in ``memplan.render`` and comparison with a running kernel in
``memplan.observe``; both read the Plan and import nothing from the resolver. The Plan imports
neither: its methods call the functions the ``memplan`` package lists in ``memplan._VIEWS``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

from memplan import _VIEWS as VIEWS
from memplan.arch import Arch
from memplan.jsonform import json_record
from memplan.kernel.events import BootEvent
from memplan.model import (
    Device,
    Diagnostic,
    DmaZoneDecision,
    GlobalCma,
    MemoryBank,
    Precedence,
    PrecedenceRequest,
    Region,
)
from memplan.schemas import SCHEMA_VERSION
from memplan.units import format_size
from memplan.version import KernelVersion

if TYPE_CHECKING:  # values only: the observed boot and the comparison result (no observe logic)
    from memplan.observe.model import Observed
    from memplan.observe.verdict import Comparison


@attrs.frozen
class ArchModel:
    """The architecture model the resolver used: physical address width (``%pa`` prints 16 hex
    digits with 64 bits, 8 with 32), the boot steps in the order they ran and, on 32-bit ARM,
    how ``arm_dma_limit`` was decided (``dma_zone``)."""

    phys_addr_bits: int = 64
    boot_steps: tuple[str, ...] = ()
    dma_zone: DmaZoneDecision | None = None


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

    arch: Arch
    kernel_version: KernelVersion | None
    precedence: Precedence
    precedence_requested: PrecedenceRequest
    cmdline: str
    cmdline_origin: str
    memory: tuple[MemoryBank, ...]
    regions: tuple[Region, ...]
    devices: tuple[Device, ...]
    global_cma: GlobalCma
    diagnostics: tuple[Diagnostic, ...]
    page_size: int = 4096
    cma_alignment: int | None = None
    #: What the kernel does while building the layout, in boot order (for ``render.dmesg``).
    events: tuple[BootEvent, ...] = ()
    #: The version whose rules built the layout (``kernel_version`` or the assumed default).
    model_version: KernelVersion | None = None
    #: The architecture model used (``None`` for a hand-built plan: 64-bit unless ``arch`` is arm).
    arch_model: ArchModel | None = None
    #: ``CmaTotal`` of ``/proc/meminfo`` after boot, in bytes: the CMA areas ``cma_activate_area()``
    #: activated (an area spanning zones is reserved but not counted). ``None`` for a kernel
    #: without ``CONFIG_CMA`` (no such line) and for a hand-built plan. For ``render.meminfo``.
    cma_total: int | None = None

    #: The JSON record (:meth:`to_dict`): its keys in order; events and the architecture model
    #: are not part of it.
    __json_keys__ = (
        "schema_version",
        "arch",
        "kernel_version",
        "precedence",
        "precedence_requested",
        "model_version",
        "cmdline",
        "cmdline_origin",
        "page_size",
        "cma_alignment",
        "global_cma",
        "memory",
        "regions",
        "devices",
        "diagnostics",
    )
    #: The version of the JSON format (:mod:`memplan.schemas`).
    schema_version = SCHEMA_VERSION

    @property
    def phys_addr_bits(self) -> int:
        """Width of ``phys_addr_t`` in the resolved kernel."""
        if self.arch_model is not None:
            return self.arch_model.phys_addr_bits
        return 32 if self.arch == "arm" else 64

    @property
    def not_activated(self) -> frozenset[str]:
        """Names of the CMA areas reserved at boot but never activated (``cma_activate_area()``
        found them spanning two zones): ``Region.activated`` is ``False``, base and size kept."""
        return frozenset(
            r.name for r in self.regions if r.activated is False and r.base is not None and r.size
        )

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
        """A JSON-ready dictionary; integers for addresses and sizes (a stable format, see
        ``__json_keys__``; :func:`memplan.jsonform.json_record`)."""
        return json_record(self)

    def explain(self) -> str:
        """Plain-words account of every decision: which CMA pool wins and why (``render.explain``)."""
        return str(VIEWS["explain"](self))

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    # -- presentation (memplan.render) ---------------------------------------------------
    def __repr__(self) -> str:
        """One line: architecture, version, the global CMA pool, counts (the table: :meth:`to_text`)."""
        version = str(self.kernel_version) if self.kernel_version is not None else "version unknown"
        g = self.global_cma
        if g.origin is None or not g.size:
            pool = "no global CMA pool"
        else:
            at = f" at {g.base:#x}" if g.base is not None else ""
            pool = f"global CMA {g.origin} {format_size(g.size)}{at}"
        counts = {s: sum(d.severity == s for d in self.diagnostics) for s in ("error", "warning")}
        return (
            f"<Plan {self.arch} {version}: {pool}, {len(self.regions)} regions, "
            f"{counts['error']} errors, {counts['warning']} warnings>"
        )

    def __str__(self) -> str:
        """The terminal view (:meth:`to_text`)."""
        return self.to_text()

    def to_text(self) -> str:
        """The terminal view: tables and a map (:func:`memplan.render.text.render_text`)."""
        return str(VIEWS["text"](self))

    def _repr_html_(self) -> str:
        """Notebook view: the memory-map picture and the region table (:mod:`memplan.render.html`)."""
        return str(VIEWS["html"](self))

    def to_svg(self) -> str:
        """The physical address space as an SVG picture (:func:`memplan.render.svg.render_svg`)."""
        return str(VIEWS["svg"](self))

    # -- comparison with a running kernel (memplan.observe) ------------------------------
    def compare(self, observed: Observed, tolerate_modelled: bool = False) -> Comparison:
        """Compare this prediction with what a kernel reported (:func:`memplan.observe.compare`):
        ``observed`` is read by :func:`memplan.read_observed` (or built by
        :func:`memplan.observe.build_observed`); the result says which regions and which global
        CMA area agree."""
        comparison: Comparison = VIEWS["compare"](self, observed, tolerate_modelled=tolerate_modelled)
        return comparison
