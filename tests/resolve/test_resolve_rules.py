"""Unit tests of the resolver's kernel rules (pure functions, no Device Tree needed)."""

from __future__ import annotations

import random

import pytest

from memplan.resolve.alignment import cma_min_alignment
from memplan.resolve.cma import CmaRequest, cma_slots, declare_contiguous
from memplan.resolve.crashkernel import place_crashkernel, size_from_ranges
from memplan.resolve.e820 import (
    E820_ACPI,
    E820_RAM,
    E820_RESERVED,
    E820Entry,
    MemmapOp,
    apply_memmap,
    sanitize,
)
from memplan.resolve.memblock import Memblock, RangeSet
from memplan.resolve.memory import arm32_mem_banks, limit_by_address, limit_by_size, page_align_inward
from memplan.resolve.order import heapsort_bottom_up, heapsort_classic, kernel_sort, sorted_saved_array
from memplan.resolve.precedence import (
    Era,
    cmdline_limit,
    dt_default_action,
    era_of,
    kconfig_cma_size,
    resolve_policy,
    two_areas_quirk,
)
from memplan.version import KernelVersion

M = 1 << 20
G = 1 << 30
V = KernelVersion.parse


@pytest.mark.parametrize(
    ("version", "era"),
    [("4.19", Era.A), ("5.5.19", Era.A), ("5.6", Era.B), ("6.1.0-13-arm64", Era.B), ("6.12.12", Era.B),
     ("6.12.13", Era.C), ("6.13", Era.C), ("6.18.8", Era.C), ("6.18.9", Era.D), ("6.19", Era.D)],
)
def test_era_boundaries(version: str, era: Era) -> None:
    assert era_of(V(version)) is era


def test_dt_default_action_by_era_and_policy() -> None:
    assert dt_default_action("kernel", Era.A, cma_given=True) == "keep"
    assert dt_default_action("kernel", Era.B, cma_given=True) == "bypass"
    assert dt_default_action("kernel", Era.C, cma_given=True) == "bypass"
    assert dt_default_action("kernel", Era.D, cma_given=True) == "skip"
    assert dt_default_action("kernel", Era.D, cma_given=False) == "keep"
    assert dt_default_action("seed", Era.D, cma_given=True) == "keep"


def test_two_areas_quirk_only_arm32_riscv_static_without_cma() -> None:
    assert two_areas_quirk("kernel", Era.C, "arm", dt_default_static=True, cma_given=False)
    assert two_areas_quirk("kernel", Era.D, "riscv", dt_default_static=True, cma_given=False)
    assert not two_areas_quirk("kernel", Era.C, "arm64", dt_default_static=True, cma_given=False)
    assert not two_areas_quirk("kernel", Era.B, "arm", dt_default_static=True, cma_given=False)
    assert not two_areas_quirk("kernel", Era.C, "arm", dt_default_static=False, cma_given=False)
    assert not two_areas_quirk("kernel", Era.C, "arm", dt_default_static=True, cma_given=True)


def test_policy_auto() -> None:
    assert resolve_policy("auto", version_known=True) == "kernel"
    assert resolve_policy("auto", version_known=False) == "seed"
    assert resolve_policy("seed", version_known=True) == "seed"
    with pytest.raises(ValueError):
        resolve_policy("dts", version_known=True)


def test_kconfig_size_selection() -> None:
    ram = 2 * G + 4096 * 3 + 100  # partial page is truncated
    assert kconfig_cma_size("mbytes", 32, None, ram, 4096) == 32 * M
    # 10 % of the pages, truncated, in bytes
    pages = ram // 4096
    assert kconfig_cma_size("percentage", None, 10, ram, 4096) == pages * 10 // 100 * 4096
    assert kconfig_cma_size("min", 32, 10, ram, 4096) == 32 * M
    assert kconfig_cma_size("max", 32, 10, ram, 4096) == pages * 10 // 100 * 4096
    assert kconfig_cma_size("percentage", 64, None, ram, 4096) == 0  # undefined symbol counts as 0


