"""Combining observations: global-pool detection, region states, debugfs merging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memplan.observe import parse_dmesg, parse_meminfo, read_debugfs_cma
from memplan.observe.combine import build_observed
from memplan.observe.model import Observed

MIB = 1 << 20
HEAD = "Linux version 6.12.117+deb13-arm64 (x@y) (gcc) #1 SMP Debian 6.12.117-1 (2026-11-12)\n"


def obs(log: str, **kw: Any) -> Observed:
    return build_observed(log=parse_dmesg(HEAD + log, "dmesg"), **kw)


def test_kconfig_area_without_cma_param() -> None:
    o = obs("cma: Reserved 64 MiB at 0x00000000b9a00000 on node -1\nKernel command line: console=ttyAMA0\n")
    g = o.global_cma
    assert (g.origin, g.name, g.base, g.size, g.size_granule) == (
        "kconfig",
        "reserved",
        0xB9A00000,
        64 * MIB,
        MIB,
    )


def test_unknown_cmdline_gives_cmdline_or_kconfig() -> None:
    o = obs("cma: Reserved 64 MiB at 0x00000000b9a00000\n")
    assert o.global_cma.origin == "cmdline-or-kconfig"


def test_cma_zero_drops_dt_default_and_leaves_nothing() -> None:
    o = obs(
        "Reserved memory: bypass linux,cma node, using cmdline CMA params instead\n"
        "OF: reserved mem: node linux,cma compatible matching fail\n"
        "Kernel command line: console=ttyAMA0 cma=0\n"
    )
    g = o.global_cma
    assert g.known and g.origin is None and g.dt_default_dropped
    assert "dropped" in g.reason
    assert o.region("linux,cma").status == "bypassed"


def test_truncated_log_does_not_claim_no_area() -> None:
    o = build_observed(log=parse_dmesg("random line\n"))
    assert not o.global_cma.known


def test_zero_cmatotal_says_no_area() -> None:
    o = build_observed(meminfo=parse_meminfo("CmaTotal: 0 kB\n"))
    assert o.global_cma.known and o.global_cma.origin is None


def test_era_c_arm32_both_areas_dt_is_default() -> None:
    # the Kconfig area is created first, then the static DT default node overrides it
    o = obs(
        "cma: Reserved 16 MiB at 0x0000000097000000\n"
        "Reserved memory: created CMA memory pool at 0x0000000090000000, size 64 MiB\n"
        "OF: reserved mem: initialized node linux,cma@90000000, compatible id shared-dma-pool\n"
        "Kernel command line: console=ttyS0\n"
    )
    assert (o.global_cma.origin, o.global_cma.name) == ("dts", "linux,cma@90000000")
    assert o.region("reserved").status == "ok"


def test_dt_pool_before_cmdline_area_is_not_default() -> None:
    o = obs(
        "Reserved memory: created CMA memory pool at 0x00000000bf000000, size 16 MiB\n"
        "OF: reserved mem: initialized node linux,cma-dev, compatible id shared-dma-pool\n"
        "cma: Reserved 128 MiB at 0x00000000b5a00000\n"
        "Kernel command line: cma=128M\n"
    )
    assert (o.global_cma.origin, o.global_cma.name) == ("cmdline", "reserved")


def test_several_dt_pools_without_dtb_are_not_guessed() -> None:
    o = obs(
        "Reserved memory: created CMA memory pool at 0x00000000bf000000, size 16 MiB\n"
        "OF: reserved mem: initialized node pool-a, compatible id shared-dma-pool\n"
        "Reserved memory: created CMA memory pool at 0x00000000be000000, size 16 MiB\n"
        "OF: reserved mem: initialized node pool-b, compatible id shared-dma-pool\n"
    )
    assert o.global_cma.known and o.global_cma.origin is None


def test_hugetlb_lines_are_not_the_global_area() -> None:
    o = obs(
        "hugetlb_cma: reserve 1024 MiB, up to 1024 MiB per node\n"
        "cma: Reserved 1024 MiB at 0x0000000100000000\n"
        "hugetlb_cma: reserved 1024 MiB on node 0\n"
        "cma: Failed to reserve 1024 MiB\n"
        "hugetlb_cma: reservation failed: err -12, node 1\n"
        "cma: Reserved 64 MiB at 0x00000000b9a00000\n"
        "Kernel command line: hugetlb_cma=1G\n"
    )
    assert o.region("hugetlb0").base == 0x100000000
    assert o.region("hugetlb0").kind == "hugetlb-cma"
    assert (o.global_cma.origin, o.global_cma.base) == ("kconfig", 0xB9A00000)


def test_failed_reservation_then_registered() -> None:
    o = obs(
        "OF: reserved mem: Reserved memory: failed to reserve memory for node 'fw@60000000': "
        "base 0x0000000060000000, size 16 MiB\n"
        "OF: reserved mem: 0x0000000060000000..0x0000000060ffffff (16384 KiB) "
        "nomap non-reusable fw@60000000\n"
    )
    r = o.region("fw@60000000")
    assert (r.status, r.kind, r.nomap, r.size, r.size_granule) == ("ok", "no-map", True, 16 * MIB, 1)
    assert len(r.evidence) == 2


def test_allocation_failure_region() -> None:
    o = obs("OF: reserved mem: failed to allocate memory for node 'big': size 4096 MiB\n")
    r = o.region("big")
    assert (r.status, r.size) == ("failed", 4096 * MIB)


def test_dma_pool_keeps_kind_with_summary() -> None:
    o = obs(
        "Reserved memory: created DMA memory pool at 0x0000000068000000, size 8 MiB\n"
        "OF: reserved mem: initialized node dma-pool@68000000, compatible id shared-dma-pool\n"
        "OF: reserved mem: 0x0000000068000000..0x00000000687fffff (8192 KiB) "
        "nomap non-reusable dma-pool@68000000\n"
    )
    r = o.region("dma-pool@68000000")
    assert (r.kind, r.nomap, r.size_granule) == ("dma-pool", True, 1)
    assert o.lists_all_reserved_nodes


def test_debugfs_exact_values_override_log_and_fix_truncated_names(tmp_path: Path) -> None:
    for dirname, pfn, count in (("cma-reserved", 0xB9A00, 16384), ("cma-linux,cma@9", 0x90000, 16384)):
        d = tmp_path / dirname
        d.mkdir()
        (d / "base_pfn").write_text(f"{pfn}\n")
        (d / "count").write_text(f"{count}\n")
    areas, _ = read_debugfs_cma(tmp_path)
    o = obs(
        "Reserved memory: created CMA memory pool at 0x0000000090000000, size 64 MiB\n"
        "OF: reserved mem: initialized node linux,cma@90000000, compatible id shared-dma-pool\n"
        "cma: Reserved 64 MiB at 0x00000000b9a00000\n",
        debugfs=areas,
    )
    names = sorted(c.name for c in o.cma_areas)
    assert names == ["linux,cma@90000000", "reserved"]
    assert o.region("reserved").size_granule == 1
    assert o.region("linux,cma@90000000").base == 0x90000000


def test_cmatotal_mismatch_is_noted(tmp_path: Path) -> None:
    d = tmp_path / "reserved"
    d.mkdir()
    (d / "base_pfn").write_text("1000\n")
    (d / "count").write_text("16384\n")
    areas, _ = read_debugfs_cma(tmp_path)
    o = build_observed(debugfs=areas, meminfo=parse_meminfo("CmaTotal: 98304 kB\n"))
    assert [d.code for d in o.diagnostics] == ["observed-cmatotal-differs"]


def _v(version: str) -> str:
    return f"Linux version {version} (x@y) (gcc) #1 SMP\n"


def test_pernuma_lines_before_global_on_6_1() -> None:
    o = build_observed(
        log=parse_dmesg(
            _v("6.1.0")
            + "cma: Reserved 16 MiB at 0x000000007ee00000\n"
            + "cma: Reserved 16 MiB at 0x00000000bea00000\n"
            + "cma: Reserved 64 MiB at 0x00000000b9a00000\n"
            + "Kernel command line: console=ttyAMA0 cma_pernuma=16M\n"
        )
    )
    assert (o.global_cma.name, o.global_cma.base) == ("reserved", 0xB9A00000)
    assert [(r.name, r.base) for r in o.regions if r.kind == "numa-cma"] == [
        ("pernuma0", 0x7EE00000),
        ("pernuma1", 0xBEA00000),
    ]


def test_pernuma_same_size_as_global_uses_version_order() -> None:
    log = (
        "cma: Reserved 64 MiB at 0x00000000b9a00000 on node -1\n"
        "cma: Reserved 64 MiB at 0x000000007c000000 on node 0\n"
        "Kernel command line: cma_pernuma=64M\n"
    )
    o = build_observed(log=parse_dmesg(_v("6.6.0") + log))
    assert o.global_cma.base == 0xB9A00000
    assert o.region("pernuma0").base == 0x7C000000


def test_numa_cma_nodes_from_the_command_line() -> None:
    o = build_observed(
        log=parse_dmesg(
            _v("7.2.0")
            + "cma: Reserved 64 MiB at 0x00000000bba00000\n"
            + "cma: Reserved 32 MiB at 0x00000000b9a00000\n"
            + "Kernel command line: numa_cma=1:32M\n"
        )
    )
    assert o.global_cma.base == 0xBBA00000
    assert o.region("numa1").size == 32 * MIB


def test_hugetlb_multi_range_line() -> None:
    o = obs(
        "cma: Reserved 64 MiB at 0x00000000fc000000\n"
        "hugetlb_cma: reserve 1024 MiB, up to 1024 MiB per node\n"
        "cma: Reserved 1024 MiB in 1 range\n"
        "hugetlb_cma: reserved 1024 MiB on node 0\n"
        "Kernel command line: hugetlb_cma=1G\n"
    )
    h = o.region("hugetlb0")
    assert (h.kind, h.base, h.size) == ("hugetlb-cma", None, 1024 * MIB)
    assert o.global_cma.base == 0xFC000000


def test_area_not_activated_is_failed() -> None:
    o = obs(
        "hugetlb_cma: reserve 1024 MiB, up to 1024 MiB per node\n"
        "cma: Reserved 1024 MiB at 0x00000000ff600000\n"
        "hugetlb_cma: reserved 1024 MiB on node 0\n"
        "cma: Reserved 64 MiB at 0x00000000f7600000\n"
        "cma: CMA area hugetlb0 could not be activated\n"
    )
    h = o.region("hugetlb0")
    assert (h.status, h.base, h.kind) == ("failed", 0xFF600000, "hugetlb-cma")
    assert h.reason is not None and "activated" in h.reason
    assert [c.name for c in o.cma_areas] == ["reserved"]
