"""Geometry of the memory-map picture: where every bank, region, gap and label goes.

The address axis runs top (low addresses) to bottom (high addresses). The span from the
lowest to the highest interesting address is cut at every bank and region boundary; each
piece gets a height roughly proportional to its size, with a minimum so that small regions
stay visible. Address ranges holding no RAM, and free stretches of RAM that would dwarf
everything else, are compressed to a fixed-height break. :func:`layout_plan` computes all
of it as plain numbers; :mod:`memplan.render.svg` only draws them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Literal

import attrs

from memplan.model import Region
from memplan.plan import Plan
from memplan.render._fmt import hex_addr, hex_width, human_size
from memplan.render._geometry import overlaps, region_spans
from memplan.render._palette import style_for
from memplan.units import format_range

# Picture geometry, in SVG user units (pixels at 1:1).
WIDTH = 900
MARGIN_TOP = 64
ADDR_X = 150  # right edge of the address column
BAR_X = 164
BAR_W = 190
LABEL_X = 390
TARGET_H = 560  # height shared by the proportionally drawn pieces
MIN_REGION_H = 18
MIN_FREE_H = 10
BREAK_H = 34
LABEL_LINE_H = 14
LABEL_GAP = 6
LABEL_CHARS = 66  # monospace characters that fit in the label column (about 7 px each)

BandKind = Literal["free", "compressed", "hole"]
_YOf = Callable[[int], float]


@attrs.frozen
class Band:
    """A piece of the axis without regions: free RAM, compressed free RAM, or no RAM at all."""

    kind: BandKind
    start: int
    end: int
    y: float
    h: float

    @property
    def label(self) -> str:
        """Words shown in the band (the break text for compressed pieces)."""
        size = human_size(self.end - self.start)
        if self.kind == "hole":
            return f"{size} without RAM"
        return f"{size} free"


@attrs.frozen
class Box:
    """One drawn rectangle of a region (a region with several ranges has several boxes)."""

    region: Region
    start: int
    end: int
    x: float
    y: float
    w: float
    h: float
    fill: str
    kind_label: str
    is_global: bool
    live: bool  # status "ok": drawn solid; otherwise hatched and dashed
    in_ram: bool


@attrs.frozen
class Label:
    """The text beside the bar for one region, with the leader line's anchor on the bar."""

    lines: tuple[str, ...]
    y: float  # top of the first text line
    anchor_y: float
    anchor_x: float
    emphasis: Literal["global", "live", "dead"]


@attrs.frozen
class Tick:
    """An address printed on the left of the bar at height ``y``."""

    address: int
    y: float
    text: str


@attrs.frozen
class Overlap:
    """Bytes claimed by two or more live regions: drawn as a red band across the bar."""

    start: int
    end: int
    y: float
    h: float


@attrs.frozen
class Layout:
    """Everything the SVG needs, in drawing units."""

    width: int
    content_bottom: float  # below the axis and the labels; the lists and the legend follow
    ram: tuple[tuple[float, float], ...]  # (y, h) of each RAM stretch on the axis
    bands: tuple[Band, ...]
    boxes: tuple[Box, ...]
    labels: tuple[Label, ...]
    ticks: tuple[Tick, ...]
    overlaps: tuple[Overlap, ...]
    unplaced: tuple[Region, ...]
    axis_top: float
    axis_bottom: float

    def box(self, name: str) -> Box:
        """The first box drawn for the region called ``name``."""
        for b in self.boxes:
            if b.region.name == name:
                return b
        raise KeyError(name)


@attrs.frozen
class _Piece:
    start: int
    end: int
    in_ram: bool
    occupied: bool
    compressed: bool = False


