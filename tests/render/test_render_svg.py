"""The memory-map picture: SVG structure and text, geometry, and the rendered pixels."""

from __future__ import annotations

import io
import itertools
import xml.etree.ElementTree as ET

import pytest
from render_plan_factory import GiB, MiB, evk_plan, two_bank_plan

from memplan.model import GlobalCma, MemoryBank, Region
from memplan.plan import Plan
from memplan.render._palette import GLOBAL_CMA, OVERLAP_STROKE, RAM_FILL, style_for
from memplan.render.svg import DEAD_STROKE, render_svg
from memplan.render.svg_layout import BAR_W, BAR_X, BREAK_H, MIN_REGION_H, layout_plan

cairosvg = pytest.importorskip("cairosvg", reason="cairosvg is in the test extra")
Image = pytest.importorskip("PIL.Image", reason="pillow is in the test extra")

SVG_NS = "{http://www.w3.org/2000/svg}"


def _png(svg: str) -> Image.Image:
    data = cairosvg.svg2png(bytestring=svg.encode("utf-8"))
    return Image.open(io.BytesIO(data)).convert("RGB")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def test_svg_is_well_formed_and_sized() -> None:
    plan = evk_plan()
    svg = render_svg(plan)
    root = ET.fromstring(svg)
    lay = layout_plan(plan)
    assert root.tag == f"{SVG_NS}svg"
    assert int(root.get("width", "0")) == lay.width
    height = int(root.get("height", "0"))
    assert lay.content_bottom < height < lay.content_bottom + 200
    assert root.get("viewBox") == f"0 0 {lay.width} {height}"
    assert plan.to_svg() == svg


def test_labels_addresses_sizes_and_legend_are_in_the_text() -> None:
    texts = "\n".join(_texts(render_svg(evk_plan())))
    for needle in (
        "dsp@92400000", "vpu-pool", "cma  \u2605 global CMA pool",
        "0x92400000-0x933fffff", "16 MiB", "320 MiB", "64 MiB",
        "Global CMA pool: 320 MiB from the kernel command line, region 'cma'",
        "no-map (not mapped by Linux)", "CMA / reusable pool", "free RAM", "compressed gap",
        "0x40000000", "0xc0000000",
    ):
        assert needle in texts, needle
    # the bypassed DT pool has no address: listed under "Not placed" with its reason
    assert "linux,cma \u2014 256 MiB reusable, bypassed: cma= on the command line wins from v5.6" in texts


def test_layout_order_minimum_heights_and_compression() -> None:
    lay = layout_plan(evk_plan())
    dsp, cma, vpu = lay.box("dsp@92400000"), lay.box("cma"), lay.box("vpu-pool")
    assert dsp.y < cma.y < vpu.y  # low addresses at the top
    assert dsp.h >= MIN_REGION_H
    assert cma.h > 4 * vpu.h * 0.9  # 320 MiB vs 64 MiB: drawn to scale
    assert abs(cma.y + cma.h - vpu.y) < 1e-6  # adjacent ranges touch
    # 1316 MiB free below the DSP region is compressed to a break; the 332 MiB stretch is not
    kinds = {(b.kind, b.end - b.start) for b in lay.bands}
    assert ("compressed", 0x92400000 - 0x40000000) in kinds
    assert ("free", 0xA8000000 - 0x93400000) in kinds
    assert cma.is_global and not vpu.is_global
    # labels never overlap each other
    spans = sorted((lb.y, lb.y + 14 * len(lb.lines)) for lb in lay.labels)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_hole_between_banks_is_a_break_and_overlaps_get_lanes() -> None:
    lay = layout_plan(two_bank_plan())
    holes = [b for b in lay.bands if b.kind == "hole"]
    assert len(holes) == 1 and holes[0].start == 0xC0000000 and holes[0].end == 0x8_8000_0000
    assert holes[0].h == BREAK_H
    fw, ovl = lay.box("fw@80000000"), lay.box("ovl@80100000")
    assert fw.w == ovl.w == BAR_W / 2 and fw.x != ovl.x
    assert [(o.start, o.end) for o in lay.overlaps] == [(0x80100000, 0x80200000)]
    assert not lay.box("bad@90000000").live
    assert [r.name for r in lay.unplaced] == ["big-pool"]


def test_png_colours_match_regions() -> None:
    plan = evk_plan()
    lay = layout_plan(plan)
    svg = render_svg(plan)
    img = _png(svg)
    assert img.size == (lay.width, int(ET.fromstring(svg).get("height", "0")))
    for box in lay.boxes:
        px = img.getpixel((int(box.x + box.w / 2), int(box.y + box.h / 2)))
        expected = style_for(box.region, plan.global_cma.region).fill
        assert _close(px, _rgb(expected)), (box.region.name, px, expected)
    assert _rgb(GLOBAL_CMA.fill) == img.getpixel((BAR_X + 20, int(lay.box("cma").y + 30)))
    # free RAM between the DSP and the CMA region is drawn in the RAM colour
    free = next(b for b in lay.bands if b.kind == "free")
    assert _close(img.getpixel((BAR_X + 10, int(free.y + 5))), _rgb(RAM_FILL))
    # left of the bar (address column) is background white at the region rows
    assert img.getpixel((BAR_X - 30, int(lay.box("cma").y + 30))) == (255, 255, 255)


