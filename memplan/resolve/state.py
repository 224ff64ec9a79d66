"""The resolver's working state: memblock, the regions being built (model Regions in slots),
diagnostics and events."""

from __future__ import annotations

import attrs

from memplan.dts.facts import RmemNode
from memplan.kernel.events import BootEvent, EventKind
from memplan.model import Diagnostic, Origin, Precedence, Region, RegionKind
from memplan.resolve.memblock import Memblock
from memplan.source import Source
from memplan.version import KernelVersion


@attrs.define(eq=False)
class Slot:
    """One region of the layout being built: ``region`` is the model's frozen
    :class:`~memplan.model.Region` as decided so far (a rule that changes it replaces it with
    ``attrs.evolve``, checked by mypy); the other fields are what only the resolver needs and the
    Region does not have: the DT node it came from, whether it was registered as a reserved-memory
    region, whether it became a CMA area. Slots compare by identity (the resolver asks "is this the
    default area?")."""

    region: Region
    node: RmemNode | None = None
    registered: bool = False
    is_cma_area: bool = False

    @classmethod
    def start(cls, region: Region, node: RmemNode | None = None, *, is_cma_area: bool = False) -> Slot:
        """A slot for a region the resolver is about to decide. Activation and no-map handling
        start undecided (``None``): the rules that decide them (``zones``, ``reserved``) set them,
        so the Region's defaults never guess for the resolver."""
        return cls(attrs.evolve(region, activated=None, nomap=None), node, is_cma_area=is_cma_area)


def arch_block(name: str, base: int, size: int, what: str, reason: str) -> Slot:
    """An early architecture allocation memplan models (page tables, ``NODE_DATA``, the sparse
    ``struct page`` buffers): placed by the model, so ``modelled``; ``what`` names the kernel code."""
    return Slot.start(
        Region(
            name=name,
            kind="reserved",
            origin="arch",
            status="ok",
            placement="modelled",
            base=base,
            size=size,
            source=Source.builtin(what),
            reason=reason,
        )
    )


def cma_area(
    name: str, kind: RegionKind, size: int, source: Source | None, origin: Origin = "cmdline"
) -> Slot:
    """A CMA area declared by ``cma_declare_contiguous_nid()`` (global, per-node or hugetlb):
    placed by the allocator, so ``modelled``; tracked as a CMA area for activation checks."""
    region = Region(name=name, kind=kind, origin=origin, status="ok", placement="modelled", size=size,
                    source=source)
    return Slot.start(region, is_cma_area=True)


@attrs.define
class State:
    """Everything that changes while the layout is built."""

    mb: Memblock
    regions: list[Slot] = attrs.Factory(list)
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    events: list[BootEvent] = attrs.Factory(list)
    registered: list[Slot] = attrs.Factory(list)
    default_area: Slot | None = None
    cma_areas: int = 0
    pending_statics: list[Slot] = attrs.Factory(list)

    def add(self, slot: Slot) -> Slot:
        """Track ``slot`` and return it."""
        self.regions.append(slot)
        return slot

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
