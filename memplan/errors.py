"""The error hierarchy. Everything memplan raises on bad input derives from :class:`MemplanError`."""

from __future__ import annotations

from memplan.source import SHOWN_TEXT_LIMIT as SHOWN_TEXT_LIMIT  # re-exported with shorten
from memplan.source import Source
from memplan.source import shorten as shorten


class MemplanError(Exception):
    """Base class of every error memplan raises for bad or unusable input.

    ``source`` (when known) says where: file:line:column, a command-line token or a
    config line. ``str(err)`` gives the position, the message and, for text
    positions with a known line, the source line with a caret under the column.
    """

    def __init__(self, message: str, source: Source | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        src = self.source
        if src is None:
            return self.message
        head = f"{src}: {self.message}"
        caret = render_caret(src)
        return f"{head}\n{caret}" if caret else head


#: Widest source line shown above a caret; a longer line is shown as a window around the column.
CARET_LINE_LIMIT = 120


def render_caret(src: Source) -> str:
    """The source line (or command line) with a caret under the offending column/span.

    A line wider than :data:`CARET_LINE_LIMIT` is shown as a window around the column, with
    ``...`` marking the cut ends, so a multi-megabyte line never makes a multi-megabyte message.
    """
    if src.kind == "cmdline" and src.text is not None:
        return ""
    line_text = src.text
    if line_text is None or src.column is None:
        return ""
    line = line_text.rstrip("\n")
    col = max(src.column - 1, 0)
    if len(line) > CARET_LINE_LIMIT:
        half = CARET_LINE_LIMIT // 2
        lo = max(0, min(col - half, len(line) - CARET_LINE_LIMIT))
        hi = lo + CARET_LINE_LIMIT
        prefix = "..." if lo > 0 else ""
        suffix = "..." if hi < len(line) else ""
        line = prefix + line[lo:hi] + suffix
        col = col - lo + len(prefix)
    line = line.expandtabs(1)
    return f"    {line}\n    {' ' * col}^"


class DtsError(MemplanError):
    """A problem in Device Tree source or a compiled blob."""


class DtsSyntaxError(DtsError):
    """DTS text that the grammar does not accept."""


class IncludeError(DtsError):
    """A missing include, an include cycle, or an include outside the include roots."""


class LabelError(DtsError):
    """An unknown or duplicate label / reference."""


class DtbError(DtsError):
    """A malformed flattened device tree blob."""


class OverlayError(DtsError):
    """A Device Tree overlay that cannot be applied (what libfdt's ``fdt_overlay_apply`` refuses)."""


class PreprocessError(DtsError):
    """The C preprocessor failed."""


class CmdlineError(MemplanError):
    """A malformed kernel command-line parameter."""


class ConfigError(MemplanError):
    """A malformed or unusable kernel ``.config``."""


class ResolveError(MemplanError):
    """Inputs that cannot be resolved into a layout at all."""


class ObserveError(MemplanError):
    """Malformed observed kernel state (/proc/iomem, dmesg, debugfs ...)."""


class UsageError(MemplanError):
    """A command-line argument that cannot be used: a missing file or folder, a file of the wrong kind."""
