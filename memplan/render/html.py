"""The notebook view of a plan: the memory-map picture beside the tables.

:func:`render_html` returns one self-contained HTML fragment (inline styles only, so it
survives notebook sanitisers): the SVG from :mod:`memplan.render.svg`, the global CMA verdict
with every candidate, the region table, devices and diagnostics.

The fragment sets its own background and text colour (a light panel), so every colour in it
keeps its contrast under dark notebook themes (JupyterLab dark, VS Code dark) as well as light
ones: nothing inherits the page's text colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from memplan.model import Diagnostic
from memplan.plan import Plan
from memplan.render._fmt import hex_addr, hex_width, human_size
from memplan.render._palette import style_for
from memplan.render._words import cma_verdict
from memplan.render.svg import DEAD_STROKE, GLOBAL_STROKE, render_svg
from memplan.render.text import sorted_regions

#: The panel's own colours: text on background, whatever the notebook theme.
PANEL_BACKGROUND = "#ffffff"
PANEL_TEXT = "#1b1b1b"
_PANEL = (
    f"background:{PANEL_BACKGROUND};color:{PANEL_TEXT};color-scheme:light;padding:8px;"
    "border-radius:4px;display:inline-block;max-width:100%;box-sizing:border-box"
)
_CELL = "padding:2px 8px;border-bottom:1px solid #e0e0e0;text-align:left;white-space:nowrap"
_HEAD = _CELL + f";background:#eceff1;color:{PANEL_TEXT};font-weight:bold"
_MONO = "font-family:DejaVu Sans Mono,Menlo,Consolas,monospace"
_SEVERITY_COLOUR = {"error": "#b71c1c", "warning": "#bf360c", "info": "#455a64"}


def render_html(plan: Plan) -> str:
    """An HTML fragment showing the picture and the tables side by side (they wrap when narrow)."""
    tables = "".join([_summary(plan), _candidates(plan), _regions(plan), _devices(plan), _diagnostics(plan)])
    return (
        f'<div class="memplan-plan" style="{_PANEL};font-family:DejaVu Sans,Verdana,Arial,sans-serif;'
        'font-size:13px">'
        '<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">'
        f'<div class="memplan-picture" style="max-width:100%;overflow:auto">{render_svg(plan)}</div>'
        f'<div class="memplan-tables" style="min-width:420px">{tables}</div>'
        "</div></div>"
    )


def _table(header: Sequence[str], rows: Sequence[str], cls: str) -> str:
    head = "".join(f'<th style="{_HEAD}">{escape(h)}</th>' for h in header)
    return (
        f'<table class="{cls}" style="border-collapse:collapse;margin:6px 0 12px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _td(text: str, style: str = "") -> str:
    return f'<td style="{_CELL};{style}">{escape(text)}</td>'


def _summary(plan: Plan) -> str:
    version = f"Linux {plan.kernel_version}" if plan.kernel_version is not None else "kernel version unknown"
    ram = sum(b.size for b in plan.memory)
    verdict = cma_verdict(plan.global_cma)
    status = "ok" if plan.ok else f"{len(plan.errors)} error(s)"
    return (
        '<div class="memplan-summary" style="margin-bottom:6px">'
        f"<div><b>{escape(plan.arch)}</b>, {escape(version)}, precedence <b>{escape(plan.precedence)}</b>"
        f" (requested {escape(plan.precedence_requested)}) &middot; RAM {escape(human_size(ram))}"
        f" in {len(plan.memory)} bank(s) &middot; {escape(status)}</div>"
        f'<div style="{_MONO};color:#455a64">cmdline: {escape(plan.cmdline or "(empty)")}</div>'
        f'<div style="color:{GLOBAL_STROKE};font-size:15px;margin-top:4px">'
        f"<b>Global CMA pool:</b> {escape(verdict)}</div></div>"
    )


def _candidates(plan: Plan) -> str:
    if not plan.global_cma.candidates:
        return ""
    rows = []
    for c in plan.global_cma.candidates:
        weight = "font-weight:bold" if c.status == "selected" else ""
        origin = c.origin if c.name is None else f"{c.origin} ({c.name})"
        rows.append(
            f'<tr style="{weight}">'
            + _td(c.status)
            + _td(origin)
            + _td(human_size(c.size))
            + _td(c.reason, "white-space:normal")
            + _td(str(c.source) if c.source is not None else "", _MONO)
            + "</tr>"
        )
    return _table(["Candidate", "Origin", "Size", "Why", "Source"], rows, "memplan-candidates")


def _regions(plan: Plan) -> str:
    regs = sorted_regions(plan.regions)
    if not regs:
        return "<p>No reserved regions.</p>"
    width = hex_width(r.end for r in regs)
    rows = []
    for r in regs:
        style = style_for(r, plan.global_cma.region)
        swatch = (
            f'<td style="{_CELL}"><span style="display:inline-block;width:14px;height:10px;'
            f'background:{style.fill};border:1px solid #37474f"></span></td>'
        )
        colour = "" if r.status == "ok" else f"color:{DEAD_STROKE}"
        if style.letter == "G":
            colour = f"color:{GLOBAL_STROKE};font-weight:bold"
        last = hex_addr(r.end - 1, width) if r.end is not None and r.size else "-"
        status = r.status if not r.reason or r.status == "ok" else f"{r.status}: {r.reason}"
        rows.append(
            f'<tr class="status-{escape(r.status)}" style="{colour}">'
            + swatch
            + _td(r.name)
            + _td(r.kind)
            + _td(hex_addr(r.base, width), _MONO)
            + _td(last, _MONO)
            + _td(human_size(r.size))
            + _td(status, "white-space:normal")
            + _td(r.placement)
            + _td(r.origin)
            + _td(str(r.source) if r.source is not None else "", _MONO)
            + "</tr>"
        )
    header = ["", "Region", "Kind", "Base", "Last", "Size", "Status", "Placement", "Origin", "Source"]
    return _table(header, rows, "memplan-regions")


def _devices(plan: Plan) -> str:
    if not plan.devices:
        return ""
    rows = [
        "<tr>" + _td(d.path, _MONO) + _td(", ".join(d.regions) or "(none)") + "</tr>" for d in plan.devices
    ]
    return _table(["Device", "Regions"], rows, "memplan-devices")


def _diagnostics(plan: Plan) -> str:
    diags: Sequence[Diagnostic] = plan.diagnostics
    if not diags:
        return "<p>No diagnostics.</p>"
    rows = []
    for d in diags:
        colour = _SEVERITY_COLOUR[d.severity]
        rows.append(
            "<tr>"
            + _td(d.severity, f"color:{colour};font-weight:bold")
            + _td(d.code, _MONO)
            + _td(d.message, "white-space:normal")
            + _td(str(d.source) if d.source is not None else "", _MONO)
            + "</tr>"
        )
    return _table(["Severity", "Code", "Message", "Source"], rows, "memplan-diagnostics")
