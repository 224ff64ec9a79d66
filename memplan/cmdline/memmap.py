"""``memmap=`` (kernel-semantics.md §7): x86 arch/x86/kernel/e820.c, plus the MIPS and Xtensa subsets.

x86 splits the value at commas and handles each element in order; every element that parses a
size changes the E820 table, even when trailing characters follow (the kernel's error return
is ignored), except the ``%`` form, which is dropped when anything trails it. MIPS handles the
whole value as one element (``@`` and ``$`` only); Xtensa splits at commas and knows ``@``,
``$`` and a bare size.

GRUB escapes: a ``$`` in a GRUB ``linux`` line must be written ``\\$`` (and ``\\\\\\$`` when
the line is produced by grub-mkconfig from /etc/default/grub). Command lines copied from those
files therefore contain the escapes; memplan reads ``\\$`` and ``\\\\\\$`` as ``$`` and says so
(a kernel that really received the backslash would read a bare size: an address cap).
"""

from __future__ import annotations

from typing import Literal

import attrs

from memplan.cmdline.common import Sink, show
from memplan.cmdline.tokenize import Token
from memplan.source import Source
from memplan.units import format_size

MemmapKind = Literal["exactmap", "ram", "acpi", "reserved", "pram", "convert", "cap"]

#: E820 type numbers (arch/x86/include/asm/e820/types.h).
E820_RAM = 1
E820_RESERVED = 2
E820_ACPI = 3
E820_PRAM = 12

_SEPARATORS: dict[str, tuple[MemmapKind, int]] = {
    "@": ("ram", E820_RAM),
    "#": ("acpi", E820_ACPI),
    "$": ("reserved", E820_RESERVED),
    "!": ("pram", E820_PRAM),
}

_ESCAPES = ("\\\\\\$", "\\$")


@attrs.frozen
class MemmapEntry:
    """One accepted ``memmap=`` element.

    ``kind``: ``exactmap`` (empty the table), ``ram``/``acpi``/``reserved``/``pram``
    (``nn@ss`` / ``nn#ss`` / ``nn$ss`` / ``nn!ss``: add ``[start, start+size)`` with
    ``e820_type``), ``convert`` (``nn%ss-old+new``: ``old_type``/``new_type``, either may be
    ``None``: retype, add as ``new``, remove ``old`` ranges, or remove everything), ``cap``
    (bare ``nn``: on x86 remove RAM at and above ``size``, which is then an address; on
    Xtensa reserve everything from there up). ``text`` is the element as written, ``span`` its
    position in the command line.
    """

    kind: MemmapKind
    source: Source
    text: str
    span: tuple[int, int]
    size: int = 0
    start: int | None = None
    e820_type: int | None = None
    old_type: int | None = None
    new_type: int | None = None

    @property
    def end(self) -> int | None:
        """Exclusive end of the range, when the element has one."""
        return None if self.start is None else self.start + self.size


def _unescape(token: Token, element: str, offset: int, sink: Sink) -> str:
    """Replace GRUB ``\\$`` escapes by ``$`` (each one noted)."""
    out: list[str] = []
    i = 0
    while i < len(element):
        for esc in _ESCAPES:
            if element.startswith(esc, i):
                sink.add(
                    "info",
                    "cmdline-memmap-escape",
                    f"{token.shown}: read {esc!r} at offset {token.at(offset + i)} as '$' (GRUB escape); "
                    "the kernel never sees the backslash once GRUB has processed the line",
                    token,
                )
                out.append("$")
                i += len(esc)
                break
        else:
            out.append(element[i])
            i += 1
    return "".join(out)


