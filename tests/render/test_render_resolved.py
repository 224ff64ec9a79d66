"""End to end: the bundled example board, resolved by memplan.resolve, rendered in every view."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import memplan
from memplan.render._palette import GLOBAL_CMA
from memplan.render.svg_layout import layout_plan
from memplan.render.text import render_text

ROOT = Path(__file__).resolve().parents[2]
EVK = ROOT / "memplan" / "examples" / "evk"

pytestmark = pytest.mark.skipif(not callable(getattr(memplan, "resolve", None)), reason="no resolver yet")


def _evk(version: str) -> memplan.Plan:
    return memplan.resolve(  # type: ignore[attr-defined,no-any-return]
        dts=str(EVK / "board.dts"), include_dirs=[str(EVK)], config=str(EVK / "defconfig"),
        kernel_version=version,
    )


@pytest.mark.parametrize(
    ("version", "origin", "size"), [("5.4", "dts", "256 MiB"), ("6.1", "cmdline", "320 MiB")]
)
def test_the_winner_is_shown_everywhere(version: str, origin: str, size: str) -> None:
    plan = _evk(version)
    assert plan.global_cma.origin == origin
    words = {"dts": "the device tree", "cmdline": "the kernel command line"}[origin]
    assert f"Global CMA: {size} from {words}" in render_text(plan)
    svg = plan.to_svg()
    assert f"Global CMA pool: {size} from {words}" in svg
    assert "\u2605 global CMA pool" in svg
    html = plan._repr_html_()
    assert "<svg" in html and f"{size} from {words}" in html
    lay = layout_plan(plan)
    box = lay.box(plan.global_cma.region or "")
    assert box.is_global and box.start == plan.global_cma.base


def test_global_pool_pixels_and_cli_svg() -> None:
    cairosvg = pytest.importorskip("cairosvg")
    image = pytest.importorskip("PIL.Image")
    plan = _evk("6.1")
    res = subprocess.run(
        [sys.executable, "-m", "memplan", "resolve", "--dts", str(EVK / "board.dts"), "-I", str(EVK),
         "--config", str(EVK / "defconfig"), "--kernel-version", "6.1", "--format", "svg"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == plan.to_svg().strip()
    img = image.open(io.BytesIO(cairosvg.svg2png(bytestring=res.stdout.encode()))).convert("RGB")
    box = layout_plan(plan).box(plan.global_cma.region or "")
    fill = tuple(int(GLOBAL_CMA.fill[i : i + 2], 16) for i in (1, 3, 5))
    assert img.getpixel((int(box.x + box.w / 2), int(box.y + box.h / 2))) == fill