def test_png_shows_hatching_overlap_and_breaks() -> None:
    plan = two_bank_plan()
    lay = layout_plan(plan)
    img = _png(render_svg(plan))
    red = _rgb(OVERLAP_STROKE)
    ovl = lay.overlaps[0]
    row = int(ovl.y + ovl.h / 2)
    reds = sum(1 for x in range(BAR_X, BAR_X + BAR_W) if _close(img.getpixel((x, row)), red, 40))
    assert reds > 10
    bad = lay.box("bad@90000000")
    pixels = [
        img.getpixel((x, y))
        for x in range(int(bad.x) + 3, int(bad.x + bad.w) - 3)
        for y in range(int(bad.y) + 3, int(bad.y + bad.h) - 3)
    ]
    dark_red = _rgb(DEAD_STROKE)
    assert any(_close(p, dark_red, 50) for p in pixels)  # hatch lines
    assert any(not _close(p, dark_red, 50) for p in pixels)  # and pale fill between them
    hole = next(b for b in lay.bands if b.kind == "hole")
    mid = int(hole.y + hole.h / 2)  # between the zig-zags, left of the break text
    assert img.getpixel((BAR_X + 3, mid)) == (255, 255, 255)  # no RAM drawn in the hole
    assert _close(img.getpixel((BAR_X + 3, int(hole.y) - 5)), _rgb(RAM_FILL))


def test_tiny_region_in_huge_bank_is_visible() -> None:
    tiny = Region("tiny@f0000000", "reserved", "dts", "ok", "static", 0xF000_0000, 4096)
    plan = evk_plan(
        memory=(MemoryBank(0, 64 * GiB),),
        regions=(tiny,),
        global_cma=GlobalCma(None, None, None, None, ()),
    )
    lay = layout_plan(plan)
    box = lay.box("tiny@f0000000")
    assert box.h >= MIN_REGION_H
    assert any(b.kind == "compressed" for b in lay.bands)
    assert lay.content_bottom < 1000
    img = _png(render_svg(plan))
    px = img.getpixel((int(box.x + box.w / 2), int(box.y + box.h / 2)))
    assert _close(px, _rgb(style_for(tiny, None).fill))


def test_text_is_escaped() -> None:
    odd = Region("a<b>&c", "reserved", "dts", "ok", "static", 0x50000000, MiB, reason="x")
    plan: Plan = evk_plan(regions=(odd,))
    svg = render_svg(plan)
    ET.fromstring(svg)  # still well-formed
    assert "a<b>&c" in _texts(svg)


def test_region_outside_ram_is_labelled() -> None:
    out = Region("far@1000000000", "no-map", "dts", "ok", "static", 0x10_0000_0000, 2 * MiB)
    lay = layout_plan(evk_plan(regions=(out,)))
    label = next(lb for lb in lay.labels if lb.lines[0] == "far@1000000000")
    assert "outside RAM" in label.lines[1]
    assert not lay.box("far@1000000000").in_ram


def test_long_labels_wrap_and_clip() -> None:
    long = Region(
        "restricted-dma-pool-with-a-very-long-node-name-for-the-wireless-chip@1ff000000",
        "restricted-dma", "dts", "rejected", "modelled", 0x1_FF00_0000, 4 * MiB,
        reason="the reason why this region was refused is long enough to need clipping in the label column",
    )
    lay = layout_plan(evk_plan(memory=(MemoryBank(0x1_0000_0000, 8 * GiB),), regions=(long,)))
    label = lay.labels[0]
    assert len(label.lines) == 4  # name, range, size+kind+status, reason
    assert all(len(line) <= 66 for line in label.lines)
    assert label.lines[0].endswith("\u2026") and label.lines[3].endswith("\u2026")
    assert label.lines[1] == "0x1ff000000-0x1ff3fffff"
    assert label.lines[2] == "4 MiB \u00b7 restricted-dma \u00b7 REJECTED \u00b7 address modelled"


def test_plan_without_ram_has_no_ram_in_the_legend() -> None:
    r = Region("fw@85700000", "no-map", "dts", "ok", "static", 0x85700000, 6 * MiB)
    plan = evk_plan(memory=(), regions=(r,), global_cma=GlobalCma(None, None, None, None, ()))
    lay = layout_plan(plan)
    assert lay.ram == () and not lay.box("fw@85700000").in_ram
    texts = _texts(render_svg(plan))
    assert "free RAM" not in texts and "Global CMA pool: none" in "\n".join(texts)
    assert any("outside RAM" in t for t in texts)


def test_png_kinds_are_told_apart_by_colour() -> None:
    # Independent of the palette's own lookup: the no-map DSP region, a CMA pool and the
    # global pool of the example board must come out as three clearly different colours,
    # none of them the colour of free RAM.
    plan = evk_plan()
    lay = layout_plan(plan)
    img = _png(render_svg(plan))
    by_kind: dict[str, tuple[int, int, int]] = {}
    for box in lay.boxes:
        px = img.getpixel((int(box.x + box.w / 2), int(box.y + box.h / 2)))
        key = "global" if box.region.name == plan.global_cma.region else box.region.kind
        by_kind.setdefault(key, px)
    assert {"no-map", "global"} <= set(by_kind)
    colours = [*by_kind.values(), _rgb(RAM_FILL)]
    for a, b in itertools.combinations(colours, 2):
        assert not _close(a, b, 40), (a, b, by_kind)
