"""A model of the kernel's early memory allocator (mm/memblock.c).

Three sets of disjoint, merged ranges: ``memory`` (RAM the kernel knows), ``reserved``
(``memblock_reserve``) and ``nomap`` (``memblock_mark_nomap``). Free memory is memory minus
reserved minus nomap; allocation searches it top-down (the default on arm, arm64, riscv and x86)
or bottom-up, honouring alignment and a ``[start, end)`` window, and never returns the first page.
Operations cost O(log n) for the search plus O(k) for the k ranges touched.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from memplan.units import align_down, align_up


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


class Memblock:
    """memblock: memory, reserved and nomap ranges plus the allocator that searches free space.

    ``top_down`` is the default direction (mm/memblock.c ``memblock_set_bottom_up``).
    """

    def __init__(self, page_size: int = 4096, top_down: bool = True) -> None:
        self.page_size = page_size
        self.top_down = top_down
        self.memory = RangeSet()
        self.reserved = RangeSet()
        self.nomap = RangeSet()
        self._busy = RangeSet()  # reserved ∪ nomap, kept in step
        self.operations = 0  # search steps, for complexity tests

    # -- memory --------------------------------------------------------------------------
    def add_memory(self, base: int, size: int) -> None:
        """``memblock_add``."""
        self.memory.add(base, base + size)

    def remove_memory(self, base: int, size: int) -> None:
        """``memblock_remove``: the range disappears from memory (and its nomap flag with it)."""
        self.memory.remove(base, base + size)
        self.nomap.remove(base, base + size)
        self._rebuild_busy(base, base + size)

    def cap_memory(self, limit: int) -> None:
        """``memblock_cap_memory_range(0, limit)``: drop memory and reservations above ``limit``."""
        top = max(self.memory.last_end() or 0, self.reserved.last_end() or 0, limit)
        self.memory.remove(limit, top)
        self.reserved.remove(limit, top)
        self.nomap.remove(limit, top)
        self._busy.remove(limit, top)

    def phys_mem_size(self) -> int:
        """``memblock_phys_mem_size()``: all memory, NOMAP regions included."""
        return self.memory.total()

    def start_of_dram(self) -> int:
        """``memblock_start_of_DRAM()`` (0 when there is no memory)."""
        return self.memory.first() or 0

    def end_of_dram(self) -> int:
        """``memblock_end_of_DRAM()``: exclusive end of the highest memory range."""
        return self.memory.last_end() or 0

    # -- reservations --------------------------------------------------------------------
    def reserve(self, base: int, size: int) -> None:
        """``memblock_reserve`` (may lie outside memory)."""
        self.reserved.add(base, base + size)
        self._busy.add(base, base + size)

    def free(self, base: int, size: int) -> None:
        """``memblock_phys_free``: un-reserve ``[base, base+size)``."""
        self.reserved.remove(base, base + size)
        self._rebuild_busy(base, base + size)

    def mark_nomap(self, base: int, size: int) -> None:
        """``memblock_mark_nomap``: the range stays memory but is never allocated nor mapped."""
        self.nomap.add(base, base + size)
        self._busy.add(base, base + size)

    def clear_nomap(self, base: int, size: int) -> None:
        """``memblock_clear_nomap``."""
        self.nomap.remove(base, base + size)
        self._rebuild_busy(base, base + size)

    def is_reserved(self, base: int, size: int) -> bool:
        """``memblock_is_region_reserved``: any byte of the range reserved."""
        return self.reserved.overlaps(base, base + size)

    def is_busy(self, base: int, size: int) -> bool:
        """Any byte reserved or nomap."""
        return self._busy.overlaps(base, base + size)

    def overlaps_memory(self, base: int, size: int) -> bool:
        """Any byte of the range is memory."""
        return self.memory.overlaps(base, base + size)

    def _rebuild_busy(self, start: int, end: int) -> None:
        self._busy.remove(start, end)
        for s, e in self.reserved.within(start, end):
            self._busy.add(s, e)
        for s, e in self.nomap.within(start, end):
            self._busy.add(s, e)

    # -- allocation ----------------------------------------------------------------------
    def find(self, size: int, align: int, start: int = 0, end: int | None = None,
             top_down: bool | None = None) -> int | None:
        """``memblock_find_in_range``: base of a free, aligned ``size`` range inside
        ``[start, end)`` (``end`` None = anywhere), or ``None``. The first page is never used."""
        if size <= 0:
            return None
        align = max(align, 1)
        lo = max(start, self.page_size)
        hi = self.end_of_dram() if end is None else min(end, self.end_of_dram())
        if hi <= lo:
            return None
        down = self.top_down if top_down is None else top_down
        return self._find_down(size, align, lo, hi) if down else self._find_up(size, align, lo, hi)

    def _free_ranges_down(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        m = self.memory.index_before(hi)
        while m >= 0:
            ms, me = self.memory.at(m)
            m -= 1
            if me <= lo:
                return
            s, top = max(ms, lo), min(me, hi)
            j = self._busy.index_before(top)
            while top > s:
                self.operations += 1
                if j >= 0:
                    bs, be = self._busy.at(j)
                    if be > s:
                        if be < top:
                            yield be, top
                        top = bs
                        j -= 1
                        continue
                yield s, top
                break

    def _find_down(self, size: int, align: int, lo: int, hi: int) -> int | None:
        for fs, fe in self._free_ranges_down(lo, hi):
            if fe < size:
                continue
            cand = align_down(fe - size, align)
            if cand >= fs:
                return cand
        return None

    def _find_up(self, size: int, align: int, lo: int, hi: int) -> int | None:
        for ms, me in self.memory.within(lo, hi):
            cursor = ms
            for bs, be in [*self._busy.within(ms, me), (me, me)]:
                self.operations += 1
                cand = align_up(cursor, align)
                if cand < bs and bs - cand >= size:
                    return cand
                cursor = max(cursor, be)
        return None

    def alloc(self, size: int, align: int, start: int = 0, end: int | None = None,
              top_down: bool | None = None) -> int | None:
        """``memblock_phys_alloc_range``: find and reserve; ``None`` when nothing fits."""
        base = self.find(size, align, start, end, top_down)
        if base is not None:
            self.reserve(base, size)
        return base

    def alloc_within(self, size: int, align: int, ranges: Sequence[tuple[int, int]], start: int = 0,
                     end: int | None = None, top_down: bool | None = None) -> int | None:
        """``memblock_alloc_range_nid(..., exact_nid=true)``: like :meth:`alloc`, restricted to
        ``ranges`` (one NUMA node's memory; searched highest range first top-down, lowest
        first bottom-up). Empty ``ranges`` = anywhere."""
        if not ranges:
            return self.alloc(size, align, start, end, top_down)
        down = self.top_down if top_down is None else top_down
        hi_all = self.end_of_dram() if end is None else end
        for lo, hi in sorted(ranges, reverse=down):
            s, e = max(lo, start), min(hi, hi_all)
            if e - s >= size:
                base = self.alloc(size, align, s, e, top_down)
                if base is not None:
                    return base
        return None
