"""Placement of a CMA area: ``cma_declare_contiguous_nid()`` (mm/cma.c), kernel-semantics §4."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from memplan.kernel import rules
from memplan.resolve.memblock import Memblock
from memplan.units import align_down, align_up
from memplan.version import KernelVersion

if TYPE_CHECKING:
    from memplan.plan import Plan

from memplan.units import SZ_4G

CmaFailure = Literal["size-zero", "misaligned-fixed", "highmem-boundary", "exceeds-limit", "busy",
                     "no-memory", "no-slot"]


@attrs.frozen
class CmaRequest:
    """The arguments of ``cma_declare_contiguous_nid(base, size, limit, alignment, ..., fixed)``."""

    size: int
    base: int = 0
    limit: int = 0
    alignment: int = 0
    fixed: bool = False
    name: str = "reserved"
    #: The memory ranges of the requested node (``exact_nid``); empty = any node.
    within: tuple[tuple[int, int], ...] = ()


@attrs.frozen
class CmaPlacement:
    """The outcome: ``base``/``size`` (aligned size) on success, else ``failure`` and ``message``.

    ``strategy`` says which attempt found the range: ``fixed``, ``bottom-up-4g``, ``highmem``,
    ``top-down``.
    """

    size: int
    base: int | None = None
    failure: CmaFailure | None = None
    message: str = ""
    strategy: str = ""
    limit: int = 0
    alignment: int = 0

    @property
    def ok(self) -> bool:
        """True when the area was placed."""
        return self.base is not None


def cma_slots(version: KernelVersion, cma_areas: int | None, numa: bool) -> int:
    """``MAX_CMA_AREAS``: ``1 + CONFIG_CMA_AREAS`` up to about v6.6 (defaults 7 / 19 with NUMA),
    ``CONFIG_CMA_AREAS`` later (defaults 8 / 20); the effective count is the same with defaults."""
    if rules.max_cma_areas_counts_config_only(version):
        return cma_areas if cma_areas is not None else (20 if numa else 8)
    return 1 + (cma_areas if cma_areas is not None else (19 if numa else 7))


def declare_contiguous(mb: Memblock, req: CmaRequest, *, version: KernelVersion, min_alignment: int,
                       phys_64bit: bool, highmem_start: int | None = None) -> CmaPlacement:
    """Model ``cma_declare_contiguous_nid()`` on ``mb`` and reserve the range on success.

    Sanitising (all versions): size 0 fails; alignment raised to the CMA minimum; a fixed base
    must be aligned; base rounded up, size rounded up, limit rounded down; base 0 → not fixed;
    a fixed range may not straddle low/high memory; limit 0 or beyond memory → end of memory;
    base + size > limit fails. Fixed: fails if any byte is reserved. Otherwise, in order: the
    v5.12+ bottom-up search in ``[4 GiB, limit)`` on 64-bit kernels when the end of memory
    (v6.18+: the limit) is ≥ 4 GiB + size, highmem first on 32-bit, then top-down in
    ``[base, limit)``.
    """
    align = max(req.alignment, min_alignment)
    if req.size == 0:
        return CmaPlacement(0, failure="size-zero", message="size is zero", alignment=align)
    fixed = req.fixed
    if fixed and req.base % align:
        return CmaPlacement(req.size, failure="misaligned-fixed",
                            message=f"Region at {req.base:#x} must be aligned to {align:#x} bytes",
                            alignment=align)
    base = align_up(req.base, align)
    # ALIGN() in phys_addr_t: a size within one alignment step of its top wraps to 0, which
    # cma_init_reserved_mem() refuses after the (empty) allocation, printing the failure
    size = align_up(req.size, align) & ((1 << (64 if phys_64bit else 32)) - 1)
    limit = align_down(req.limit, align)
    if size == 0:
        return CmaPlacement(0, failure="no-memory", alignment=align, message=(
            f"the size {req.size:#x} wraps to 0 when rounded up to {align:#x} (phys_addr_t "
            "arithmetic), and a 0-byte area is refused"))
    if base == 0:
        fixed = False
    if fixed and highmem_start is not None and base < highmem_start < base + size:
        return CmaPlacement(size, failure="highmem-boundary",
                            message=f"Region at {base:#x} defined on low/high memory boundary "
                                    f"({highmem_start:#x})", alignment=align)
    mem_end = mb.end_of_dram()
    if limit == 0 or limit > mem_end:
        limit = mem_end
    if base + size > limit:
        return CmaPlacement(size, failure="exceeds-limit",
                            message=f"Size ({size:#x}) of region at {base:#x} exceeds limit ({limit:#x})",
                            limit=limit, alignment=align)
    if fixed:
        if mb.is_reserved(base, size):
            return CmaPlacement(size, failure="busy", message=f"range {base:#x}+{size:#x} is already in use",
                                limit=limit, alignment=align)
        mb.reserve(base, size)
        return CmaPlacement(size, base=base, strategy="fixed", limit=limit, alignment=align)
    def alloc(lo: int, hi: int, top_down: bool | None = None) -> int | None:
        return mb.alloc_within(size, align, req.within, lo, hi, top_down)

    addr: int | None = None
    strategy = ""
    bottom_up_room = limit if rules.cma_above_4g_room_uses_limit(version) else mem_end
    if (rules.cma_tries_above_4g(version) and phys_64bit and mb.top_down and bottom_up_room >= SZ_4G + size):
        addr = alloc(SZ_4G, limit, top_down=False)
        strategy = "bottom-up-4g"
    if addr is None and highmem_start is not None and base < highmem_start < limit:
        addr = alloc(highmem_start, limit)
        strategy = "highmem"
        limit = highmem_start
    if addr is None:
        addr = alloc(base, limit)
        strategy = "top-down"
    if addr is None:
        return CmaPlacement(size, failure="no-memory", message=f"no free {size:#x} range below {limit:#x}",
                            limit=limit, alignment=align)
    return CmaPlacement(size, base=addr, strategy=strategy, limit=limit, alignment=align)


def not_activated(plan: Plan) -> frozenset[str]:
    """:attr:`Plan.not_activated` (the resolver records the decision in ``Region.activated``)."""
    return plan.not_activated
