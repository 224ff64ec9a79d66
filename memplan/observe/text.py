"""Text rendering of an :class:`Observed` (what ``memplan observe`` prints)."""

from __future__ import annotations

from memplan.observe.model import Observed, ObservedRegion
from memplan.units import format_size


def _size(n: int | None, granule: int = 1) -> str:
    if n is None:
        return "?"
    return ("" if granule == 1 else ">=") + format_size(n)


def _addr(n: int | None) -> str:
    return "?" if n is None else f"0x{n:x}"


def _region_line(r: ObservedRegion) -> str:
    where = f"{_addr(r.base)} {_size(r.size, r.size_granule)}" if r.base is not None or r.size else "-"
    line = f"  {r.name or '?':<28} {r.kind:<15} {r.status:<9} {where}"
    if r.reason:
        line += f"  ({r.reason})"
    return line


def render_observed_text(o: Observed) -> str:
    """A readable summary of everything observed, diagnostics last."""
    out = [
        f"Observed kernel: {o.kernel_version or 'unknown'}"
        + (
            f" (release {o.kernel_release})"
            if o.kernel_release and o.kernel_release != str(o.kernel_version)
            else ""
        ),
        f"Machine: {o.machine or 'unknown'}",
        f"Command line: {o.cmdline if o.cmdline is not None else 'unknown'}",
        f"Sources: {', '.join(o.sources) if o.sources else 'none'}",
    ]
    g = o.global_cma
    if not g.known:
        out.append("Global CMA area: unknown")
    elif g.origin is None:
        out.append(f"Global CMA area: none ({g.reason})")
    else:
        size = _size(g.size, g.size_granule)
        out.append(f"Global CMA area: {g.origin} {g.name} {size} at {_addr(g.base)} ({g.reason})")
    if g.dt_default_dropped:
        out.append("  the DT linux,cma-default node was dropped for cma=")
    if o.cma_total is not None:
        free = f", CmaFree {_size(o.cma_free)}" if o.cma_free is not None else ""
        out.append(f"CmaTotal: {_size(o.cma_total)}{free}")
    if o.memory_limit is not None:
        out.append(f"Memory limited to {_size(o.memory_limit)}")
    if o.regions:
        out.append("Regions:")
        out.extend(_region_line(r) for r in o.regions)
    if o.cma_areas:
        out.append("CMA areas:")
        out.extend(f"  {c.name:<28} {_addr(c.base)} {_size(c.size, c.size_granule)}" for c in o.cma_areas)
    if o.memory:
        out.append("Memory map:")
        out.extend(
            f"  {_addr(m.base)}-{_addr(m.end - 1)} {m.type}{' (user-defined)' if m.user_defined else ''}"
            for m in o.memory
        )
    if o.diagnostics:
        out.append("Diagnostics:")
        out.extend(f"  {d}" for d in o.diagnostics)
    return "\n".join(out) + "\n"
