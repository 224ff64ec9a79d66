"""SARIF 2.1.0 (the Static Analysis Results Interchange Format CI systems read) for a lint report.

One run of the tool ``memplan``; a rule per diagnostic code (title, meaning and fix from the
code registry :mod:`memplan.diagnostics`); a result per distinct finding. A finding in a
``.dtsi`` shared by many boards is one result at that file's line, listing the boards in its
``properties.boards``. File locations are relative to the ``SRCROOT`` base (the kernel tree);
findings without a file position point at the board file. ``info`` findings are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memplan import __version__
from memplan.diagnostics import CODES, Code
from memplan.lint.model import LintReport
from memplan.model import Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
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


def _location(diag: Diagnostic, fallback: str) -> dict[str, Any]:
    src = diag.source
    physical: dict[str, Any]
    if src is not None and src.file and src.kind in ("file", "config") and not src.file.startswith("<"):
        physical = {"artifactLocation": {"uri": Path(src.file).as_posix(), "uriBaseId": "SRCROOT"}}
        if src.line:
            region: dict[str, Any] = {"startLine": src.line}
            if src.column:
                region["startColumn"] = src.column
            physical["region"] = region
    else:
        physical = {"artifactLocation": {"uri": fallback, "uriBaseId": "SRCROOT"}}
    return {"physicalLocation": physical}


def _key(diag: Diagnostic, fallback: str) -> str:
    return json.dumps([diag.code, diag.severity, diag.message, _location(diag, fallback)], sort_keys=True)


def sarif_log(report: LintReport) -> dict[str, Any]:
    """The SARIF log of ``report`` as a JSON-ready dictionary."""
    results: dict[str, dict[str, Any]] = {}
    codes: list[str] = []

    def add(diag: Diagnostic, fallback: str, board: str | None) -> None:
        if diag.severity == "info":
            return
        key = _key(diag, fallback)
        if key not in results:
            if diag.code not in codes:
                codes.append(diag.code)
            results[key] = {
                "ruleId": diag.code,
                "level": _LEVELS[diag.severity],
                "message": {"text": diag.message},
                "locations": [_location(diag, fallback)],
                "properties": {"boards": []},
            }
        if board is not None:
            results[key]["properties"]["boards"].append(board)

    for cfg in report.configs:
        for diag in cfg.diagnostics:
            add(diag, cfg.config, None)
    for board in report.boards:
        for diag in board.diagnostics:
            add(diag, board.path, board.path)
    index = {code: i for i, code in enumerate(codes)}
    for result in results.values():
        result["ruleIndex"] = index[result["ruleId"]]
    root = report.srctree.rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "memplan",
                "version": __version__,
                "rules": [_rule(code) for code in codes],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": Path(root).as_uri() + "/"}},
        "results": list(results.values()),
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: LintReport) -> str:
    """:func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(report), indent=2) + "\n"
