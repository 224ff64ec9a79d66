"""The memory-map picture: the plan's physical address space as SVG.

RAM banks are grey columns; each region is a box coloured by kind, the global CMA pool
stands out, regions that did not make it (rejected, failed, bypassed) are hatched with a
dashed outline, bytes claimed twice are crossed in red, and address stretches without
anything to show are compressed behind a zig-zag break. Geometry comes from
:func:`memplan.render.svg_layout.layout_plan`; this module only writes the elements.
"""

from __future__ import annotations

from html import escape

from memplan.plan import Plan
from memplan.render._fmt import human_size
from memplan.render._palette import GLOBAL_CMA, OVERLAP_STROKE, RAM_FILL, legend_order
from memplan.render._words import cma_verdict
from memplan.render.svg_layout import (
    ADDR_X,
    BAR_W,
    BAR_X,
    LABEL_LINE_H,
    LABEL_X,
    Band,
    Box,
    Layout,
    layout_plan,
)

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
DEAD_STROKE = "#b71c1c"
GLOBAL_STROKE = "#1b5e20"
RAM_STROKE = "#90a4ae"
TEXT = "#263238"
MUTED = "#455a64"  # 4.5:1 or better on the free-RAM fill and on white



def render_svg(plan: Plan) -> str:
    """The plan's physical memory map as a standalone SVG document (UTF-8 text)."""
    lay = layout_plan(plan)
    body: list[str] = []
    body += _title(plan)
    body += _ram(lay)
    body += _bands(lay)
    body += [_box(b) for b in lay.boxes]
    body += _overlaps(lay)
    body += _ticks(lay)
    body += _labels(lay)
    y = _unplaced(lay, body, lay.content_bottom)
    height = int(_legend(lay, body, y) + 12)
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{height}" '
        f'viewBox="0 0 {lay.width} {height}" font-family="{FONT}" font-size="12">',
        "<title>memplan memory map</title>",
        _defs(),
        f'<rect x="0" y="0" width="{lay.width}" height="{height}" fill="#ffffff"/>',
    ]
    return "\n".join([*head, *body, "</svg>"]) + "\n"


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{_f(x)}" y="{_f(y)}"{extra}>{escape(s)}</text>'


def _defs() -> str:
    return (
        "<defs>"
        '<pattern id="hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
        'patternTransform="rotate(45)">'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{DEAD_STROKE}" stroke-width="2"/></pattern>'
        '<pattern id="cross" patternUnits="userSpaceOnUse" width="6" height="6">'
        f'<path d="M0,0 L6,6 M6,0 L0,6" stroke="{OVERLAP_STROKE}" stroke-width="1.4"/></pattern>'
        "</defs>"
    )


def _title(plan: Plan) -> list[str]:
    version = f"Linux {plan.kernel_version}" if plan.kernel_version is not None else "kernel version unknown"
    head = f"Physical memory map \u2014 {plan.arch}, {version}, precedence {plan.precedence}"
    g = plan.global_cma
    verdict = f"Global CMA pool: {cma_verdict(g, with_range=False)}"
    errors = len(plan.errors)
    if errors:
        verdict += f" \u2014 {errors} error{'s' if errors != 1 else ''}"
    return [
        _text(16, 24, head, font_size="16", font_weight="bold", fill=TEXT),
        _text(16, 44, verdict, font_size="13", fill=GLOBAL_STROKE if g.size else MUTED),
    ]


def _ram(lay: Layout) -> list[str]:
    return [
        f'<rect class="ram" x="{BAR_X}" y="{_f(y)}" width="{BAR_W}" height="{_f(h)}" '
        f'fill="{RAM_FILL}" stroke="{RAM_STROKE}"/>'
        for y, h in lay.ram
    ]


def _zigzag(y: float, x0: float, x1: float, amp: float = 4.0, step: float = 10.0) -> str:
    pts = []
    x = x0
    up = True
    while x <= x1 + 1e-6:
        pts.append(f"{_f(x)},{_f(y - amp if up else y + amp)}")
        up = not up
        x += step
    return " ".join(pts)


def _bands(lay: Layout) -> list[str]:
    out: list[str] = []
    cx = BAR_X + BAR_W / 2
    for band in lay.bands:
        if band.kind == "free":
            if band.h >= 14:
                out.append(
                    _text(cx, band.y + band.h / 2 + 4, band.label, text_anchor="middle", fill=MUTED,
                          font_size="11", font_style="italic")
                )
            continue
        out.append(_break(band, cx))
    return out


def _break(band: Band, cx: float) -> str:
    """A zig-zag cut: white between two zig-zag lines, with the size of what was left out."""
    top, bottom = band.y + 7, band.y + band.h - 7
    x0, x1 = BAR_X - 8, BAR_X + BAR_W + 8
    upper, lower = _zigzag(top, x0, x1), _zigzag(bottom, x0, x1)
    lower_rev = " ".join(reversed(lower.split(" ")))
    fill = "#ffffff"
    label = f"\u22ef {band.label} \u22ef"
    return (
        f'<g class="break {band.kind}">'
        f'<polygon points="{upper} {lower_rev}" fill="{fill}" stroke="none"/>'
        f'<polyline points="{upper}" fill="none" stroke="{MUTED}" stroke-width="1.2"/>'
        f'<polyline points="{lower}" fill="none" stroke="{MUTED}" stroke-width="1.2"/>'
        + _text(cx, band.y + band.h / 2 + 4, label, text_anchor="middle", fill=MUTED, font_size="11")
        + "</g>"
    )


