"""Sets of disjoint half-open address ranges (used by the memblock model and the /proc/iomem view)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator


class RangeSet:
    """Disjoint, sorted, merged half-open ranges ``[start, end)``; touching ranges merge."""

    __slots__ = ("_ends", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def __len__(self) -> int:
        return len(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._ends, strict=True))

    def add(self, start: int, end: int) -> None:
        """Add ``[start, end)`` (merging with overlapping or touching ranges)."""
        if end <= start:
            return
        i = bisect.bisect_left(self._ends, start)
        j = bisect.bisect_right(self._starts, end)
        if i < j:
            start = min(start, self._starts[i])
            end = max(end, self._ends[j - 1])
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    def remove(self, start: int, end: int) -> None:
        """Remove ``[start, end)``; ranges are cut around it."""
        if end <= start:
            return
        i = bisect.bisect_right(self._ends, start)
        j = bisect.bisect_left(self._starts, end)
        if i >= j:
            return
        new_s: list[int] = []
        new_e: list[int] = []
        if self._starts[i] < start:
            new_s.append(self._starts[i])
            new_e.append(start)
        if self._ends[j - 1] > end:
            new_s.append(end)
            new_e.append(self._ends[j - 1])
        self._starts[i:j] = new_s
        self._ends[i:j] = new_e

    def overlaps(self, start: int, end: int) -> bool:
        """True when any byte of ``[start, end)`` is in the set."""
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end

    def covers(self, start: int, end: int) -> bool:
        """True when every byte of ``[start, end)`` is in the set."""
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] <= start and self._ends[i] >= end

    def within(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of the set inside ``[start, end)``, ascending."""
        i = bisect.bisect_right(self._ends, start)
        out: list[tuple[int, int]] = []
        while i < len(self._starts) and self._starts[i] < end:
            out.append((max(self._starts[i], start), min(self._ends[i], end)))
            i += 1
        return out

    def total(self) -> int:
        """Total bytes in the set."""
        return sum(e - s for s, e in zip(self._starts, self._ends, strict=True))

    def first(self) -> int | None:
        """Lowest address in the set."""
        return self._starts[0] if self._starts else None

    def last_end(self) -> int | None:
        """Exclusive end of the highest range."""
        return self._ends[-1] if self._ends else None

    def index_before(self, addr: int) -> int:
        """Index of the last range starting below ``addr`` (-1 when none)."""
        return bisect.bisect_left(self._starts, addr) - 1

    def at(self, index: int) -> tuple[int, int]:
        """The range at ``index``."""
        return self._starts[index], self._ends[index]
