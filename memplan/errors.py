"""The error hierarchy. Everything memplan raises on bad input derives from :class:`MemplanError`."""

from __future__ import annotations

from memplan.source import Source


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


def render_caret(src: Source) -> str:
    """The source line (or command line) with a caret under the offending column/span."""
    if src.kind == "cmdline" and src.text is not None:
        return ""
    if src.text is None or src.column is None:
        return ""
    line = src.text.rstrip("\n").expandtabs(1)
    col = max(src.column - 1, 0)
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
