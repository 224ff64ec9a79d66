"""A model of the kernel's early memory allocator (mm/memblock.c).

Three sets of disjoint, merged ranges: ``memory`` (RAM the kernel knows), ``reserved``
(``memblock_reserve``) and ``nomap`` (``memblock_mark_nomap``). Free memory is memory minus
reserved minus nomap; allocation searches it top-down (the default on arm, arm64, riscv and x86)
or bottom-up, honouring alignment and a ``[start, end)`` window, and never returns the first page.
Operations cost O(log n) for the search plus O(k) for the k ranges touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from memplan.ranges import RangeSet
from memplan.units import align_down, align_up


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
