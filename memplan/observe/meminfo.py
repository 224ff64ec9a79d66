"""``/proc/meminfo`` parser (fs/proc/meminfo.c).

Lines are ``Name:`` padded to 16 columns, a right-aligned decimal value and an optional
`` kB`` unit (KiB). ``CmaTotal``/``CmaFree`` exist only with ``CONFIG_CMA``.
"""

from __future__ import annotations

import re
from pathlib import Path

from memplan.model import Diagnostic
from memplan.observe._common import malformed, observed_int, observed_source, read_text
from memplan.observe.model import Meminfo, MeminfoField

_LINE_RE = re.compile(r"^(?P<name>[A-Za-z0-9_()]+):\s+(?P<value>[0-9]+)(?:\s+(?P<unit>kB))?\s*$", re.ASCII)


def parse_meminfo(text: str, file: str | None = None) -> Meminfo:
    """Parse ``/proc/meminfo`` text; a line not of the form ``Name: value [kB]`` is reported."""
    fields: list[MeminfoField] = []
    diagnostics: list[Diagnostic] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        m = _LINE_RE.match(raw)
        if m is None:
            diagnostics.append(malformed(file, lineno, raw, "/proc/meminfo"))
            continue
        where = observed_source(file, lineno, raw)
        value = observed_int(m.group("value"), where, f"/proc/meminfo {m.group('name')}", diagnostics)
        if value is not None:
            fields.append(MeminfoField(m.group("name"), value, m.group("unit") or "", where))
    return Meminfo(tuple(fields), file, tuple(diagnostics))


def read_meminfo(path: str | Path) -> Meminfo:
    """Read and parse a meminfo file."""
    return parse_meminfo(read_text(path), str(path))
