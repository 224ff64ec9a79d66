"""The resolver's working state: memblock, the regions being built, diagnostics and events."""

from __future__ import annotations

import attrs

from memplan.model import Diagnostic, Origin, Placement, Precedence, Region, RegionStatus
from memplan.resolve.events import BootEvent
from memplan.resolve.facts import RmemNode
from memplan.resolve.memblock import Memblock
from memplan.source import Source
from memplan.version import KernelVersion


@attrs.define
class WorkRegion:
    """A region under construction (mutable until :meth:`freeze`)."""

    name: str
    kind: str
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
    node: RmemNode | None = None
    registered: bool = False
    is_cma_area: bool = False

    def freeze(self) -> Region:
        """The immutable :class:`Region`."""
        return Region(name=self.name, kind=self.kind, origin=self.origin, status=self.status,
                      placement=self.placement, base=self.base, size=self.size, path=self.path,
                      source=self.source, compatible=self.compatible, no_map=self.no_map,
                      reusable=self.reusable, default_cma=self.default_cma, reason=self.reason,
                      extra_ranges=self.extra_ranges)


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
        from memplan.resolve.codes import diag

        self.diagnostics.append(diag(code, message, source, subject))

    def event(self, kind: str, **kw: object) -> None:
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
