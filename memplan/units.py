"""Sizes and addresses: the kernel's ``memparse`` number syntax, human formatting, alignment.

``memparse`` follows the rules of the kernel's lib/cmdline.c (unchanged from 4.19 to 6.19):

* the number is read like ``simple_strtoull(.., 0)``: ``0x``/``0X`` followed by a hex digit
  selects hex, any other leading ``0`` selects octal, anything else is decimal; no sign, no
  leading blanks; when no digit can be read the value is 0 and nothing is consumed;
* then at most one suffix letter, either case: ``K`` = 2^10, ``M`` = 2^20, ``G`` = 2^30,
  ``T`` = 2^40, ``P`` = 2^50, ``E`` = 2^60. The kernel looks at the suffix even when no digit
  was read, so ``"K"`` alone reads as 0 and consumes the letter;
* everything after that is left to the caller (``64MB`` reads as 64 MiB, ending before ``B``).

The kernel silently wraps on 64-bit overflow; memplan refuses such a number with a
:class:`~memplan.errors.CmdlineError` instead (an input nobody means).
"""

from __future__ import annotations

import re

from memplan.errors import CmdlineError
from memplan.source import Source, shorten

#: Largest value the kernel's ``unsigned long long`` can hold.
U64_MAX = (1 << 64) - 1

