"""A ``/proc/iomem``-style map of the predicted layout (kernel-semantics §9.1), by architecture.

Only what memplan knows is shown: RAM (one ``System RAM`` line per NUMA node's range, split
around no-map ranges; a no-map range the kernel removed from memblock is a plain hole), the
reservations it placed (including CMA areas reserved at boot but never activated). The kernel
adds ``Kernel code``/``Kernel data`` and ``reserved`` children for its own early allocations
(image, DTB, initrd, page tables), which memplan cannot see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memplan.ranges import RangeSet

if TYPE_CHECKING:
    from memplan.model import Region
    from memplan.plan import Plan

_X86_TYPES = {"memmap": "Reserved"}


def _line(start: int, end: int, name: str, depth: int) -> str:
    return f"{'  ' * depth}{start:08x}-{end - 1:08x} : {name}"


def _nomap(r: Region) -> bool:
    return r.no_map and r.status == "ok" and r.kind in ("no-map", "dma-pool", "reserved")


def _nomap_kept(r: Region) -> bool:
    """Whether the kernel marked this no-map range (it stays a memblock range) rather than
    removing it: the resolver's decision, ``Region.nomap``."""
    return r.nomap != "removed"


def _reserved(r: Region) -> bool:
    return r.status == "ok" and not r.no_map and r.kind not in ("memmap",)


def _system_ram(plan: Plan) -> list[tuple[int, int]]:
    """The ``System RAM`` ranges: touching or overlapping banks merge (as memblock merges them)
    unless they belong to different NUMA nodes (``MemoryBank.node``)."""
    out: list[tuple[int, int, int | None]] = []
    for bank in sorted(plan.memory, key=lambda b: (b.base, b.end)):
        if not bank.size:
            continue
        if out and bank.base <= out[-1][1] and bank.node == out[-1][2]:
            start, end, node = out[-1]
            out[-1] = (start, max(end, bank.end), node)
        else:
            out.append((bank.base, bank.end, bank.node))
    return [(s, e) for s, e, _ in out]


def render_iomem(plan: Plan) -> str:
    """The map as ``/proc/iomem`` lines (ends inclusive, at least 8 hex digits, 2-space nesting)."""
    arch = plan.arch
    ram = _system_ram(plan)
    nomap = RangeSet()  # marked no-map: still a memblock range, listed as a top-level "reserved"
    removed = RangeSet()  # removed from memblock (older kernels): a hole between System RAM lines
    reserved = RangeSet()
    crash: list[tuple[int, int]] = []
    # CMA areas reserved at boot that cma_activate_area() refused: still reserved in the map
    inactive = {r.name for r in plan.regions if r.activated is False and r.base is not None and r.size}
    for r in plan.regions:
        if r.base is None or not r.size:
            continue
        ranges = [(r.base, r.size), *r.extra_ranges]
        for b, s in ranges:
            if _nomap(r):
                (nomap if _nomap_kept(r) else removed).add(b, b + s)
            elif r.kind == "crashkernel" and r.status == "ok":
                crash.append((b, b + s))
            elif _reserved(r) or r.name in inactive:
                reserved.add(b, b + s)
    lines: list[str] = []
    top: list[tuple[int, int, str]] = []
    for start, end in ram:
        cursor = start
        holes = sorted([(a, b, True) for a, b in nomap.within(start, end)]
                       + [(a, b, False) for a, b in removed.within(start, end)])
        for ns, ne, kept in holes:
            ns = max(ns, cursor)
            if ne <= ns:
                continue
            if ns > cursor:
                top.append((cursor, ns, "System RAM"))
            if arch in ("arm64", "riscv") and kept:
                top.append((ns, ne, "reserved" if arch == "arm64" else "Reserved"))
            cursor = ne
        if cursor < end:
            top.append((cursor, end, "System RAM"))
    if arch == "x86":
        for r in plan.regions:
            if r.kind == "memmap" and r.base is not None and r.size:
                top.append((r.base, r.base + r.size, _X86_TYPES["memmap"]))
        top.sort()
    for start, end, name in top:
        lines.append(_line(start, end, name, 0))
        if name != "System RAM":
            continue
        children: list[tuple[int, int, str]] = []
        for cs, ce in crash:
            if start <= cs and ce <= end:
                children.append((cs, ce, "Crash kernel"))
        if arch in ("arm64", "riscv"):
            label = "reserved" if arch == "arm64" else "Reserved"
            for rs, re_ in reserved.within(start, end):
                pieces = [(rs, re_)]
                for cs, ce, _ in children:
                    pieces = [p for a, b in pieces for p in ((a, min(b, cs)), (max(a, ce), b)) if p[0] < p[1]]
                children.extend((a, b, label) for a, b in pieces)
        for cs, ce, cname in sorted(children):
            lines.append(_line(cs, ce, cname, 1))
    return "\n".join(lines) + ("\n" if lines else "")