def parse_memmap(token: Token, arch: str | None, sink: Sink) -> list[MemmapEntry]:
    """Parse one ``memmap=`` token into the elements the kernel accepts (in order).

    ``arch`` selects the dialect: ``"x86"`` (or ``None``, unknown: x86 rules), ``"mips"``,
    ``"xtensa"``. Rejected elements produce ``cmdline-memmap-invalid`` diagnostics.
    """
    value = token.value
    if value is None:
        sink.add(
            "warning", "cmdline-memmap-invalid", f"{token.shown} has no value; the kernel ignores it", token
        )
        return []
    if arch == "mips":
        pieces = [(value, 0)]
    else:
        pieces = []
        offset = 0
        for piece in value.split(","):
            pieces.append((piece, offset))
            offset += len(piece) + 1
    entries: list[MemmapEntry] = []
    for piece, offset in pieces:
        entry = _parse_element(token, piece, offset, arch, sink)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_element(token: Token, raw: str, offset: int, arch: str | None, sink: Sink) -> MemmapEntry | None:
    text = _unescape(token, raw, offset, sink)
    lo = token.at(offset)
    span = (lo, lo + len(raw))
    label = f"{token.shown}: element {raw!r} (at {lo})"

    def invalid(why: str) -> None:
        sink.add(
            "warning", "cmdline-memmap-invalid", f"{label}: {why}; the kernel ignores this element", token
        )

    def entry(
        kind: MemmapKind,
        size: int = 0,
        start: int | None = None,
        e820_type: int | None = None,
        old_type: int | None = None,
        new_type: int | None = None,
    ) -> MemmapEntry:
        return MemmapEntry(kind, token.source, raw, span, size, start, e820_type, old_type, new_type)

    def trailing(at: int) -> None:
        sink.add(
            "warning",
            "cmdline-memmap-trailing",
            f"{label}: unexpected {show(text, at)} after the element; the kernel still applies it",
            token,
        )

    # the value grammars are imported on the first value parsed (start-up)
    from memplan.cmdline.grammar import parse_memmap_element

    syntax = parse_memmap_element(text)  # positions are in the unescaped element
    if syntax.exactmap:
        if arch == "mips":
            invalid("'memmap=exactmap' is not supported on MIPS")
            return None
        if arch == "xtensa":
            invalid("Xtensa has no 'exactmap'")
            return None
        return entry("exactmap")
    assert syntax.size is not None
    if syntax.size.empty:
        invalid("no size")
        return None
    size, i = syntax.size.value(token.source), syntax.size.end
    sep = syntax.sep or text[i : i + 1]
    if sep in _SEPARATORS and not (arch == "mips" and sep in "#!") and not (arch == "xtensa" and sep in "#!"):
        kind, e820_type = _SEPARATORS[sep]
        assert syntax.start is not None
        start, j = syntax.start.value(token.source), syntax.start.end
        if syntax.start.empty:
            sink.add(
                "warning",
                "cmdline-memmap-no-address",
                f"{label}: no address after {sep!r}; the kernel uses address 0",
                token,
            )
        result = entry(kind, size=size, start=start, e820_type=e820_type)
        if j < len(text) and arch != "xtensa":
            trailing(j)
        return result
    if sep == "%" and arch not in ("mips", "xtensa"):
        assert syntax.start is not None
        start, j = syntax.start.value(token.source), syntax.end
        old = syntax.old.value(token.source) if syntax.old is not None else None
        new = syntax.new.value(token.source) if syntax.new is not None else None
        if j < len(text):
            invalid(f"unexpected {show(text, j)} in the '%' form")
            return None
        return entry("convert", size=size, start=start, old_type=old or None, new_type=new or None)
    if sep and sep in "#!%" and arch in ("mips", "xtensa"):
        invalid(f"the {sep!r} form does not exist on {arch}")
        return None
    if arch == "mips":
        invalid("MIPS knows only 'nn@ss' and 'nn$ss'")
        return None
    if arch == "xtensa" and sep:
        invalid("unrecognized memmap syntax (Xtensa knows 'nn@ss', 'nn$ss' and 'nn')")
        return None
    result = entry("cap", size=size)
    if arch == "xtensa":
        return result
    hint = (
        f"{label} is an address cap: all RAM at and above {format_size(size)} (0x{size:x}) is removed. "
        "If a reservation 'nn$ss' was meant, the '$' and the address were probably eaten by GRUB "
        "(write '\\$' in grub.cfg)"
    )
    sink.add("warning", "cmdline-memmap-eaten-dollar", hint, token)
    if i < len(text):
        trailing(i)
    return result