#: Suffix letter (lower case) -> shift.
SUFFIX_SHIFT: dict[str, int] = {"k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}

#: Binary size units and the 4 GiB boundary, shared by every module that needs them.
KiB: int = 1 << 10
MiB: int = 1 << 20
GiB: int = 1 << 30
SZ_4G: int = 4 * GiB


#: The number ``simple_strtoull(.., 0)`` reads: ``0x`` and at least one hex digit, else a leading
#: ``0`` and octal digits, else decimal digits (possibly none: then nothing is read).
NUMBER_PATTERN = r"(?P<hex>0[xX][0-9a-fA-F]+)|(?P<oct>0[0-7]*)|(?P<dec>[1-9][0-9]*)"

#: ``memparse``'s syntax: an optional number, then an optional suffix letter (either case). It
#: may match nothing (the value is then 0). :func:`memparse` and the command-line grammars
#: (:mod:`memplan.cmdline.grammar`) both read sizes with it.
MEMPARSE_PATTERN = rf"(?:{NUMBER_PATTERN})?(?P<suffix>[kKmMgGtTpPeE])?"

_NUMBER = re.compile(NUMBER_PATTERN)
_MEMPARSE = re.compile(MEMPARSE_PATTERN)


def number_value(match: re.Match[str], *, source: Source | None = None) -> int:
    """The value of a :data:`NUMBER_PATTERN` match (0 when it read no digit); above 2^64-1 raises
    :class:`CmdlineError` (with ``source``): the kernel would silently wrap it."""
    if match["hex"]:
        digits, base = match["hex"][2:], 16
    elif match["oct"]:
        digits, base = match["oct"], 8
    elif match["dec"]:
        digits, base = match["dec"], 10
    else:
        return 0
    # a decimal number of more than 20 digits cannot fit (and int() refuses very long ones)
    value = U64_MAX + 1 if base == 10 and len(digits) > 20 else int(digits, base)
    if value > U64_MAX:
        text = match.string[match.start() : match.end()]
        shown = text if len(text) <= 40 else f"{text[:20]}...{text[-8:]}"
        raise CmdlineError(
            f"number {shown!r} does not fit in 64 bits (the kernel would silently wrap it)", source
        )
    return value


def size_value(match: re.Match[str], *, source: Source | None = None) -> int:
    """The value of a :data:`MEMPARSE_PATTERN` match: the number shifted by its suffix; above
    2^64-1 raises :class:`CmdlineError` (with ``source``)."""
    value = number_value(match, source=source)
    suffix = match["suffix"]
    if not suffix:
        return value
    scaled = value << SUFFIX_SHIFT[suffix.lower()]
    if scaled > U64_MAX:
        text = match.string[match.start() : match.end()]
        raise CmdlineError(
            f"size {shorten(text)!r} does not fit in 64 bits (the kernel would silently wrap it)", source
        )
    return scaled


def strtoull(text: str, pos: int = 0, *, source: Source | None = None) -> tuple[int, int]:
    """Read an unsigned integer with base auto-detection (``simple_strtoull(.., 0)``).

    Returns ``(value, end)``; ``end == pos`` when no digit was read (value 0). A value that
    does not fit in 64 bits raises :class:`CmdlineError` (carrying ``source`` when given).
    """
    match = _NUMBER.match(text, pos)
    if match is None:
        return 0, pos
    return number_value(match, source=source), match.end()


def memparse(text: str, pos: int = 0, *, source: Source | None = None) -> tuple[int, int]:
    """Parse a kernel size/address at ``text[pos:]``: a number and one optional K/M/G/T/P/E suffix.

    Returns ``(value, end)`` where ``end`` is the index after the number and suffix. With no
    digit and no suffix letter the result is ``(0, pos)``. A result above 2^64-1 raises
    :class:`CmdlineError` (with ``source`` when given); the kernel would wrap silently.
    """
    if pos < 0 or pos > len(text):
        raise ValueError(f"position {pos} outside the text (length {len(text)})")
    match = _MEMPARSE.match(text, pos)
    assert match is not None  # every part of the pattern is optional
    return size_value(match, source=source), match.end()


def parse_size(text: str, *, source: Source | None = None) -> int:
    """Parse a whole string as one memparse size (``"64M"``, ``"0x4000000"``, ``"1g"``).

    Surrounding blanks are ignored; anything else left over, or no digits at all, raises
    :class:`CmdlineError`.
    """
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    value, end = memparse(stripped, 0, source=source)
    _, digits_end = strtoull(stripped, 0, source=source)
    if digits_end == 0:
        raise CmdlineError(f"not a size: {text!r} (expected e.g. 64M, 0x4000000, 1G)", source)
    if end != len(stripped):
        raise CmdlineError(
            f"not a size: {text!r}: unexpected {stripped[end:]!r} at offset {lead + end}", source
        )
    return value


_UNITS: tuple[tuple[str, int], ...] = (
    ("EiB", 60),
    ("PiB", 50),
    ("TiB", 40),
    ("GiB", 30),
    ("MiB", 20),
    ("KiB", 10),
)


def format_size(n: int, max_decimals: int = 2) -> str:
    """A human size that is exact: ``"64 MiB"``, ``"1.5 GiB"``, ``"512 KiB"``, ``"4 KiB"``, ``"100 B"``.

    The largest binary unit is used whose value can be written exactly with at most
    ``max_decimals`` decimals; otherwise the next smaller unit is tried, down to bytes.
    """
    if n < 0:
        return "-" + format_size(-n, max_decimals)
    for unit, shift in _UNITS:
        size = 1 << shift
        if n < size:
            continue
        whole, rest = divmod(n, size)
        if rest == 0:
            return f"{whole} {unit}"
        for decimals in range(1, max_decimals + 1):
            scaled = rest * 10**decimals
            if scaled % size == 0:
                frac = str(scaled // size).rjust(decimals, "0").rstrip("0")
                return f"{whole}.{frac} {unit}"
    return f"{n} B"


def approx_size(n: int) -> str:
    """A short human size: :func:`format_size` when that reads well (at most four digits before
    the unit), otherwise ``~`` and three significant digits (``~4.94 GiB`` for 5176831 KiB)."""
    exact = format_size(n)
    if len(exact.split(" ")[0]) <= 4 or n < 0:
        return exact
    for unit, shift in _UNITS:
        if n >= 1 << shift:
            value = n / (1 << shift)
            text = f"{value:.0f}" if value >= 100 else f"{value:.3g}"
            return f"~{text} {unit}"
    return exact


def optional_size(n: int | None, missing: str = "?", *, approx: bool = False) -> str:
    """:func:`format_size` (or :func:`approx_size`) of ``n``; ``missing`` when it is ``None``."""
    if n is None:
        return missing
    return approx_size(n) if approx else format_size(n)


def format_range(base: int, size: int, digits: int = 0) -> str:
    """An address range in memplan's one notation: first and last address, inclusive, in hex
    (``0x40000000-0x4fffffff``), as ``/proc/iomem`` and the kernel's ``[mem ...]`` print them.
    ``digits`` zero-pads both addresses (for aligned columns); an empty range is its base alone."""
    if size <= 0:
        return f"0x{base:0{digits}x} (empty)"
    return f"0x{base:0{digits}x}-0x{base + size - 1:0{digits}x}"


def align_up(x: int, a: int) -> int:
    """Round ``x`` up to a multiple of ``a`` (``a`` > 0; need not be a power of two)."""
    if a <= 0:
        raise ValueError(f"alignment must be positive, got {a}")
    return -(-x // a) * a


def align_down(x: int, a: int) -> int:
    """Round ``x`` down to a multiple of ``a`` (``a`` > 0; need not be a power of two)."""
    if a <= 0:
        raise ValueError(f"alignment must be positive, got {a}")
    return (x // a) * a


def is_aligned(x: int, a: int) -> bool:
    """True when ``x`` is a multiple of ``a`` (``a`` > 0)."""
    if a <= 0:
        raise ValueError(f"alignment must be positive, got {a}")
    return x % a == 0


__all__ = [
    "SUFFIX_SHIFT",
    "U64_MAX",
    "align_down",
    "align_up",
    "approx_size",
    "format_range",
    "format_size",
    "is_aligned",
    "memparse",
    "optional_size",
    "parse_size",
    "strtoull",
]
