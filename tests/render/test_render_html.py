"""The notebook view: picture and tables together, escaped, one row per region."""

from __future__ import annotations

from html.parser import HTMLParser

from render_plan_factory import evk_plan, two_bank_plan

from memplan.model import Diagnostic, Region
from memplan.render.html import render_html


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.svg = 0
        self.row_classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.svg += 1
        if tag == "table":
            self._table = a.get("class") or ""
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
            if a.get("class"):
                self.row_classes.append(a["class"] or "")
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        if tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Collect:
    c = _Collect()
    c.feed(html)
    return c


def test_picture_and_tables_together() -> None:
    plan = evk_plan()
    html = plan._repr_html_()
    assert html == render_html(plan)
    c = _parse(html)
    assert c.svg == 1
    regions = c.tables["memplan-regions"]
    assert regions[0][1:4] == ["Region", "Kind", "Base"]
    body = regions[1:]
    assert [r[1] for r in body] == ["dsp@92400000", "cma", "vpu-pool", "linux,cma"]
    dsp = body[0]
    assert dsp[3] == "0x92400000" and dsp[4] == "0x933fffff" and dsp[5] == "16 MiB"
    assert body[3][6] == "bypassed: cma= on the command line wins from v5.6"
    cands = c.tables["memplan-candidates"][1:]
    assert [r[0] for r in cands] == ["selected", "overridden", "overridden"]
    verdict = (
        "Global CMA pool:</b> 320 MiB from the kernel command line at 0xa8000000-0xbbffffff, "
        "region &#x27;cma&#x27;"
    )
    assert verdict in html
    assert c.tables["memplan-devices"][1] == ["/soc/video-codec@38300000", "vpu-pool"]


def test_diagnostics_and_status_classes() -> None:
    c = _parse(render_html(two_bank_plan()))
    diags = c.tables["memplan-diagnostics"][1:]
    assert [d[:2] for d in diags] == [["error", "region-overlap"], ["warning", "bad-size-cells"]]
    assert diags[0][3] == "b.dts:14:3"
    assert "status-rejected" in c.row_classes and "status-failed" in c.row_classes
    assert "memplan-devices" not in c.tables


def test_html_is_escaped() -> None:
    odd = Region("<script>", "reserved", "dts", "ok", "static", 0x50000000, 4096)
    plan = evk_plan(regions=(odd,), diagnostics=(Diagnostic("warning", "c", "a & b <i>"),))
    html = render_html(plan)
    assert "<script>" not in html and "&lt;script&gt;" in html
    c = _parse(html)
    assert c.tables["memplan-diagnostics"][1][2] == "a & b <i>"
