"""The notebook view stays readable under dark themes: screenshots in headless Chromium, contrast
measured from the pixels.

The plan's HTML is placed in pages that imitate JupyterLab's dark theme, VS Code's dark theme and
a light one (the output area's background and inherited text colour). Chromium renders the page
twice: as it is, and with every text of the fragment made transparent. Pixels that differ are
text; each is compared with the background under it (the same pixel in the second picture). In
every tile of the picture that holds text, the best contrast must reach WCAG's 4.5:1, so a
label, a table header or a line drawn in a colour the theme hides is found. A control section
(grey text straight on a dark page) shows that the measurement does find poor contrast.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from render_plan_factory import evk_plan

from memplan.render.html import render_html

Image = pytest.importorskip("PIL.Image", reason="pillow is in the test extra")

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")

#: (name, page background, inherited text colour) of the notebook themes.
THEMES = (
    ("jupyterlab-dark", "#111111", "rgba(255,255,255,0.87)"),
    ("vscode-dark", "#1e1e1e", "#cccccc"),
    ("light", "#ffffff", "#000000"),
)
WIDTH, SECTION = 1700, 1300
HIDE_TEXT = (
    "<style>.memplan-plan, .memplan-plan * { color: transparent !important; }"
    " .memplan-plan svg text, .control { fill: transparent !important; color: transparent !important; }"
    "</style>"
)
TILE_W, TILE_H, MIN_TEXT_PIXELS = 48, 14, 10


def _page(fragment: str, hide: bool) -> str:
    sections = [
        f'<div style="position:absolute;top:{i * SECTION}px;left:0;width:{WIDTH}px;height:{SECTION}px;'
        f'background:{bg};color:{fg};overflow:hidden"><div style="padding:12px">{fragment}</div></div>'
        for i, (_, bg, fg) in enumerate(THEMES)
    ]
    control = (
        f'<div style="position:absolute;top:{len(THEMES) * SECTION}px;left:0;width:{WIDTH}px;height:200px;'
        'background:#111111"><div class="control" style="padding:12px;color:#455a64;font-size:14px">'
        "cmdline: console=ttymxc1,115200 root=/dev/mmcblk2p2 (grey on black: poor contrast)</div></div>"
    )
    style = HIDE_TEXT if hide else ""
    body = "".join(sections) + control
    return f"<!doctype html><html><head>{style}</head><body style='margin:0'>{body}</body></html>"


def _screenshot(html: str, tmp: Path, name: str) -> Image.Image:
    page = tmp / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    png = tmp / f"{name}.png"
    height = len(THEMES) * SECTION + 200
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / ('profile-' + name)}", "--hide-scrollbars", "--force-device-scale-factor=1",
         f"--window-size={WIDTH},{height}", f"--screenshot={png}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return Image.open(png).convert("RGB")


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


Tile = tuple[int, int, float]


def _poor_tiles(shown: Image.Image, hidden: Image.Image, top: int, bottom: int) -> list[Tile]:
    """Tiles in rows ``[top, bottom)`` that hold text whose best contrast is below 4.5:1."""
    width = shown.width
    a, b = shown.load(), hidden.load()
    poor = []
    for ty in range(top, bottom - TILE_H + 1, TILE_H):
        for tx in range(0, width - TILE_W + 1, TILE_W):
            best, count = 0.0, 0
            for y in range(ty, ty + TILE_H):
                for x in range(tx, tx + TILE_W):
                    if a[x, y] != b[x, y]:
                        count += 1
                        best = max(best, _contrast(a[x, y], b[x, y]))
            if count >= MIN_TEXT_PIXELS and best < 4.5:
                poor.append((tx, ty, round(best, 2)))
    return poor


@pytest.mark.slow
def test_html_view_is_readable_under_dark_and_light_themes(tmp_path: Path) -> None:
    fragment = render_html(evk_plan())
    shown = _screenshot(_page(fragment, hide=False), tmp_path, "shown")
    hidden = _screenshot(_page(fragment, hide=True), tmp_path, "hidden")
    for i, (name, _, _) in enumerate(THEMES):
        top = i * SECTION
        text = sum(
            1 for y in range(top, top + SECTION, 3) for x in range(0, WIDTH, 3)
            if shown.getpixel((x, y)) != hidden.getpixel((x, y))
        )
        assert text > 2000, f"{name}: the fragment's text was not found in the screenshot"
        assert _poor_tiles(shown, hidden, top, top + SECTION) == [], name
    control = _poor_tiles(shown, hidden, len(THEMES) * SECTION, len(THEMES) * SECTION + 200)
    assert control, "the control text (grey on black) should have measured as poor contrast"
