"""Algorithmic cost of the resolver's data structures, by counting operations (never time)."""

from __future__ import annotations

import math
import resource

import memplan
from memplan.resolve.memblock import Memblock
from memplan.resolve.order import heapsort_bottom_up, heapsort_classic
from memplan.resolve.steps.early import present_sections

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


def _sections_one_by_one(present: list[tuple[int, int]], section: int) -> int:
    return len({x // section for s, e in present for x in range(s - s % section, e, section)})


def test_present_sections_counts_spans_like_one_by_one() -> None:
    section = 1 << 27
    cases = [
        [],
        [(0, 1)],
        [(0x40000000, 0x80000000)],
        [(5, 6), (7, 8)],
        [(0, section), (section, 2 * section)],
        [(section - 1, section + 1)],
        [(0, 3 * section), (section, 2 * section), (2 * section + 7, 5 * section - 1)],
        [(9 * section, 10 * section + 1), (0, 1), (4 * section + 3, 4 * section + 4)],
    ]
    for present in cases:
        assert present_sections(present, section) == _sections_one_by_one(present, section), present


def test_present_sections_of_all_addresses_without_enumerating() -> None:
    # 2^64 bytes of RAM (a hostile reg): 2^37 sections of 128 MiB, counted, not listed
    assert present_sections([(0, 1 << 64)], 1 << 27) == 1 << 37


def test_resolving_a_board_with_all_of_the_address_space_as_ram() -> None:
    board = """/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	memory@0 { device_type = "memory"; reg = <0x0 0x0 0xffffffff 0xffffffff>; };
};
"""
    # the address space is capped for the call, so a resolver listing the sections one by one
    # fails here with a MemoryError instead of filling the machine's memory
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * resource.getpagesize()
    cap = used + (2 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        plan = memplan.resolve(dts=board, arch="arm64", kernel_version="6.12")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    # 2^64 - 1 bytes touch 2^37 sections of 128 MiB; 32,768 pages of 64-byte struct pages each
    (memmap,) = [r for r in plan.regions if r.name == "memmap"]
    assert memmap.size == (1 << 37) * (1 << 21)
    assert "137438953472 memory sections" in memmap.reason
