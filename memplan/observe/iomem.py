"""``/proc/iomem`` parser (format of kernel/resource.c).

Each line is ``<indent><start>-<end> : <name>``: two spaces of indent per nesting level,
lowercase hex zero-padded to at least 8 digits, ``end`` inclusive. A reader without
``CAP_SYS_ADMIN`` sees every address as zero; such a file is flagged ``hidden``.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from memplan.model import Diagnostic
from memplan.observe._common import diag, malformed, observed_int, observed_source, read_text
from memplan.observe.model import Iomem, IomemEntry
from memplan.source import Source

_LINE_RE = re.compile(
    r"^(?P<indent> *)(?P<start>[0-9a-fA-F]{4,})-(?P<end>[0-9a-fA-F]{4,}) :(?: (?P<name>.*))?$"
)


#: Deepest nesting the kernel prints: r_show() in kernel/resource.c indents a resource by two
#: spaces per level, counting at most this many levels (deeper resources print at this depth).
MAX_IORES_LEVEL = 5


@attrs.define
class _Builder:
    start: int
    end: int
    name: str
    depth: int
    source: Source
    children: list[_Builder] = attrs.field(factory=list)
    frozen: IomemEntry | None = None


def _freeze(created: list[_Builder]) -> None:
    """Freeze every builder, children first (``created`` is in file order, so a child always
    comes after its parent and a reverse pass needs no recursion)."""
    for b in reversed(created):
        kids = tuple(c.frozen for c in b.children if c.frozen is not None)
        b.frozen = IomemEntry(b.start, b.end, b.name, b.depth, b.source, kids)


def parse_iomem(text: str, file: str | None = None) -> Iomem:
    """Parse the text of ``/proc/iomem`` into a tree of :class:`IomemEntry`.

    Lines that do not have the ``start-end : name`` shape, whose indent is odd, skips a level
    or goes deeper than the :data:`MAX_IORES_LEVEL` levels the kernel prints, or whose start
    lies after the end, are reported as ``observe-malformed-line`` diagnostics and left out
    (their children are attached to the nearest valid parent). The parser is a single pass
    with an explicit stack, so time and memory are linear in the text.
    """
    roots: list[_Builder] = []
    created: list[_Builder] = []
    stack: list[_Builder] = []
    diagnostics: list[Diagnostic] = []
    nonzero = False
    count = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        m = _LINE_RE.match(line)
        if m is None:
            diagnostics.append(malformed(file, lineno, raw, "/proc/iomem"))
            continue
        indent = len(m.group("indent"))
        if indent % 2 or len(m.group("start")) < 8 or len(m.group("end")) < 8:
            diagnostics.append(malformed(file, lineno, raw, "/proc/iomem (indent or address width)"))
            continue
        if indent // 2 > MAX_IORES_LEVEL:
            diagnostics.append(
                malformed(file, lineno, raw, f"/proc/iomem (nested deeper than the {MAX_IORES_LEVEL} levels "
                          "the kernel prints)")
            )
            continue
        where = observed_source(file, lineno, raw)
        start = observed_int(m.group("start"), where, "/proc/iomem start", diagnostics, base=16)
        end = observed_int(m.group("end"), where, "/proc/iomem end", diagnostics, base=16)
        if start is None or end is None:
            continue
        if start > end:
            diagnostics.append(malformed(file, lineno, raw, "/proc/iomem (start after end)"))
            continue
        depth = indent // 2
        if depth > len(stack):
            diagnostics.append(malformed(file, lineno, raw, "/proc/iomem (nesting skips a level)"))
            continue
        del stack[depth:]
        node = _Builder(start, end, m.group("name") or "", depth, where)
        (stack[-1].children if stack else roots).append(node)
        created.append(node)
        stack.append(node)
        count += 1
        nonzero = nonzero or start != 0 or end != 0
    hidden = count > 0 and not nonzero
    if hidden:
        diagnostics.append(
            diag(
                "warning",
                "observe-iomem-hidden",
                "every /proc/iomem address is zero: the file was read without root privileges, "
                "so its addresses are ignored",
                observed_source(file),
            )
        )
    _freeze(created)
    return Iomem(tuple(r.frozen for r in roots if r.frozen is not None), hidden, file, tuple(diagnostics))


def read_iomem(path: str | Path) -> Iomem:
    """Read and parse an iomem file (``/proc/iomem`` or a saved copy)."""
    return parse_iomem(read_text(path), str(path))
