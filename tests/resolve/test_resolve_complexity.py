"""Algorithmic cost of the resolver's data structures, by counting operations (never time)."""

from __future__ import annotations

import math

from memplan.resolve.memblock import Memblock
from memplan.resolve.order import heapsort_bottom_up, heapsort_classic

M = 1 << 20


def _memblock_ops(n: int) -> int:
    """n static 64 KiB reservations spread over RAM, then n/10 top-down 2 MiB allocations."""
    mb = Memblock()
    mb.add_memory(0x40000000, 64 << 30)
    for i in range(n):
        mb.reserve(0x40000000 + i * 0x300000, 0x10000)
    for _ in range(n // 10):
        assert mb.alloc(2 * M, 2 * M) is not None
    return mb.operations


def _sort_compares(n: int, sort: object) -> int:
    count = 0

    def cmp(a: int, b: int) -> int:
        nonlocal count
        count += 1
        return (a > b) - (a < b)

    items = [(i * 7919) % n for i in range(n)]
    assert sort(items, cmp) == sorted(items)  # type: ignore[operator]
    return count


def test_memblock_allocation_cost_is_near_linear() -> None:
    small, big = _memblock_ops(1000), _memblock_ops(8000)
    assert big / small <= 8 * math.log2(8000) / math.log2(1000)


def test_heapsort_emulation_is_n_log_n() -> None:
    for sort in (heapsort_classic, heapsort_bottom_up):
        n1, n2 = 1000, 8000
        c1, c2 = _sort_compares(n1, sort), _sort_compares(n2, sort)
        assert c2 <= 2 * n2 * math.log2(n2)
        assert c2 / c1 <= 1.2 * (n2 * math.log2(n2)) / (n1 * math.log2(n1))
