"""Address-space facts the pictures need: each region's ranges, and where placed regions overlap.

Pure geometry over what the plan says; no kernel policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from memplan.model import Region

Span = tuple[int, int]  # [start, end)


def region_spans(region: Region) -> tuple[Span, ...]:
    """The ``[start, end)`` ranges of ``region`` (its base/size plus any extra ``reg`` entries)."""
    spans: list[Span] = []
    if region.base is not None and region.size is not None and region.size > 0:
        spans.append((region.base, region.base + region.size))
    for base, size in region.extra_ranges:
        if size > 0:
            spans.append((base, base + size))
    return tuple(spans)


def overlaps(regions: Iterable[Region]) -> tuple[Span, ...]:
    """Merged ranges covered by two or more of ``regions`` (sweep over sorted edges, n log n)."""
    events: list[tuple[int, int]] = []
    for region in regions:
        for start, end in region_spans(region):
            events.append((start, 1))
            events.append((end, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same address
    out: list[Span] = []
    depth = 0
    open_at: int | None = None
    for addr, delta in events:
        depth += delta
        if depth >= 2 and open_at is None:
            open_at = addr
        elif depth < 2 and open_at is not None:
            if addr > open_at:
                if out and out[-1][1] == open_at:
                    out[-1] = (out[-1][0], addr)
                else:
                    out.append((open_at, addr))
            open_at = None
    return tuple(out)


def overlapping_names(regions: Iterable[Region]) -> frozenset[str]:
    """Names of the regions that share at least one byte with another region."""
    placed = [(s, e, r.name) for r in regions for s, e in region_spans(r)]
    placed.sort()
    names: set[str] = set()
    max_end = -1
    max_name = ""
    for start, end, name in placed:
        if start < max_end:
            names.add(name)
            names.add(max_name)
        if end > max_end:
            max_end, max_name = end, name
    return frozenset(names)


def intersects(span: Span, spans: Iterable[Span]) -> bool:
    """True when ``span`` shares at least one byte with any of ``spans``."""
    lo, hi = span
    return any(s < hi and lo < e for s, e in spans)
