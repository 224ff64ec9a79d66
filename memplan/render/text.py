"""The CLI text view of a plan: header, global CMA verdict, region table, bar map, diagnostics.

:func:`render_text` only formats what the :class:`~memplan.plan.Plan` says; the order of the
sections is fixed so that people (and tests) can find things.
"""

from __future__ import annotations

from collections.abc import Sequence

from memplan.model import CmaCandidate, Diagnostic, MemoryBank, Region
from memplan.plan import Plan
from memplan.render._fmt import hex_addr, hex_width, human_size
from memplan.render._geometry import intersects, overlapping_names, overlaps, region_spans
from memplan.render._palette import FREE_CHAR, OVERLAP_CHAR, legend_order, style_for
from memplan.render._words import cma_verdict
from memplan.units import format_range

#: Width of one bank's bar in the map, in characters.
BAR_WIDTH = 64



def render_text(plan: Plan, *, bar_width: int = BAR_WIDTH) -> str:
    """The plan as terminal text: an aligned region table with human sizes, a bar map, diagnostics."""
    sections = [
        _header(plan),
        _memory(plan),
        _verdict(plan),
        _regions(plan),
        _bar_map(plan, bar_width),
        _devices(plan),
        _diagnostics(plan.diagnostics),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def sorted_regions(regions: Sequence[Region]) -> list[Region]:
    """Regions in address order; those without an address last, in plan order."""
    return sorted(regions, key=lambda r: (r.base is None, r.base or 0, r.end or 0))


# -- sections ----------------------------------------------------------------------------
def _header(plan: Plan) -> str:
    version = f"Linux {plan.kernel_version}" if plan.kernel_version is not None else "kernel version unknown"
    prec = f"precedence {plan.precedence}"
    if plan.precedence_requested != plan.precedence:
        prec += f" (requested {plan.precedence_requested})"
    lines = [f"memplan: {plan.arch}, {version}, {prec}, page size {human_size(plan.page_size)}"]
    cmdline = plan.cmdline if plan.cmdline else "(empty)"
    origin = f"  [{plan.cmdline_origin}]" if plan.cmdline_origin else ""
    lines.append(f"cmdline: {cmdline}{origin}")
    return "\n".join(lines)


def _memory(plan: Plan) -> str:
    total = sum(b.size for b in plan.memory)
    count = len(plan.memory)
    head = f"RAM: {human_size(total)} in {count} bank{'s' if count != 1 else ''}"
    if not plan.memory:
        return head + " (none)"
    width = hex_width(b.end - 1 if b.size else b.base for b in plan.memory)
    rows = []
    for b in plan.memory:
        hot = "  hotpluggable" if b.hotpluggable else ""
        rows.append(f"  {format_range(b.base, b.size, width)}  {human_size(b.size)}{hot}")
    return "\n".join([head, *rows])


def _verdict(plan: Plan) -> str:
    g = plan.global_cma
    line = f"Global CMA: {cma_verdict(g)}"
    if not g.candidates:
        return line
    rows = [_candidate_cells(c) for c in g.candidates]
    table = _table(["", "STATUS", "ORIGIN", "SIZE", "SOURCE"], rows, indent=2)
    out = [line, table[0]]
    for c, row in zip(g.candidates, table[1:], strict=True):
        out.append(row)
        out.append(f"{'':6}-> {c.reason}")
    return "\n".join(out)


def _candidate_cells(c: CmaCandidate) -> list[str]:
    mark = "*" if c.status == "selected" else ""
    size = human_size(c.size)
    if c.base is not None:
        size += f" @{c.base:#x}"
    if c.limit is not None:
        size += f" <{c.limit:#x}"
    origin = c.origin if c.name is None else f"{c.origin} {c.name}"
    return [mark, c.status, origin, size, str(c.source) if c.source is not None else ""]


def _regions(plan: Plan) -> str:
    if not plan.regions:
        return "Regions: none"
    regs = sorted_regions(plan.regions)
    ok_regions = [r for r in regs if r.status == "ok"]
    overlapped = overlapping_names(ok_regions)
    width = hex_width(r.end - 1 if r.end else r.base for r in regs)
    rows: list[list[str]] = []
    notes: dict[int, list[str]] = {}
    for r in regs:
        marks = ""
        if plan.global_cma.region is not None and r.name == plan.global_cma.region and r.status == "ok":
            marks += "G"
        if r.name in overlapped:
            marks += OVERLAP_CHAR
        end = r.end
        rows.append(
            [
                marks,
                r.name,
                r.kind,
                hex_addr(r.base, width),
                hex_addr(end - 1, width) if end is not None and end > (r.base or 0) else "-",
                human_size(r.size),
                r.status,
                r.placement,
                r.origin,
                str(r.source) if r.source is not None else "",
            ]
        )
        extra = [
            f"also {format_range(b, s, width)} ({human_size(s)})"
            for b, s in r.extra_ranges
            if s > 0
        ]
        if r.reason:
            extra.append(f"{r.status}: {r.reason}" if r.status != "ok" else r.reason)
        if extra:
            notes[len(rows) - 1] = extra
    header = ["", "NAME", "KIND", "BASE", "LAST", "SIZE", "STATUS", "PLACEMENT", "ORIGIN", "SOURCE"]
    table = _table(header, rows, indent=2)
    out = [f"Regions ({len(regs)}; G = global CMA, {OVERLAP_CHAR} = overlaps another region):", table[0]]
    for i, line in enumerate(table[1:]):
        out.append(line)
        out.extend(f"{'':6}-> {note}" for note in notes.get(i, []))
    return "\n".join(out)


def _bar_map(plan: Plan, bar_width: int) -> str:
    if not plan.memory:
        return ""
    ok_regions = [r for r in plan.regions if r.status == "ok" and region_spans(r)]
    overlap_spans = overlaps(ok_regions)
    width = hex_width(b.end for b in plan.memory)
    lines = [f"Map (each bank {bar_width} cells wide; one cell ~ bank size / {bar_width}):"]
    used: set[str] = set()
    for bank in plan.memory:
        bar = bank_bar(bank, ok_regions, overlap_spans, plan.global_cma.region, bar_width)
        used.update(ch for ch in bar if ch not in (FREE_CHAR,))
        span = f"{hex_addr(bank.base, width)} |{bar}| {hex_addr(bank.end, width)}"
        lines.append(f"  {span}  {human_size(bank.size)}")
    outside = [r for r in ok_regions if not any(_inside(s, plan.memory) for s in region_spans(r))]
    if outside:
        lines.append("  outside RAM: " + ", ".join(r.name for r in outside))
    legend = [f"{s.letter} {s.label}" for s in legend_order() if s.letter in used]
    if OVERLAP_CHAR in used:
        legend.append(f"{OVERLAP_CHAR} overlap")
    legend.append(f"{FREE_CHAR} free")
    lines.append("  " + ", ".join(legend))
    return "\n".join(lines)


def bank_bar(
    bank: MemoryBank,
    regions: Sequence[Region],
    overlap_spans: Sequence[tuple[int, int]],
    global_region: str | None,
    width: int = BAR_WIDTH,
) -> str:
    """One bank as ``width`` characters; a cell shows the region covering most of it.

    Any region touching a cell shows (so a 4 KiB region in a 4 GiB bank is still visible);
    a cell holding overlapping bytes shows the overlap mark.
    """
    if bank.size == 0 or width <= 0:
        return ""
    cells: list[str] = []
    for i in range(width):
        lo = bank.base + bank.size * i // width
        hi = bank.base + bank.size * (i + 1) // width
        if hi <= lo:
            hi = lo + 1
        if intersects((lo, hi), overlap_spans):
            cells.append(OVERLAP_CHAR)
            continue
        best_cover = 0
        best = FREE_CHAR
        for r in regions:
            cover = sum(max(0, min(hi, e) - max(lo, s)) for s, e in region_spans(r))
            if cover > best_cover:
                best_cover, best = cover, style_for(r, global_region).letter
        cells.append(best)
    return "".join(cells)


def _inside(span: tuple[int, int], banks: Sequence[MemoryBank]) -> bool:
    return any(b.base < span[1] and span[0] < b.end for b in banks)


def _devices(plan: Plan) -> str:
    if not plan.devices:
        return ""
    width = max(len(d.path) for d in plan.devices)
    rows = []
    for d in plan.devices:
        names = []
        for i, region in enumerate(d.regions):
            label = d.names[i] if i < len(d.names) else None
            names.append(f"{region} ({label})" if label else region)
        rows.append(f"  {d.path:<{width}}  -> {', '.join(names) if names else '(none)'}")
    return "\n".join(["Devices:", *rows])


def _diagnostics(diags: Sequence[Diagnostic]) -> str:
    if not diags:
        return "Diagnostics: none"
    counts = {sev: sum(1 for d in diags if d.severity == sev) for sev in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n)
    order = {"error": 0, "warning": 1, "info": 2}
    lines = [f"Diagnostics ({summary}):"]
    for d in sorted(diags, key=lambda d: order[d.severity]):
        lines.append(f"  {d.severity:<7} [{d.code}] {d.message}")
        if d.source is not None:
            lines.append(f"  {'':7} at {d.source}")
    return "\n".join(lines)


# -- table helper ------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[str]], indent: int = 0) -> list[str]:
    """Left-aligned columns (the last column is not padded); returns header + one line per row."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    pad = " " * indent

    def fmt(cells: list[str]) -> str:
        parts = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        return (pad + "  ".join([*parts, cells[-1]])).rstrip()

    return [fmt(header)] + [fmt(r) for r in rows]
