"""Where a diagnostic points, for CI formats (SARIF, GitHub annotations): a file and a line.

:func:`file_location` maps a :class:`~memplan.source.Source` to the file, line and column a
code-scanning tool can show; sources without a file position (a kernel default, a command line
given as an option, an observed kernel file) have none.
"""

from __future__ import annotations

from typing import NamedTuple

from memplan.source import Source

__all__ = ["FileLocation", "file_location"]


class FileLocation(NamedTuple):
    """A position in a file: ``line``/``column`` are 1-based; ``offset`` a byte offset (a DTB)."""

    file: str
    line: int | None = None
    column: int | None = None
    offset: int | None = None
    snippet: str | None = None


def file_location(source: Source | None) -> FileLocation | None:
    """The file position of ``source``, or ``None`` when it names no file of the user's."""
    if source is None or source.file is None:
        return None
    if source.kind in ("file", "config"):
        return FileLocation(source.file, source.line, source.column, source.offset, source.text)
    if source.kind == "dtb":
        return FileLocation(source.file, offset=source.offset)
    return None
