"""The x86 E820 map: ``memmap=`` edits and sanitising (arch/x86/kernel/e820.c, kernel-semantics §7.1)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

E820_RAM = 1
E820_RESERVED = 2
E820_ACPI = 3
E820_NVS = 4
E820_UNUSABLE = 5
E820_PMEM = 7
E820_PRAM = 12

#: Names as /proc/iomem and the boot log print them (user-defined map lines).
TYPE_LOG_NAMES = {E820_RAM: "usable", E820_RESERVED: "reserved", E820_ACPI: "ACPI data",
                  E820_NVS: "ACPI NVS", E820_UNUSABLE: "unusable"}
TYPE_IOMEM_NAMES = {E820_RAM: "System RAM", E820_RESERVED: "Reserved", E820_ACPI: "ACPI Tables",
                    E820_NVS: "ACPI Non-volatile Storage", E820_UNUSABLE: "Unusable memory",
                    E820_PRAM: "Persistent Memory (legacy)", E820_PMEM: "Persistent Memory"}


def log_type_name(kind: int) -> str:
    """The type word of a ``user: [mem ...]`` line."""
    if kind in (E820_PRAM, E820_PMEM):
        return f"persistent (type {kind})"
    return TYPE_LOG_NAMES.get(kind, f"type {kind}")


@attrs.frozen
class E820Entry:
    """One E820 range ``[base, base + size)`` of type ``kind``."""

    base: int
    size: int
    kind: int

    @property
    def end(self) -> int:
        """Exclusive end."""
        return self.base + self.size


MemmapKind = Literal["exactmap", "add", "cap", "convert"]


@attrs.frozen
class MemmapOp:
    """One ``memmap=`` element: ``exactmap``; ``add`` ``[base, base+size)`` as ``kind``
    (``@`` RAM, ``#`` ACPI, ``$`` reserved, ``!`` PRAM); ``cap`` (bare ``nn``: remove RAM at and
    above ``base``); ``convert`` (``nn%ss-old+new``)."""

    op: MemmapKind
    base: int = 0
    size: int = 0
    kind: int = E820_RAM
    old_kind: int | None = None
    new_kind: int | None = None


def _cut(entries: Iterable[E820Entry], start: int, end: int,
         keep: bool = False) -> tuple[list[E820Entry], list[E820Entry]]:
    """Split ``entries`` around ``[start, end)``: (outside parts, inside parts)."""
    outside: list[E820Entry] = []
    inside: list[E820Entry] = []
    for e in entries:
        if e.end <= start or e.base >= end:
            outside.append(e)
            continue
        if e.base < start:
            outside.append(E820Entry(e.base, start - e.base, e.kind))
        if e.end > end:
            outside.append(E820Entry(end, e.end - end, e.kind))
        lo, hi = max(e.base, start), min(e.end, end)
        inside.append(E820Entry(lo, hi - lo, e.kind))
    return outside, inside


def apply_memmap(table: Sequence[E820Entry], ops: Sequence[MemmapOp]) -> list[E820Entry]:
    """Apply ``memmap=`` elements in command-line order (``parse_memmap_one()``), then sanitise."""
    cur = list(table)
    for op in ops:
        if op.op == "exactmap":
            cur = []
        elif op.op == "add":
            cur.append(E820Entry(op.base, op.size, op.kind))
        elif op.op == "cap":
            outside, inside = _cut(cur, op.base, 1 << 64)
            cur = outside + [e for e in inside if e.kind != E820_RAM]
        else:
            outside, inside = _cut(cur, op.base, op.base + op.size)
            if op.old_kind is not None and op.new_kind is not None:
                new = op.new_kind
                inside = [E820Entry(e.base, e.size, new) if e.kind == op.old_kind else e for e in inside]
            elif op.new_kind is not None:
                inside = [*inside, E820Entry(op.base, op.size, op.new_kind)]
            elif op.old_kind is not None:
                inside = [e for e in inside if e.kind != op.old_kind]
            else:
                inside = []
            cur = outside + inside
    return sanitize(cur)


def sanitize(entries: Sequence[E820Entry]) -> list[E820Entry]:
    """``e820__update_table()``: overlaps resolve to the numerically highest type; adjacent
    entries of the same type merge; the result is sorted."""
    points = sorted({p for e in entries if e.size > 0 for p in (e.base, e.end)})
    out: list[E820Entry] = []
    for lo, hi in itertools.pairwise(points):
        kinds = [e.kind for e in entries if e.size > 0 and e.base <= lo and e.end >= hi]
        if not kinds:
            continue
        kind = max(kinds)
        if out and out[-1].end == lo and out[-1].kind == kind:
            last = out.pop()
            out.append(E820Entry(last.base, hi - last.base, kind))
        else:
            out.append(E820Entry(lo, hi - lo, kind))
    return out


def ram_of(table: Sequence[E820Entry]) -> list[tuple[int, int]]:
    """The usable RAM ranges (type 1) as (base, size)."""
    return [(e.base, e.size) for e in table if e.kind == E820_RAM]
