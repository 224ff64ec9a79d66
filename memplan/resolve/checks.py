"""Layout checks that look at the finished layout (kernel-independent findings)."""

from __future__ import annotations

from collections.abc import Sequence

from memplan.diagnostics import diag
from memplan.model import Diagnostic, MemoryBank, Region
from memplan.units import format_range


def outside_ram(regions: Sequence[Region], banks: Sequence[MemoryBank],
                already: Sequence[Diagnostic]) -> list[Diagnostic]:
    """A warning for every placed region not entirely inside one RAM bank (unless reported)."""
    seen = {d.subject for d in already if d.code == "rmem-outside-ram"}
    out: list[Diagnostic] = []
    for r in regions:
        if r.base is None or not r.size or r.status != "ok" or r.kind in ("memmap",):
            continue
        if r.path in seen or r.name in seen:
            continue
        end = r.base + r.size
        if any(b.base <= r.base and end <= b.end for b in banks):
            continue
        if not banks:
            continue
        where = format_range(r.base, r.size)
        out.append(diag("rmem-outside-ram", f"'{r.name}' {where} is not entirely inside RAM",
                        r.source, r.path or r.name))
    return out
