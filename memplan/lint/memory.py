"""The RAM the lint assumes for a board that leaves ``/memory`` to its boot loader.

Many boards ship ``memory@40000000 { reg = <0x0 0x40000000 0x0 0x0>; }`` (or no ``/memory``
node at all): U-Boot and other boot loaders write the real banks at boot. Resolving such a board
as written gives "no RAM" and every reservation outside RAM — noise, not findings. The lint
instead lays the board out on one assumed bank:

* **base**: the lowest unit address of a ``/memory`` node (``memory@40000000``), else the lowest
  non-zero ``reg`` base of one, else 0 — lowered to the 256 MiB boundary at or below the lowest
  static reservation (``/reserved-memory`` ``reg`` or ``/memreserve/``) when one lies below it;
* **end**: at least 1 GiB above the base (and above the ``/memory`` address), extended to the
  end of every static reservation and ``alloc-ranges`` window, and large enough to hold twice the
  dynamically sized reservations; rounded up to 256 MiB; capped at 4 GiB on 32-bit ARM without
  LPAE (its physical address space).

So every static reservation lies inside the assumed RAM: whether it is outside the real RAM, like
any finding that depends on the real RAM size (a pool that does not fit), cannot be judged without
it. A ``lint-memory-assumed`` note on the board says which bank was used, and
``memplan resolve --memory`` checks a board with its real size.
"""

from __future__ import annotations

import attrs

from memplan.dts.facts import DtFacts

#: The smallest RAM the lint assumes.
DEFAULT_SIZE = 1 << 30
#: Bases and ends are rounded to this.
GRANULE = 256 << 20
_ARM32_LIMIT = 1 << 32


@attrs.frozen
class AssumedRam:
    """One assumed RAM bank and, in words, where its base came from."""

    base: int
    size: int
    base_from: str


def _unit_address(path: str) -> int | None:
    name = path.rpartition("/")[2]
    unit = name.partition("@")[2]
    if not unit:
        return None
    try:
        return int(unit.split(",")[0], 16)
    except ValueError:
        return None


def _static(dt: DtFacts) -> list[tuple[int, int]]:
    """The static reservations: ``/reserved-memory`` ``reg`` ranges and ``/memreserve/`` entries."""
    return [*(r for n in dt.rmem_nodes for r in (n.reg or ())), *((a, s) for a, s, _ in dt.memreserves)]


def _hint(dt: DtFacts) -> tuple[int | None, str]:
    units = [u for m in dt.memory_nodes if (u := _unit_address(m.path)) is not None]
    if units:
        return min(units), "the /memory unit address"
    regs = [b for m in dt.memory_nodes for b, _ in (m.ranges or ()) if b > 0]
    if regs:
        return min(regs), "the /memory reg base"
    return None, "no /memory address"


def _base(dt: DtFacts) -> tuple[int, str]:
    hint, why = _hint(dt)
    starts = [b for b, _ in _static(dt)]
    lowest = min(starts) // GRANULE * GRANULE if starts else None
    if lowest is not None and (hint is None or lowest < hint):
        return lowest, "the 256 MiB boundary below the lowest static reservation"
    return (hint, why) if hint is not None else (0, "no address in the Device Tree")


def _round_up(value: int) -> int:
    return -(-value // GRANULE) * GRANULE


def assume_ram(dt: DtFacts, arch: str, lpae: bool) -> AssumedRam:
    """The bank the lint lays a board out on when its Device Tree gives no RAM size."""
    base, base_from = _base(dt)
    hint, _ = _hint(dt)
    end = max(base, hint or 0) + DEFAULT_SIZE
    windows = [r for n in dt.rmem_nodes for r in (n.alloc_ranges or ())]
    for start, size in (*_static(dt), *windows):
        end = max(end, start + size)
    dynamic = sum(n.size or 0 for n in dt.rmem_nodes if not n.is_static)
    end = max(end, base + 2 * dynamic)
    end = _round_up(end)
    if arch == "arm" and not lpae:
        end = min(end, _ARM32_LIMIT)
    return AssumedRam(base, max(end - base, GRANULE), base_from)
