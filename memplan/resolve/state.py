"""The resolver's working state: memblock, the regions being built, diagnostics and events."""

from __future__ import annotations

import attrs

from memplan.dts.facts import RmemNode
from memplan.kernel.events import BootEvent, EventKind
from memplan.model import (
    Diagnostic,
    NomapApplied,
    Origin,
    Placement,
    Precedence,
    Region,
    RegionKind,
    RegionStatus,
)
from memplan.resolve.memblock import Memblock
from memplan.source import Source
from memplan.version import KernelVersion


@attrs.define
class WorkRegion:
    """A region under construction: the mutable builder of :class:`~memplan.model.Region`.

    The kernel rules change a region step by step (reserved, then allocated, refused,
    released ...), so the resolver works on this mutable twin and :meth:`freeze` turns it into
    the frozen value. It carries every field of ``Region`` under the same name (a test pins
    that) plus the resolver's own bookkeeping: ``node``, ``registered``, ``is_cma_area``.
    """

    name: str
    kind: RegionKind
    origin: Origin
    status: RegionStatus = "ok"
    placement: Placement = "static"
    base: int | None = None
    size: int | None = None
    path: str | None = None
    source: Source | None = None
    compatible: tuple[str, ...] = ()
    no_map: bool = False
    reusable: bool = False
    default_cma: bool = False
    reason: str | None = None
    extra_ranges: tuple[tuple[int, int], ...] = ()
    activated: bool | None = None
    nomap: NomapApplied | None = None
    node: RmemNode | None = None
    registered: bool = False
    is_cma_area: bool = False

    def freeze(self) -> Region:
        """The immutable :class:`Region` (every ``Region`` field, copied by name)."""
        return Region(**{f.name: getattr(self, f.name) for f in attrs.fields(Region)})


def arch_block(name: str, base: int, size: int, what: str, reason: str) -> WorkRegion:
    """An early architecture allocation memplan models (page tables, ``NODE_DATA``, the sparse
    ``struct page`` buffers): placed by the model, so ``modelled``; ``what`` names the kernel code."""
    return WorkRegion(
        name=name,
        kind="reserved",
        origin="arch",
        base=base,
        size=size,
        placement="modelled",
        source=Source.builtin(what),
        reason=reason,
    )


def cma_area(
    name: str, kind: RegionKind, size: int, source: Source | None, origin: Origin = "cmdline"
) -> WorkRegion:
    """A CMA area declared by ``cma_declare_contiguous_nid()`` (global, per-node or hugetlb):
    placed by the allocator, so ``modelled``; tracked as a CMA area for activation checks."""
    region = WorkRegion(name=name, kind=kind, origin=origin, size=size, source=source, placement="modelled")
    region.is_cma_area = True
    return region


@attrs.define
class State:
    """Everything that changes while the layout is built."""

    mb: Memblock
    regions: list[WorkRegion] = attrs.Factory(list)
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    events: list[BootEvent] = attrs.Factory(list)
    registered: list[WorkRegion] = attrs.Factory(list)
    default_area: WorkRegion | None = None
    cma_areas: int = 0
    pending_statics: list[WorkRegion] = attrs.Factory(list)

    def add(self, region: WorkRegion) -> WorkRegion:
        """Track ``region`` and return it."""
        self.regions.append(region)
        return region

    def note(self, code: str, message: str, source: Source | None = None, subject: str | None = None) -> None:
        """Add a diagnostic with a registered ``code``."""
        from memplan.diagnostics import diag

        self.diagnostics.append(diag(code, message, source, subject))

    def event(self, kind: EventKind, **kw: object) -> None:
        """Record a boot event."""
        self.events.append(BootEvent(kind, **kw))  # type: ignore[arg-type]


@attrs.frozen
class Context:
    """The fixed parameters of one resolution (version rules are looked up from these)."""

    arch: str
    version: KernelVersion
    precedence: Precedence
    cma_given: bool
    cma_enabled: bool
    dma_cma: bool
    cma_min_alignment: int
    cma_slots: int
    page_size: int = 4096
    phys_64bit: bool = True
    #: arm32: how much RAM from the start of DRAM is lowmem (from the config's memory split).
    arm32_lowmem: int | None = None
