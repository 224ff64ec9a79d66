"""Number formatting shared by the renderers: human sizes and hexadecimal addresses."""

from __future__ import annotations

from collections.abc import Iterable

from memplan.units import optional_size


def human_size(n: int | None) -> str:
    """``n`` bytes in binary units: exact when short (``544 KiB``), otherwise rounded with a ``~``
    (``~4.94 GiB`` rather than ``5176831 KiB``; :func:`memplan.units.approx_size`); ``-`` for None."""
    return optional_size(n, "-", approx=True)


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
