"""Diagnostics as SARIF 2.1.0, the format code-scanning services read (``--format sarif``).

One run of the tool ``memplan``; one result per diagnostic, with its code as the rule id, its
severity as the level (``info`` → ``note``) and, when it comes from a file, the file and line
(and column) of the ``.dts`` or ``.config`` it comes from. A command-line token is given as a
logical location (the command line has no file); the text form of every source stays in the
message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from memplan.model import Diagnostic
from memplan.render.locations import file_location

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "render_sarif", "sarif_log"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    """A URI reference for ``path``: relative paths stay relative (to the run's directory), absolute
    ones become ``file://`` URIs."""
    if os.path.isabs(path):
        return PurePosixPath(path.replace(os.sep, "/")).as_uri()
    return quote(path.replace(os.sep, "/"), safe="/:@!$&'()*+,;=-._~")


def _location(d: Diagnostic) -> list[dict[str, Any]]:
    src = d.source
    loc = file_location(src)
    if loc is not None:
        region: dict[str, Any] = {}
        if loc.line is not None:
            region["startLine"] = loc.line
            if loc.column is not None:
                region["startColumn"] = loc.column
            if loc.snippet:
                region["snippet"] = {"text": loc.snippet}
        elif loc.offset is not None:
            region["byteOffset"] = loc.offset
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(loc.file)}}
        if region:
            physical["region"] = region
        return [{"physicalLocation": physical}]
    if src is not None and src.kind == "cmdline":
        name = src.text or ""
        where = f"{src.span[0]}..{src.span[1]}" if src.span else ""
        qualified = f"{src.file or 'cmdline'}:{where}"
        logical = {"name": name, "fullyQualifiedName": qualified, "kind": "parameter"}
        return [{"logicalLocations": [logical]}]
    return []


def _message(d: Diagnostic) -> str:
    if d.source is not None and file_location(d.source) is None:
        return f"{d.message} ({d.source})"
    return d.message


def sarif_log(diagnostics: Iterable[Diagnostic], version: str | None = None) -> dict[str, Any]:
    """The SARIF log (a JSON-ready dictionary) for ``diagnostics``."""
    if version is None:
        from memplan import __version__ as version
    diags = list(diagnostics)
    codes = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in diags:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVELS[d.severity],
            "message": {"text": _message(d)},
        }
        locations = _location(d)
        if locations:
            result["locations"] = locations
        if d.subject:
            result["properties"] = {"subject": d.subject}
        results.append(result)
    driver = {
        "name": "memplan",
        "version": version,
        "rules": [{"id": code, "name": code} for code in codes],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "results": results, "columnKind": "unicodeCodePoints"}],
    }


def render_sarif(diagnostics: Iterable[Diagnostic], version: str | None = None) -> str:
    """:func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(diagnostics, version), indent=2) + "\n"