def _box(b: Box) -> str:
    r = b.region
    title = f"{r.name}: {human_size(r.size)} {r.kind}, {r.status}"
    if r.reason:
        title += f" ({r.reason})"
    geom = f'x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}"'
    cls = f'region kind-{r.kind} status-{r.status}{" global-cma" if b.is_global else ""}'
    if b.live:
        stroke = 'stroke="#37474f" stroke-width="0.8"'
        if b.is_global:
            stroke = f'stroke="{GLOBAL_STROKE}" stroke-width="3"'
        return f'<rect class="{cls}" {geom} fill="{b.fill}" {stroke}><title>{escape(title)}</title></rect>'
    return (
        f'<g class="{cls}"><title>{escape(title)}</title>'
        f'<rect {geom} fill="{b.fill}" fill-opacity="0.35"/>'
        f'<rect {geom} fill="url(#hatch)" stroke="{DEAD_STROKE}" stroke-width="1.5" stroke-dasharray="5,3"/>'
        "</g>"
    )


def _overlaps(lay: Layout) -> list[str]:
    return [
        f'<rect class="overlap" x="{BAR_X - 4}" y="{_f(o.y)}" width="{BAR_W + 8}" '
        f'height="{_f(max(o.h, 3.0))}" '
        f'fill="url(#cross)" stroke="{OVERLAP_STROKE}" stroke-width="2"><title>overlap: '
        f"{human_size(o.end - o.start)} claimed twice</title></rect>"
        for o in lay.overlaps
    ]


def _ticks(lay: Layout) -> list[str]:
    out: list[str] = []
    for t in lay.ticks:
        out.append(f'<line x1="{ADDR_X + 3}" y1="{_f(t.y)}" x2="{BAR_X}" y2="{_f(t.y)}" stroke="{MUTED}"/>')
        out.append(
            _text(ADDR_X, t.y + 4, t.text, text_anchor="end", font_family=MONO, font_size="11", fill=TEXT)
        )
    return out


def _labels(lay: Layout) -> list[str]:
    out: list[str] = []
    for lb in lay.labels:
        colour = {"global": GLOBAL_STROKE, "live": TEXT, "dead": DEAD_STROKE}[lb.emphasis]
        mid = lb.y + LABEL_LINE_H * len(lb.lines) / 2
        out.append(
            f'<polyline points="{_f(lb.anchor_x)},{_f(lb.anchor_y)} {_f(LABEL_X - 18)},{_f(lb.anchor_y)} '
            f'{_f(LABEL_X - 6)},{_f(mid)}" fill="none" stroke="{MUTED}" stroke-width="0.8"/>'
        )
        for i, line in enumerate(lb.lines):
            y = lb.y + LABEL_LINE_H * (i + 1) - 3
            if i == 0:
                out.append(_text(LABEL_X, y, line, font_weight="bold", fill=colour, class_="label"))
            else:
                out.append(_text(LABEL_X, y, line, font_family=MONO, font_size="11", fill=colour))
    return out


def _unplaced(lay: Layout, out: list[str], y: float) -> float:
    if not lay.unplaced:
        return y
    out.append(_text(16, y, "Not in the picture (no address, or size 0):", font_weight="bold", fill=TEXT))
    y += LABEL_LINE_H * 1.3
    for r in lay.unplaced:
        line = f"{r.name} \u2014 {human_size(r.size)} {r.kind}, {r.status}"
        if r.reason:
            line += f": {r.reason}"
        colour = DEAD_STROKE if r.status != "ok" else TEXT
        if len(line) > 115:
            line = line[:114] + "\u2026"
        out.append(_text(28, y, line, fill=colour, class_="unplaced"))
        y += LABEL_LINE_H * 1.3
    return y + 8


def _swatch(fill: str, stroke: str, extra: str = "") -> str:
    return f'<rect x="0" y="0" width="18" height="12" fill="{fill}" stroke="{stroke}" {extra}/>'


def _legend(lay: Layout, out: list[str], y: float) -> float:
    """Swatches for what the picture shows, three to a row; returns the y below the legend."""
    items: list[tuple[str, str]] = []
    for style in legend_order():
        if style == GLOBAL_CMA:
            if any(b.is_global for b in lay.boxes):
                items.append((_swatch(style.fill, GLOBAL_STROKE, 'stroke-width="3"'), style.label))
        elif any(b.kind_label == style.label and not b.is_global for b in lay.boxes):
            items.append((_swatch(style.fill, "#37474f", 'stroke-width="0.8"'), style.label))
    if lay.ram:
        items.append((_swatch(RAM_FILL, RAM_STROKE), "free RAM"))
    if any(not b.live for b in lay.boxes):
        dead = _swatch("url(#hatch)", DEAD_STROKE, 'stroke-dasharray="5,3"')
        items.append((dead, "rejected / failed / bypassed"))
    if lay.overlaps:
        items.append((_swatch("url(#cross)", OVERLAP_STROKE, 'stroke-width="2"'), "overlap (claimed twice)"))
    if any(b.kind != "free" for b in lay.bands):
        zig = f'<polyline points="{_zigzag(6, 0, 18, 3, 6)}" fill="none" stroke="{MUTED}"/>'
        items.append((zig, "compressed gap"))
    out.append(_text(16, y, "Legend", font_weight="bold", fill=TEXT))
    y += 10
    col_w = (lay.width - 32) / 3
    for i, (swatch, label) in enumerate(items):
        x = 16 + (i % 3) * col_w
        yy = y + (i // 3) * 20
        text = _text(26, 10, label, fill=TEXT)
        out.append(f'<g class="legend" transform="translate({_f(x)},{_f(yy)})">{swatch}{text}</g>')
    return y + ((len(items) + 2) // 3) * 20
