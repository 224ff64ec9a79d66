"""Text and JSON views of a :class:`~memplan.lint.model.LintReport` (SARIF: :mod:`memplan.lint.sarif`).

The text view lists the findings of every board that has any (warnings, errors, build
failures), the configuration's own warnings, then the summary: a table of boards per
architecture and status, and the findings by code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from memplan.lint.model import STATUSES, BoardResult, LintReport

_HEADERS = ("arch", "boards", *STATUSES)


def render_json(report: LintReport) -> str:
    """The report as JSON: ``{"srctree", "kernel_version", "configs", "boards", "summary"}``."""
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _table(rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def _status_rows(report: LintReport) -> list[list[str]]:
    rows: list[list[str]] = [list(_HEADERS)]
    arches = dict.fromkeys(c.arch for c in report.configs)  # an arch may have several configs
    groups: list[tuple[str, list[BoardResult]]] = [
        (arch, [b for b in report.boards if b.arch == arch]) for arch in arches
    ]
    if len(groups) != 1:
        groups.append(("total", list(report.boards)))
    for name, boards in groups:
        counts = [sum(1 for b in boards if b.status == s) for s in STATUSES]
        rows.append([name, str(len(boards)), *(str(n) for n in counts)])
    return rows


def render_text(report: LintReport, *, findings: bool = True) -> str:
    """Per-board findings (when ``findings``), the configuration's warnings and the summary."""
    lines: list[str] = []
    if findings:
        for board in report.boards:
            shown = board.findings()
            if not shown:
                continue
            lines.append(f"{board.path}: {board.status}")
            lines.extend(f"  {d}" for d in shown)
            lines.append("")
    for cfg in report.configs:
        own = [d for d in cfg.diagnostics if d.severity in ("error", "warning")]
        version = f", Linux {cfg.kernel_version}" if cfg.kernel_version else ""
        used = sum(1 for b in report.boards if b.arch == cfg.arch and b.defconfig == cfg.config)
        which = (f"{used} board{'s' if used != 1 else ''}" if any(b.defconfig for b in report.boards)
                 else "boards")  # with --config every board uses the one configuration
        lines.append(f"{cfg.arch}: {which} resolved with {cfg.config}{version}"
                     + (f" ({len(own)} configuration warnings)" if own else ""))
        lines.extend(f"  {d}" for d in own)
    if report.configs:
        lines.append("")
    summary = report.summary
    version = f" (Linux {report.kernel_version})" if report.kernel_version else ""
    lines.append(f"Summary of {report.srctree}{version}")
    lines.extend(_table(_status_rows(report), [False] + [True] * (len(_HEADERS) - 1)))
    if summary.by_code:
        lines.append("")
        lines.append("Findings by code")
        rows = [["code", "severity", "boards", "findings"]]
        rows += [[c.code, c.severity, str(c.boards), str(c.findings)] for c in summary.by_code]
        lines.extend(_table(rows, [False, False, True, True]))
    return "\n".join(lines) + "\n"
