"""Integers read from text, bounded: one helper every front end and parser uses.

Python's ``int()`` accepts things no kernel file holds (``1_000``, blanks, non-ASCII digits)
and refuses decimal strings longer than ~4,300 digits with a bare :class:`ValueError`.
:func:`parse_int` accepts only plain ASCII digits (an optional ``0x``/``0X`` prefix in base 16
or auto-detected base; an optional single sign when asked), refuses a number with more
significant digits than ``max_digits`` before converting it (so the cost is linear in the
text), and raises the caller's :class:`~memplan.errors.MemplanError` subclass carrying the
caller's :class:`~memplan.source.Source` for every refusal.
"""

from __future__ import annotations

from typing import Literal

from memplan.errors import MemplanError, shorten
from memplan.source import Source

#: Default limit on significant digits: 40 covers every 128-bit value in any base.
DEFAULT_MAX_DIGITS = 40

_DIGITS: dict[int, frozenset[str]] = {
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}

Base = Literal[0, 8, 10, 16]

#: The largest unsigned 64-bit value (the kernel's ``u64``/``unsigned long long``).
U64_MAX = (1 << 64) - 1


def _split(text: str, base: Base, signed: bool) -> tuple[int, int, str]:
    """(sign, resolved base, digit string) of ``text``; the digits are not validated yet."""
    sign = 1
    body = text
    if signed and body[:1] in ("-", "+"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if base in (0, 16) and body[:2] in ("0x", "0X"):
        return sign, 16, body[2:]
    return sign, 10 if base == 0 else base, body


def parse_int(
    text: str,
    *,
    error: type[MemplanError],
    source: Source | None = None,
    base: Base = 10,
    what: str = "number",
    signed: bool = False,
    max_digits: int = DEFAULT_MAX_DIGITS,
    min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    """Read ``text`` (the whole string) as an integer; raise ``error(msg, source)`` if it is not one.

    ``base`` 8, 10 or 16 reads that base (16 also takes a ``0x`` prefix); ``0`` reads hex
    after ``0x``/``0X`` and decimal otherwise (the Kconfig convention). ``signed`` allows one
    leading ``-`` or ``+``. A number whose significant digits (leading zeros not counted)
    exceed ``max_digits`` is refused before conversion. ``min_value``/``max_value`` bound
    the result (inclusive); the message names ``what`` and the allowed range.
    """
    sign, radix, digits = _split(text, base, signed)
    if not digits:
        raise error(f"{what} {shorten(text)!r} is not a number", source)
    allowed = _DIGITS[radix]
    for ch in digits:
        if ch not in allowed:
            kind = {8: "an octal", 10: "a decimal", 16: "a hexadecimal"}[radix]
            raise error(f"{what} {shorten(text)!r} is not {kind} number", source)
    stripped = digits.lstrip("0") or "0"
    significant = len(stripped)
    if significant > max_digits:
        raise error(
            f"{what} {shorten(text)!r} has {significant} digits; at most {max_digits} are accepted", source
        )
    value = sign * int(stripped, radix)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise error(f"{what} {shorten(text)!r} is out of range ({_range(min_value, max_value)})", source)
    return value


def _range(low: int | None, high: int | None) -> str:
    if high == U64_MAX and not low:
        return "wider than 64 bits"
    if low is not None and high is not None:
        return f"allowed: {low}..{high}"
    if low is not None:
        return f"allowed: at least {low}"
    return f"allowed: at most {high}"


def is_int(text: str, *, base: Base = 10, signed: bool = False) -> bool:
    """True when :func:`parse_int` would accept the shape of ``text`` (digits only, any length)."""
    if not text:
        return False
    sign_ok = signed and text[:1] in ("-", "+")
    _, radix, digits = _split(text, base, sign_ok)
    allowed = _DIGITS[radix]
    return bool(digits) and all(ch in allowed for ch in digits)