def test_cmdline_limit_min_not_zero_until_615() -> None:
    assert cmdline_limit(V("6.15"), 8 * G, 4 * G) == 4 * G
    assert cmdline_limit(V("6.15"), 0, 4 * G) == 4 * G
    assert cmdline_limit(V("6.15"), 2 * G, 4 * G) == 2 * G
    assert cmdline_limit(V("6.16"), 8 * G, 4 * G) == 8 * G
    assert cmdline_limit(V("6.16"), 0, 4 * G) == 4 * G


@pytest.mark.parametrize(
    ("version", "page", "hugetlb", "expected"),
    [("5.15", 4096, True, 4 * M), ("6.1", 4096, True, 2 * M), ("6.1", 4096, False, 4 * M),
     ("5.10", 16384, True, 32 * M), ("6.1", 16384, True, 32 * M), ("6.1", 65536, True, 512 * M),
     ("5.18", 65536, True, 512 * M)],
)
def test_cma_min_alignment(version: str, page: int, hugetlb: bool, expected: int) -> None:
    assert cma_min_alignment(V(version), page, hugetlb=hugetlb) == expected


def test_cma_min_alignment_raised_max_order() -> None:
    assert cma_min_alignment(V("5.10"), 4096, max_buddy_order=13) == 32 * M
    assert cma_min_alignment(V("6.1"), 4096, max_buddy_order=13) == 2 * M


def test_heapsorts_sort() -> None:
    rnd = random.Random(7)
    for n in range(40):
        xs = [rnd.randint(0, 6) for _ in range(n)]
        for f in (heapsort_classic, heapsort_bottom_up):
            assert f(xs, lambda a, b: (a > b) - (a < b)) == sorted(xs)


def test_heapsort_tie_order_of_dynamic_nodes() -> None:
    # Three dynamic nodes (all key (0, 0)) come out as 1, 2, 0 — not DT order.
    keys = [(0, 0, 0), (0, 0, 1), (0, 0, 2)]
    assert sorted_saved_array(keys, V("6.1")) == [1, 2, 0]
    assert sorted_saved_array(keys[:2], V("6.1")) == [1, 0]
    # v6.5+ compares the node offset too: DT order.
    assert sorted_saved_array(keys, V("6.5")) == [0, 1, 2]
    # statics sort after the dynamic ones by base
    mixed = [(0x90000000, 0x1000, 0), (0, 0, 1), (0x80000000, 0x1000, 2), (0, 0, 3)]
    order = sorted_saved_array(mixed, V("6.1"))
    assert order[2:] == [2, 0]
    assert sorted(order[:2]) == [1, 3]


def test_classic_and_bottom_up_differ_on_ties() -> None:
    cmp = lambda a, b: (a[0] > b[0]) - (a[0] < b[0])  # noqa: E731
    items = [(0, i) for i in range(5)]
    classic = [i for _, i in kernel_sort(items, cmp, V("4.19"))]
    modern = [i for _, i in kernel_sort(items, cmp, V("5.10"))]
    assert sorted(classic) == sorted(modern) == list(range(5))
    assert classic == [i for _, i in heapsort_classic(items, cmp)]
    assert modern == [i for _, i in heapsort_bottom_up(items, cmp)]


def test_rangeset_merges_and_cuts() -> None:
    rs = RangeSet()
    rs.add(10, 20)
    rs.add(20, 30)
    rs.add(40, 50)
    assert list(rs) == [(10, 30), (40, 50)]
    rs.remove(15, 45)
    assert list(rs) == [(10, 15), (45, 50)]
    assert rs.overlaps(14, 16) and not rs.overlaps(15, 45)
    assert rs.covers(10, 15) and not rs.covers(10, 16)


