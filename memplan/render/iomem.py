"""A ``/proc/iomem``-style map of the predicted layout (kernel-semantics §9.1), by architecture.

Only what memplan knows is shown: RAM, no-map holes, the reservations it placed. The kernel
adds ``Kernel code``/``Kernel data`` and ``reserved`` children for its own early allocations
(image, DTB, initrd, page tables), which memplan cannot see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memplan.resolve.cma import not_activated
from memplan.resolve.memblock import RangeSet
from memplan.resolve.reserved import nomap_marks

if TYPE_CHECKING:
    from memplan.model import Region
    from memplan.plan import Plan

_X86_TYPES = {"memmap": "Reserved"}


def _line(start: int, end: int, name: str, depth: int) -> str:
    return f"{'  ' * depth}{start:08x}-{end - 1:08x} : {name}"


def _nomap(r: Region) -> bool:
    return r.no_map and r.status == "ok" and r.kind in ("no-map", "dma-pool", "reserved")


def _reserved(r: Region) -> bool:
    return r.status == "ok" and not r.no_map and r.kind not in ("memmap",)


def render_iomem(plan: Plan) -> str:
    """The map as ``/proc/iomem`` lines (ends inclusive, at least 8 hex digits, 2-space nesting)."""
    arch = plan.arch
    ram = RangeSet()
    for bank in plan.memory:
        ram.add(bank.base, bank.end)
    nomap = RangeSet()
    reserved = RangeSet()
    crash: list[tuple[int, int]] = []
    inactive = not_activated(plan)  # reserved at boot even though never activated
    for r in plan.regions:
        if r.base is None or not r.size:
            continue
        ranges = [(r.base, r.size), *r.extra_ranges]
        for b, s in ranges:
            if _nomap(r):
                nomap.add(b, b + s)
            elif r.kind == "crashkernel" and r.status == "ok":
                crash.append((b, b + s))
            elif _reserved(r) or r.name in inactive:
                reserved.add(b, b + s)
    lines: list[str] = []
    old_nomap = plan.model_version is not None and not nomap_marks(plan.model_version)
    top: list[tuple[int, int, str]] = []
    for start, end in ram:
        cursor = start
        for ns, ne in nomap.within(start, end):
            if ns > cursor:
                top.append((cursor, ns, "System RAM"))
            if arch in ("arm64", "riscv") and not old_nomap:
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
