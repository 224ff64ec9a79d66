"""Bounds on preprocessing and source reads, each raisable through an environment variable.

A real board preprocesses in well under a second, to a few hundred kB, with cc1 using under
100 MB; its largest source or ``/incbin/`` file is a few MB. The defaults are far above that
and far below what a hostile input (a macro bomb, ``#include "/dev/zero"``, a FIFO) would take.
"""

from __future__ import annotations

import os

#: (environment variable, default, unit) of each limit.
CPP_TIMEOUT = ("MEMPLAN_CPP_TIMEOUT", 60, "seconds")
CPP_MEMORY = ("MEMPLAN_CPP_MEMORY", 1 << 30, "bytes")
CPP_OUTPUT = ("MEMPLAN_CPP_OUTPUT", 256 << 20, "bytes")
MAX_SOURCE = ("MEMPLAN_MAX_SOURCE_BYTES", 256 << 20, "bytes")
#: Largest token count one macro expansion may produce in the pcpp back end.
PCPP_EXPANSION = ("MEMPLAN_PCPP_EXPANSION", 100_000, "tokens")
#: Deepest macro-inside-macro nesting the pcpp back end follows. Checked explicitly so the
#: answer never depends on Python's recursion limit or the caller's stack depth (real boards
#: nest a few levels; GNU cpp, the default back end, has no such limit).
PCPP_NESTING = ("MEMPLAN_PCPP_NESTING", 200, "levels")
#: Most entries (files, folders, links) memplan lists in the include roots, looking for FIFOs the
#: confined cpp must not open (the whole Linux 6.12 tree holds about 92,000).
ROOT_ENTRIES = ("MEMPLAN_ROOT_ENTRIES", 1_000_000, "entries")


def value(limit: tuple[str, int, str]) -> int:
    """The limit's value: its environment variable when set (a positive integer), else the default."""
    env, default, _unit = limit
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    # here, not at the top: the C preprocessor is started before the rest of memplan is imported
    from memplan.errors import PreprocessError
    from memplan.numbers import parse_int
    from memplan.source import Source

    return parse_int(raw, error=PreprocessError, what=env, min_value=1,
                     source=Source("builtin", text=f"${env}"))


def exceeded(what: str, limit: tuple[str, int, str]) -> str:
    """The message for a run stopped at ``limit``: names the limit and how to raise it."""
    env, _default, unit = limit
    return f"{what} (limit {value(limit)} {unit}); set {env} to a larger number of {unit} to allow more"


def max_source_bytes() -> int:
    """Largest DTS/DTSI/``/incbin/`` file memplan reads itself."""
    return value(MAX_SOURCE)


def too_big_message(what: str, limit: int) -> str:
    """The message for a file over :func:`max_source_bytes`."""
    return f"{what} is larger than {limit} bytes; set {MAX_SOURCE[0]} to a larger number of bytes to read it"
