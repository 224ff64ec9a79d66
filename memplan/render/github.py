"""Diagnostics as GitHub Actions workflow commands (``--format github``).

Each diagnostic becomes one ``::error``, ``::warning`` or ``::notice`` line; when it comes from a
file, the annotation carries ``file``, ``line`` and ``col``, so the pull request shows it on the
line of the ``.dts`` or ``.config``. The title is the diagnostic code. Values are escaped as the
workflow-command syntax requires (``%``, CR, LF; and ``:``/``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Iterable

from memplan.model import Diagnostic
from memplan.render.locations import file_location

__all__ = ["render_github"]

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    """One workflow command for ``d``."""
    props: list[tuple[str, str]] = []
    loc = file_location(d.source)
    message = d.message
    if loc is not None:
        props.append(("file", loc.file))
        if loc.line is not None:
            props.append(("line", str(loc.line)))
            if loc.column is not None:
                props.append(("col", str(loc.column)))
    elif d.source is not None:
        message = f"{message} ({d.source})"
    props.append(("title", f"memplan {d.code}"))
    head = ",".join(f"{k}={_escape_property(v)}" for k, v in props)
    return f"::{_COMMANDS[d.severity]} {head}::{_escape_data(message)}"


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    """One annotation line per diagnostic (empty when there is none)."""
    return "".join(annotation(d) + "\n" for d in diagnostics)
