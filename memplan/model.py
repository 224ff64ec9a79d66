"""The typed model of a resolved layout: frozen value classes, no behaviour beyond formatting helpers.

Front ends produce facts (``memplan.dts``, ``memplan.cmdline``, ``memplan.kconfig``); the
resolver (``memplan.resolve``) turns them into these values; renderers only format them.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import attrs

from memplan.jsonform import json_field, json_record
from memplan.source import Source

Severity = Literal["error", "warning", "info"]
Origin = Literal["dts", "cmdline", "kconfig", "memreserve", "arch", "observed"]
RegionStatus = Literal["ok", "rejected", "bypassed", "failed", "disabled"]
Placement = Literal["static", "dynamic", "modelled"]
CandidateStatus = Literal["selected", "overridden", "invalid", "disabled"]
Precedence = Literal["seed", "kernel"]
#: The precedence a caller asks for: ``auto`` picks ``kernel`` when the version is known, else ``seed``.
PrecedenceRequest = Literal["auto", "seed", "kernel"]
#: How the kernel applied ``no-map`` to a region: ``marked`` (``memblock_mark_nomap``: still a
#: memblock range, listed in /proc/iomem) or ``removed`` (``memblock_remove``: a hole).
NomapApplied = Literal["marked", "removed"]

#: Region kinds. ``no-map``: carved out of the linear map; ``reusable``: a CMA area from a DT
#: node; ``cma``: the global CMA area built from ``cma=`` or Kconfig; ``dma-pool``: a coherent
#: per-device pool; ``restricted-dma``: a swiotlb restricted pool; ``reserved``: plain
#: memblock reservation; ``memreserve``: a DTB header entry; ``memmap``: an x86 ``memmap=``
#: reservation; ``crashkernel``: the kdump area; ``numa-cma`` / ``hugetlb-cma``: per-node areas.
RegionKind = Literal[
    "no-map",
    "reusable",
    "cma",
    "dma-pool",
    "restricted-dma",
    "reserved",
    "memreserve",
    "memmap",
    "crashkernel",
    "numa-cma",
    "hugetlb-cma",
    "swiotlb",
]
REGION_KINDS: tuple[RegionKind, ...] = get_args(RegionKind)


def _non_negative(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


@attrs.frozen
class Diagnostic:
    """A finding about the inputs or the layout, with a stable ``code``.

    ``subject`` names what it is about (a region name or DT path) when there is one.
    """

    severity: Severity
    code: str
    message: str
    source: Source | None = None
    subject: str | None = None

    def to_dict(self) -> dict[str, object]:
        return json_record(self)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source is not None else ""
        return f"{where}{self.severity}: [{self.code}] {self.message}"


@attrs.frozen
class MemoryBank:
    """A range of RAM the kernel sees (``[base, base + size)``)."""

    base: int = attrs.field(validator=_non_negative)
    size: int = attrs.field(validator=_non_negative)
    source: Source | None = None
    hotpluggable: bool = attrs.field(default=False, metadata=json_field(skip=True))
    #: NUMA node of this bank when the kernel sees several nodes (``None``: one node or no NUMA).
    node: int | None = None

    @property
    def end(self) -> int:
        """Exclusive end address."""
        return self.base + self.size

    def to_dict(self) -> dict[str, object]:
        return json_record(self)


@attrs.frozen
class Region:
    """One reserved range in the final layout (or one that was asked for and did not make it).

    ``base``/``size`` are ``None`` only for a dynamic region that could not be placed.
    ``status``: ``ok`` (in the layout), ``rejected`` (the kernel refuses the node and
    releases or never reserves it), ``bypassed`` (dropped by precedence, e.g. a DT default
    CMA node when ``cma=`` wins), ``failed`` (allocation or reservation failed),
    ``disabled`` (``status = "disabled"``). ``placement``: ``static`` (fixed by the input),
    ``dynamic`` (placed by memplan's model of the kernel allocator) or ``modelled`` (placed,
    but the real address depends on early allocations memplan cannot see).
    """

    name: str
    kind: RegionKind
    origin: Origin
    status: RegionStatus
    placement: Placement
    base: int | None = attrs.field(default=None, validator=_non_negative)
    size: int | None = attrs.field(default=None, validator=_non_negative)
    path: str | None = None
    source: Source | None = None
    compatible: tuple[str, ...] = ()
    no_map: bool = False
    reusable: bool = False
    default_cma: bool = False
    reason: str | None = None
    extra_ranges: tuple[tuple[int, int], ...] = attrs.field(
        default=(), metadata=json_field(pairs=("base", "size"))
    )
    #: For a CMA area reserved at boot: whether ``cma_activate_area()`` activated it (``False``:
    #: reserved at boot, then not a CMA area). ``None`` for anything else.
    activated: bool | None = attrs.field(
        default=attrs.Factory(lambda r: True if r.is_cma and r.status == "ok" else None, takes_self=True)
    )
    #: How ``no-map`` was applied (``None`` without ``no-map`` or when not reserved).
    nomap: NomapApplied | None = attrs.field(
        default=attrs.Factory(lambda r: "marked" if r.no_map and r.status == "ok" else None, takes_self=True)
    )

    @property
    def end(self) -> int | None:
        """Exclusive end address, when placed."""
        if self.base is None or self.size is None:
            return None
        return self.base + self.size

    @property
    def is_cma(self) -> bool:
        """True when this region is (or would have been) a CMA area."""
        return self.kind in ("reusable", "cma", "numa-cma", "hugetlb-cma")

    def to_dict(self) -> dict[str, object]:
        return json_record(self)


@attrs.frozen
class Device:
    """A DT node with ``memory-region``: which regions it gets, by index and by name."""

    path: str
    regions: tuple[str, ...]
    names: tuple[str | None, ...] = ()
    source: Source | None = None

    def to_dict(self) -> dict[str, object]:
        return json_record(self)


@attrs.frozen
class CmaCandidate:
    """One contender for the global (default) CMA area: a DT node, ``cma=`` or Kconfig."""

    origin: Literal["dts", "cmdline", "kconfig"]
    size: int | None
    status: CandidateStatus
    reason: str
    source: Source | None = None
    base: int | None = None
    limit: int | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, object]:
        return json_record(self)


@attrs.frozen
class DmaZoneDecision:
    """How the resolver set 32-bit ARM's ``arm_dma_limit``, the limit of the global CMA area
    (:func:`memplan.resolve.arm_dma.arm_dma_limit`).

    * ``limit``: the variable's value, the last byte of the DMA zone (``0xffffffff`` without a
      machine DMA zone; ``~0`` of the ``phys_addr_t`` width without ``CONFIG_ZONE_DMA``).
    * ``machine``: the machine descriptor with a ``dma_zone_size`` that the root ``compatible``
      picked (``None``: none of them), ``compatible`` the string that matched, ``zone_size``
      its DMA zone size, ``kernel_line`` where the kernel sets it.
    * ``reason``: the decision in plain words; ``sources``: the config lines it rests on;
      ``assumed``: the Kconfig facts the config does not give and that were assumed.
    * ``idmap_offset``: what the picked machine's ``pv_fixup`` moved ``PHYS_OFFSET`` by
      (keystone with RAM at its high alias), which ``idmap_to_phys()`` adds; 0 for others.
    """

    limit: int
    reason: str
    machine: str | None = None
    compatible: str | None = None
    zone_size: int | None = None
    kernel_line: str | None = None
    sources: tuple[Source, ...] = ()
    assumed: tuple[str, ...] = ()
    idmap_offset: int = 0


#: ``ok``: there is a global area; ``disabled``: the deciding candidate asked for size 0
#: (``cma=0``, a Kconfig size of 0); ``failed``: the kernel could not reserve it;
#: ``unsupported``: the kernel has no global area at all (no ``CONFIG_CMA`` / ``CONFIG_DMA_CMA``).
GlobalCmaStatus = Literal["ok", "disabled", "failed", "unsupported"]


@attrs.frozen
class GlobalCma:
    """The outcome for the global CMA area: who won, where it is, and every candidate.

    ``origin`` names the candidate that decided, also when there is no area (``cma=0`` or a
    ``cma=`` the kernel failed to reserve: ``cmdline``; no CMA in the kernel or a Kconfig size of
    0: ``kconfig``); ``size`` is what the kernel ended up with (0 for no area); ``status`` says
    which case it is. ``origin`` is None only for a plan built without a resolver decision.
    """

    origin: Literal["dts", "cmdline", "kconfig"] | None
    size: int | None
    base: int | None
    region: str | None
    candidates: tuple[CmaCandidate, ...] = ()
    status: GlobalCmaStatus = "ok"

    @property
    def area_origin(self) -> Literal["dts", "cmdline", "kconfig"] | None:
        """Where the area that exists comes from (None when there is none)."""
        return self.origin if self.status == "ok" else None

    def to_dict(self) -> dict[str, object]:
        return json_record(self)
