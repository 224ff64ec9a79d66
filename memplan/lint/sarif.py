"""SARIF 2.1.0 and GitHub annotations for a lint report, built on the single-board renderers
(:mod:`memplan.render.sarif`, :mod:`memplan.render.github`).

A finding in a ``.dtsi`` shared by many boards is one result (one annotation), listing its
boards in ``properties.boards``. File locations are relative to the ``SRCROOT`` base (the kernel
tree); a finding without a file position points at its (first) board's file. Rules carry
the title, meaning and fix of their code from the registry :mod:`memplan.diagnostics`.
``info`` findings are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from memplan.diagnostics import CODES, Code
from memplan.lint.model import Finding, LintReport
from memplan.render.sarif import sarif_log as diagnostics_log
from memplan.source import Source

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _rule(code: str) -> dict[str, Any]:
    entry: Code | None = CODES.get(code)
    rule: dict[str, Any] = {"id": code, "name": code}
    if entry is not None:
        rule["shortDescription"] = {"text": entry.title}
        rule["fullDescription"] = {"text": entry.meaning}
        rule["help"] = {"text": entry.fix}
        rule["defaultConfiguration"] = {"level": _LEVELS[entry.severity]}
    return rule


def _located(finding: Finding) -> Finding:
    """The finding with a file position: its own, else its first board's file (the text form of
    its own source is kept in the message)."""
    d = finding.diagnostic
    src = d.source
    if (src is not None and src.file and src.kind in ("file", "config", "dtb")) or not finding.boards:
        return finding
    note = f" ({src})" if src is not None else ""
    board = Source("file", file=finding.boards[0])
    return Finding(attrs.evolve(d, message=d.message + note, source=board), finding.boards)


def sarif_log(report: LintReport) -> dict[str, Any]:
    """The SARIF log of ``report`` as a JSON-ready dictionary."""
    findings = [_located(f) for f in report.distinct_findings()]
    log = diagnostics_log([f.diagnostic for f in findings])
    run = log["runs"][0]
    for finding, result in zip(findings, run["results"], strict=True):
        for loc in result.get("locations", ()):
            artifact = loc.get("physicalLocation", {}).get("artifactLocation")
            if artifact is not None and not artifact["uri"].startswith("file:"):
                artifact["uriBaseId"] = "SRCROOT"
        result.setdefault("properties", {})["boards"] = list(finding.boards)
    run["tool"]["driver"]["rules"] = [_rule(r["id"]) for r in run["tool"]["driver"]["rules"]]
    run["originalUriBaseIds"] = {"SRCROOT": {"uri": Path(report.srctree).as_uri() + "/"}}
    return log


def render_sarif(report: LintReport) -> str:
    """:func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(report), indent=2) + "\n"


def render_github(report: LintReport) -> str:
    """One GitHub workflow annotation per distinct finding (paths relative to the tree)."""
    from memplan.render.github import render_github as annotations

    return annotations(f.diagnostic for f in report.distinct_findings())