def test_memblock_top_down_alignment_and_holes() -> None:
    mb = Memblock()
    mb.add_memory(0x40000000, 0x80000000)
    assert mb.alloc(64 * M, 2 * M) == 0xC0000000 - 64 * M
    mb.reserve(0xB0000000, 0x100000)
    base = mb.alloc(16 * M, 32 * M, 0x40000000, 0xB0000000 + 0x100000)
    assert base == 0xAE000000  # below the reservation, 32 MiB aligned
    mb.mark_nomap(0x40000000, 0x40000000)
    assert mb.alloc(1 * G, 2 * M) is None
    assert mb.phys_mem_size() == 0x80000000  # nomap still counts as memory
    mb.clear_nomap(0x40000000, 0x40000000)
    assert mb.alloc(16 * M, 2 * M, top_down=False) == 0x40000000


def test_memblock_never_returns_first_page() -> None:
    mb = Memblock()
    mb.add_memory(0, 16 * M)
    assert mb.alloc(4096, 4096, top_down=False) == 4096


def test_memblock_free_keeps_nomap_busy() -> None:
    mb = Memblock()
    mb.add_memory(0x40000000, 64 * M)
    mb.reserve(0x40000000 + 32 * M, 32 * M)
    mb.mark_nomap(0x40000000 + 48 * M, 16 * M)
    mb.free(0x40000000 + 32 * M, 32 * M)
    assert mb.alloc(16 * M, M) == 0x40000000 + 32 * M


def _arm64_mb(base: int, size: int) -> Memblock:
    mb = Memblock()
    mb.add_memory(base, size)
    return mb


def test_cma_top_down_in_limit() -> None:
    mb = _arm64_mb(0x40000000, 0x80000000)
    p = declare_contiguous(mb, CmaRequest(320 * M, limit=0xC0000000), version=V("6.1"), min_alignment=2 * M,
                           phys_64bit=True)
    assert p.ok and p.base == 0xC0000000 - 320 * M and p.strategy == "top-down"


def test_cma_size_rounded_up_and_limit_down() -> None:
    mb = _arm64_mb(0x40000000, 0x80000000)
    p = declare_contiguous(mb, CmaRequest(3 * M, limit=0xBFFFFFFF), version=V("6.1"), min_alignment=2 * M,
                           phys_64bit=True)
    assert p.size == 4 * M and p.base == 0xBFE00000 - 4 * M


def test_cma_fixed_and_failures() -> None:
    mb = _arm64_mb(0x40000000, 0x80000000)
    fixed = CmaRequest(64 * M, base=0x80000000, limit=0x80000000 + 64 * M, fixed=True)
    p = declare_contiguous(mb, fixed, version=V("6.1"), min_alignment=2 * M, phys_64bit=True)
    assert p.base == 0x80000000 and p.strategy == "fixed"
    again = declare_contiguous(mb, fixed, version=V("6.1"), min_alignment=2 * M, phys_64bit=True)
    assert again.failure == "busy"
    odd = CmaRequest(64 * M, base=0x80100000, limit=0x80100000 + 64 * M, fixed=True)
    assert declare_contiguous(mb, odd, version=V("6.1"), min_alignment=2 * M,
                              phys_64bit=True).failure == "misaligned-fixed"
    big = CmaRequest(4 * G, limit=0xC0000000)
    assert declare_contiguous(mb, big, version=V("6.1"), min_alignment=2 * M,
                              phys_64bit=True).failure == "exceeds-limit"
    assert declare_contiguous(mb, CmaRequest(0), version=V("6.1"), min_alignment=2 * M,
                              phys_64bit=True).failure == "size-zero"


def test_cma_bottom_up_above_4g_from_512() -> None:
    # x86-like: RAM 0..8 GiB, no arch limit: 5.12+ puts the area at the lowest fit >= 4 GiB.
    for version, expected in (("5.12", 4 * G), ("5.11", 8 * G - 256 * M)):
        mb = _arm64_mb(0, 8 * G)
        p = declare_contiguous(mb, CmaRequest(256 * M), version=V(version), min_alignment=2 * M,
                               phys_64bit=True)
        assert p.base == expected, version