def layout_plan(plan: Plan) -> Layout:
    """Compute the picture's geometry for ``plan`` (see the module docstring)."""
    placed = [r for r in plan.regions if region_spans(r)]
    banks = [(b.base, b.end) for b in plan.memory if b.size > 0]
    pieces = _pieces(banks, placed)
    heights = _heights(pieces)
    ys: list[float] = []
    y = float(MARGIN_TOP)
    for h in heights:
        ys.append(y)
        y += h
    axis_bottom = y
    starts = [p.start for p in pieces]

    def y_of(addr: int) -> float:
        if not pieces:
            return float(MARGIN_TOP)
        i = bisect.bisect_right(starts, addr) - 1
        if i < 0:
            return ys[0]
        if i >= len(pieces) or addr >= pieces[i].end:
            return axis_bottom if i >= len(pieces) - 1 else ys[i + 1]
        p = pieces[i]
        return ys[i] + heights[i] * (addr - p.start) / (p.end - p.start)

    bands: list[Band] = []
    ram: list[tuple[float, float]] = []
    for p, py, ph in zip(pieces, ys, heights, strict=True):
        if p.in_ram:
            if ram and abs(ram[-1][0] + ram[-1][1] - py) < 1e-6:
                ram[-1] = (ram[-1][0], ram[-1][1] + ph)
            else:
                ram.append((py, ph))
        if not p.occupied:
            kind: BandKind = "hole" if not p.in_ram else ("compressed" if p.compressed else "free")
            bands.append(Band(kind, p.start, p.end, py, ph))

    in_ram_spans = banks
    boxes = _boxes(plan, placed, y_of, in_ram_spans)
    live = [r for r in placed if r.status == "ok"]
    ovl = tuple(Overlap(s, e, y_of(s), y_of(e) - y_of(s)) for s, e in overlaps(live))
    width_digits = hex_width([p.end for p in pieces] or [0])
    ticks = _ticks(pieces, y_of, width_digits)
    labels = _labels(plan, boxes, width_digits)
    label_bottom = max((lb.y + LABEL_LINE_H * len(lb.lines) for lb in labels), default=axis_bottom)
    unplaced = tuple(r for r in plan.regions if not region_spans(r))
    return Layout(
        width=WIDTH,
        content_bottom=max(axis_bottom, label_bottom) + 24,
        ram=tuple(ram),
        bands=tuple(bands),
        boxes=tuple(boxes),
        labels=tuple(labels),
        ticks=tuple(ticks),
        overlaps=ovl,
        unplaced=unplaced,
        axis_top=float(MARGIN_TOP),
        axis_bottom=axis_bottom,
    )


def _pieces(banks: Sequence[tuple[int, int]], regions: Sequence[Region]) -> list[_Piece]:
    """Cut the axis at every bank and region boundary; say what each piece holds."""
    cuts: set[int] = set()
    for s, e in banks:
        cuts.update((s, e))
    spans = [sp for r in regions for sp in region_spans(r)]
    for s, e in spans:
        cuts.update((s, e))
    points = sorted(cuts)
    if len(points) < 2:
        return []
    bank_cover = _coverage(points, banks)
    region_cover = _coverage(points, spans)
    return [
        _Piece(points[i], points[i + 1], bank_cover[i] > 0, region_cover[i] > 0)
        for i in range(len(points) - 1)
    ]


def _coverage(points: Sequence[int], spans: Sequence[tuple[int, int]]) -> list[int]:
    """How many of ``spans`` cover each piece ``[points[i], points[i+1])`` (difference array)."""
    diff = [0] * (len(points) + 1)
    index = {p: i for i, p in enumerate(points)}
    for s, e in spans:
        diff[index[s]] += 1
        diff[index[e]] -= 1
    out: list[int] = []
    depth = 0
    for i in range(len(points) - 1):
        depth += diff[i]
        out.append(depth)
    return out


def _heights(pieces: list[_Piece]) -> list[float]:
    """Heights per piece: proportional, with minimums, and the largest free stretches compressed.

    A free piece is compressed while it would take more than 40 % of the picture and is more
    than twice the size of the largest occupied piece.
    """
    largest_occupied = max((p.end - p.start for p in pieces if p.occupied), default=0)
    while True:
        total = sum(p.end - p.start for p in pieces if (p.in_ram or p.occupied) and not p.compressed)
        free = [
            (p.end - p.start, i)
            for i, p in enumerate(pieces)
            if p.in_ram and not p.occupied and not p.compressed
        ]
        if not free or total == 0:
            break
        size, i = max(free)
        if size / total > 0.4 and size > 2 * largest_occupied:
            pieces[i] = attrs.evolve(pieces[i], compressed=True)
        else:
            break
    total = sum(p.end - p.start for p in pieces if (p.in_ram or p.occupied) and not p.compressed)
    # Room for the labels: with many regions the picture grows so labels stay near their boxes.
    labelled = sum(1 for p in pieces if p.occupied)
    target = max(TARGET_H, labelled * (2 * LABEL_LINE_H + LABEL_GAP))
    scale = target / total if total else 0.0
    heights: list[float] = []
    for p in pieces:
        size = p.end - p.start
        if p.occupied:
            # a floor plus a proportional share: bigger regions are always drawn taller
            heights.append(MIN_REGION_H + size * scale)
        elif not p.in_ram or p.compressed:
            heights.append(BREAK_H)
        else:
            heights.append(max(MIN_FREE_H, size * scale))
    return heights


