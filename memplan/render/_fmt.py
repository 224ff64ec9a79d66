"""Number formatting shared by the renderers: human sizes and hexadecimal addresses."""

from __future__ import annotations

from collections.abc import Iterable

from memplan.units import format_size


def human_size(n: int | None) -> str:
    """``n`` bytes in binary units: exact when short (:func:`memplan.units.format_size`, ``544 KiB``),
    otherwise rounded with a ``~`` (``~4.94 GiB`` rather than ``5176831 KiB``); ``-`` for None."""
    if n is None:
        return "-"
    return approx_size(n)


def approx_size(n: int) -> str:
    """A short human size for gaps: exact when it reads well, else ``~`` and three digits (``~225 MiB``)."""
    exact = format_size(n)
    if len(exact.split(" ")[0]) <= 4:
        return exact
    for unit, scale in (("EiB", 1 << 60), ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30),
                        ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            value = n / scale
            text = f"{value:.0f}" if value >= 100 else f"{value:.3g}"
            return f"~{text} {unit}"
    return exact


def hex_width(values: Iterable[int | None]) -> int:
    """How many hex digits are needed to print every value (at least 8, for 32-bit addresses)."""
    width = 8
    for v in values:
        if v is not None:
            width = max(width, len(f"{v:x}"))
    return width


def hex_addr(value: int | None, width: int = 8) -> str:
    """``0x`` plus ``value`` zero-padded to ``width`` digits; ``-`` for None."""
    if value is None:
        return "-"
    return f"0x{value:0{width}x}"