def test_cma_highmem_first_on_32bit() -> None:
    mb = _arm64_mb(0x80000000, 0x40000000)
    p = declare_contiguous(mb, CmaRequest(64 * M, limit=0xFFFFFFFF), version=V("6.1"), min_alignment=4 * M,
                           phys_64bit=False, highmem_start=0xAF800000)
    assert p.base == 0xC0000000 - 64 * M and p.strategy == "highmem"


def test_cma_slots() -> None:
    assert cma_slots(V("6.1"), None, numa=False) == 8
    assert cma_slots(V("6.12"), None, numa=True) == 20
    assert cma_slots(V("6.1"), 3, numa=False) == 4


def test_crashkernel_size_from_ranges_rounds_ram_up_from_61() -> None:
    ranges = [(0, 2 * G, 128 * M), (2 * G, None, 256 * M)]
    ram = 2 * G - 64 * M
    assert size_from_ranges(ranges, ram, V("5.15")) == 128 * M
    assert size_from_ranges(ranges, ram, V("6.1")) == 256 * M
    assert size_from_ranges([(4 * G, None, 1)], ram, V("6.1")) == 0


def test_crashkernel_below_low_max_then_high() -> None:
    mb = _arm64_mb(0x40000000, 4 * G)
    p = place_crashkernel(mb, size=256 * M, offset=None, high=False, low_size=None, arch="arm64",
                          low_max=1 << 32)
    assert p.base == (1 << 32) - 256 * M
    h = place_crashkernel(mb, size=512 * M, offset=None, high=True, low_size=None, arch="arm64",
                          low_max=1 << 32)
    assert h.base == 0x40000000 + 4 * G - 512 * M
    assert h.low_base == (1 << 32) - 256 * M - 128 * M and h.low_size == 128 * M
    busy = place_crashkernel(mb, size=64 * M, offset=(1 << 32) - 64 * M, high=False, low_size=None,
                             arch="arm64", low_max=1 << 32)
    assert busy.base is None and busy.failure


def test_mem_limits() -> None:
    banks = [(0x40000000, 1 * G), (0x100000000, 1 * G)]
    assert limit_by_size(banks, 1 * G + 256 * M) == [(0x40000000, 1 * G), (0x100000000, 256 * M)]
    assert limit_by_address(banks, 0x60000000) == [(0x40000000, 0x20000000)]
    assert arm32_mem_banks([(256 * M, None), (128 * M, 0x90000000)], 0x80000000) == [
        (0x80000000, 256 * M), (0x90000000, 128 * M)]
    assert page_align_inward(0x1001, 0x3000, 4096) == (0x2000, 0x2000)


def test_e820_sanitize_highest_type_wins() -> None:
    t = sanitize([E820Entry(0, 0x1000, E820_RAM), E820Entry(0x800, 0x1000, E820_RESERVED),
                  E820Entry(0x1800, 0x800, E820_RAM)])
    assert t == [E820Entry(0, 0x800, E820_RAM), E820Entry(0x800, 0x1000, E820_RESERVED),
                 E820Entry(0x1800, 0x800, E820_RAM)]


def test_memmap_forms() -> None:
    ram = [E820Entry(0, 4 * G, E820_RAM)]
    reserved = apply_memmap(ram, [MemmapOp("add", 0x18690000, 64 * 1024, E820_RESERVED)])
    assert E820Entry(0x18690000, 64 * 1024, E820_RESERVED) in reserved
    capped = apply_memmap(ram, [MemmapOp("cap", 2 * G)])
    assert capped == [E820Entry(0, 2 * G, E820_RAM)]
    exact = apply_memmap(ram, [MemmapOp("exactmap"), MemmapOp("add", 0x100000, 512 * M, E820_RAM)])
    assert exact == [E820Entry(0x100000, 512 * M, E820_RAM)]
    conv = apply_memmap(ram, [MemmapOp("convert", G, G, old_kind=E820_RAM, new_kind=E820_ACPI)])
    assert E820Entry(G, G, E820_ACPI) in conv
    removed = apply_memmap(ram, [MemmapOp("convert", G, G)])
    assert removed == [E820Entry(0, G, E820_RAM), E820Entry(2 * G, 2 * G, E820_RAM)]