def _boxes(
    plan: Plan,
    regions: Sequence[Region],
    y_of: _YOf,
    banks: Sequence[tuple[int, int]],
) -> list[Box]:
    """One box per region range, side by side in lanes where ranges overlap."""
    items = sorted(
        ((s, e, r) for r in regions for s, e in region_spans(r)),
        key=lambda t: (t[0], -(t[1] - t[0])),
    )
    boxes: list[Box] = []
    cluster: list[tuple[int, int, Region, int]] = []
    cluster_end = -1
    lane_ends: list[int] = []

    def flush() -> None:
        lanes = max((lane for *_, lane in cluster), default=0) + 1
        lane_w = BAR_W / lanes
        for s, e, r, lane in cluster:
            style = style_for(r, plan.global_cma.region)
            y0, y1 = y_of(s), y_of(e)
            boxes.append(
                Box(
                    region=r,
                    start=s,
                    end=e,
                    x=BAR_X + lane * lane_w,
                    y=y0,
                    w=lane_w,
                    h=max(y1 - y0, 1.0),
                    fill=style.fill,
                    kind_label=style.label,
                    is_global=style.letter == "G",
                    live=r.status == "ok",
                    in_ram=any(bs < e and s < be for bs, be in banks),
                )
            )

    for s, e, r in items:
        if cluster and s >= cluster_end:
            flush()
            cluster, lane_ends = [], []
        lane = next((i for i, end in enumerate(lane_ends) if end <= s), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(e)
        else:
            lane_ends[lane] = e
        cluster.append((s, e, r, lane))
        cluster_end = max(cluster_end, e)
    if cluster:
        flush()
    return boxes


def _ticks(pieces: Sequence[_Piece], y_of: _YOf, digits: int) -> list[Tick]:
    """Addresses at piece boundaries, skipping those that would collide with the previous one."""
    points = sorted({p.start for p in pieces} | {p.end for p in pieces})
    ticks: list[Tick] = []
    last_y = -1e9
    for addr in points:
        y = y_of(addr)
        if y - last_y >= 12:
            ticks.append(Tick(addr, y, hex_addr(addr, digits)))
            last_y = y
    return ticks


def _labels(plan: Plan, boxes: Sequence[Box], digits: int) -> list[Label]:
    """One label per region (at its first box), pushed apart so they never overlap."""
    first: dict[int, Box] = {}
    for b in boxes:
        first.setdefault(id(b.region), b)
    wanted: list[tuple[float, Box, tuple[str, ...]]] = []
    for b in first.values():
        r = b.region
        head = r.name
        if b.is_global:
            head = f"{head}  \u2605 global CMA pool"
        tail = [human_size(r.size), r.kind]
        if r.status != "ok":
            tail.append(r.status.upper())
        if r.placement == "modelled":
            tail.append("address modelled")
        if not b.in_ram:
            tail.append("outside RAM")
        end = r.end if r.end is not None else b.end
        rng = format_range(b.start, end - b.start, digits)
        lines: tuple[str, ...] = (_clip(head, LABEL_CHARS), " \u00b7 ".join([rng, *tail]))
        if len(lines[1]) > LABEL_CHARS:  # too wide for the label column: size and kind go below
            lines = (lines[0], rng, _clip(" \u00b7 ".join(tail), LABEL_CHARS))
        if r.status != "ok" and r.reason:
            lines = (*lines, _clip(r.reason, LABEL_CHARS))
        h = LABEL_LINE_H * len(lines)
        wanted.append((b.y + b.h / 2 - h / 2, b, lines))
    wanted.sort(key=lambda t: t[0])
    labels: list[Label] = []
    next_free = float(MARGIN_TOP) - 8
    for want_y, b, lines in wanted:
        y = max(want_y, next_free)
        next_free = y + LABEL_LINE_H * len(lines) + LABEL_GAP
        emphasis: Literal["global", "live", "dead"] = "live" if b.live else "dead"
        if b.is_global:
            emphasis = "global"
        labels.append(Label(lines, y, b.y + b.h / 2, b.x + b.w, emphasis))
    return labels


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
