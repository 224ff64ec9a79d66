"""The resolver on small hand-written boards: bases, sizes, statuses and diagnostics."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import memplan
from memplan.plan import Plan
from tests.resolve.conftest import board

M = 1 << 20
Resolve = Callable[..., Plan]

POOLS = """
pool_a: pool-a { compatible = "shared-dma-pool"; reusable; size = <0x0 0x1000000>; };
pool_b: pool-b { compatible = "shared-dma-pool"; reusable; size = <0x0 0x3000000>; };
pool_c: pool-c { compatible = "shared-dma-pool"; reusable; size = <0x0 0x800000>; };
pool_d: pool-d { compatible = "shared-dma-pool"; reusable; size = <0x0 0x2000000>; };
"""

DT_DEFAULT = """
linux_cma: linux,cma { compatible = "shared-dma-pool"; reusable; size = <0x0 0x6000000>; linux,cma-default; };
"""


def codes(plan: Plan) -> set[str]:
    return {d.code for d in plan.diagnostics}


def test_static_no_map_region(resolve_board: Resolve) -> None:
    plan = resolve_board(board("dsp: dsp@50000000 { reg = <0 0x50000000 0 0x1000000>; no-map; };"))
    r = plan.region("dsp@50000000")
    assert (r.base, r.size, r.kind, r.status, r.placement) == (0x50000000, 16 * M, "no-map", "ok", "static")
    assert plan.ok


def test_dynamic_pools_heapsort_order_on_61(resolve_board: Resolve) -> None:
    # Recorded on Debian 6.1 under QEMU (tests/kernel/fixtures/arm64-6.1-pools): b, c, d, a.
    plan = resolve_board(board(POOLS))
    got = {n: plan.region(n).base for n in ("pool-a", "pool-b", "pool-c", "pool-d")}
    assert got == {"pool-b": 0xBD000000, "pool-c": 0xBC800000, "pool-d": 0xBA800000, "pool-a": 0xB9800000}
    assert all(plan.region(n).placement == "dynamic" for n in got)


def test_dynamic_pools_dt_order_from_65(resolve_board: Resolve) -> None:
    plan = resolve_board(board(POOLS), kernel_version="6.12")
    got = [plan.region(n).base for n in ("pool-a", "pool-b", "pool-c", "pool-d")]
    assert got == [0xBF000000, 0xBC000000, 0xBB800000, 0xB9800000]


def test_global_cma_from_kconfig_after_modelled_early_allocations(resolve_board: Resolve) -> None:
    plan = resolve_board(
        board(POOLS),
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n"
        "CONFIG_HUGETLBFS=y\nCONFIG_CMA_SIZE_MBYTES=64\n",
    )
    g = plan.global_cma
    # Recorded base on Debian 6.1: 0xb3200000.
    assert (g.origin, g.size, g.base, g.region) == ("kconfig", 64 * M, 0xB3200000, "reserved")
    assert plan.region("reserved").placement == "modelled"


@pytest.mark.parametrize(
    ("version", "origin", "dt_status", "code"),
    [
        ("5.4", "dts", "ok", "cma-cmdline-ignored"),
        ("6.1", "cmdline", "bypassed", "cma-dt-bypassed"),
        ("6.13", "cmdline", "bypassed", "cma-dt-bypassed"),
        ("6.19", "cmdline", "bypassed", "cma-dt-skipped"),
    ],
)
def test_precedence_by_era(
    resolve_board: Resolve, version: str, origin: str, dt_status: str, code: str
) -> None:
    plan = resolve_board(board(DT_DEFAULT, bootargs="cma=128M"), kernel_version=version)
    assert plan.global_cma.origin == origin
    assert plan.region("linux,cma").status == dt_status
    assert code in codes(plan)
    statuses = {c.origin: c.status for c in plan.global_cma.candidates}
    assert statuses["dts"] == ("selected" if origin == "dts" else "overridden")
    assert statuses["cmdline"] == ("selected" if origin == "cmdline" else "overridden")


def test_bypassed_dynamic_node_memory_is_reused(resolve_board: Resolve) -> None:
    plan = resolve_board(board(DT_DEFAULT, bootargs="cma=128M"))
    # The bypassed 96 MiB node was allocated then released; the 128 MiB area is placed afterwards.
    assert plan.global_cma.size == 128 * M
    assert plan.global_cma.base == 0xB5A00000  # recorded: arm64-6.1-dt-default-cma


def test_cma_zero_drops_everything_on_61_but_not_on_54(resolve_board: Resolve) -> None:
    plan = resolve_board(board(DT_DEFAULT, bootargs="cma=0"))
    g = plan.global_cma
    assert (g.origin, g.size, g.base, g.status) == ("cmdline", 0, None, "disabled")
    assert plan.region("linux,cma").status == "bypassed"
    assert "cma-disabled-by-cmdline" in codes(plan)
    old = resolve_board(board(DT_DEFAULT, bootargs="cma=0"), kernel_version="5.4")
    assert old.global_cma.origin == "dts" and old.region("linux,cma").status == "ok"


def test_seed_policy_and_auto_without_version(resolve_board: Resolve) -> None:
    seed = resolve_board(board(DT_DEFAULT, bootargs="cma=128M"), precedence="seed")
    assert seed.precedence == "seed" and seed.global_cma.origin == "dts"
    auto = resolve_board(
        board(DT_DEFAULT, bootargs="cma=128M"),
        kernel_version=None,
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n",
    )
    assert auto.precedence == "seed" and auto.kernel_version is None
    assert auto.global_cma.origin == "dts"
    info = [d for d in auto.diagnostics if d.code == "version-unknown"]
    assert info and info[0].severity == "info" and "5.6" in info[0].message


def test_dma_cma_off(resolve_board: Resolve) -> None:
    plan = resolve_board(
        board(DT_DEFAULT, bootargs="cma=64M"),
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\n# CONFIG_DMA_CMA is not set\n",
    )
    g = plan.global_cma
    assert (g.origin, g.size, g.base, g.status) == ("kconfig", 0, None, "unsupported")
    assert plan.region("linux,cma").status == "rejected"
    assert {c.origin: c.status for c in plan.global_cma.candidates}["cmdline"] == "disabled"


def test_percentage_of_ram(resolve_board: Resolve) -> None:
    cfg = (
        "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
        "CONFIG_CMA_SIZE_SEL_PERCENTAGE=y\nCONFIG_CMA_SIZE_PERCENTAGE=10\n"
    )
    plan = resolve_board(board(""), config=cfg)
    pages = (2048 * M) // 4096
    expected = -(-(pages * 10 // 100 * 4096) // (2 * M)) * 2 * M  # rounded up to the 2 MiB granule
    assert plan.global_cma.origin == "kconfig" and plan.global_cma.size == expected


def test_misaligned_cma_rejected_and_released(resolve_board: Resolve) -> None:
    rmem = 'odd: cma@60100000 { compatible = "shared-dma-pool"; reusable; reg = <0 0x60100000 0 0x400000>; };'
    plan = resolve_board(board(rmem))
    r = plan.region("cma@60100000")
    assert r.status == "rejected" and "alignment" in (r.reason or "")
    assert "cma-misaligned" in codes(plan) and not plan.ok
    # 64 KiB pages: a 64 MiB pool is not aligned to 512 MiB
    big = resolve_board(
        board(
            'p: pool@60000000 { compatible = "shared-dma-pool"; reusable; '
            "reg = <0 0x60000000 0 0x4000000>; };"
        ),
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_ARM64_64K_PAGES=y\n",
    )
    assert big.cma_alignment == 512 * M and big.region("pool@60000000").status == "rejected"


def test_no_map_with_reusable(resolve_board: Resolve) -> None:
    rmem = (
        'p: pool@60000000 { compatible = "shared-dma-pool"; reusable; no-map; '
        "reg = <0 0x60000000 0 0x400000>; };"
    )
    plan = resolve_board(board(rmem))
    assert plan.region("pool@60000000").status == "rejected"
    assert "cma-nomap-reusable" in codes(plan)


def test_cells_mismatch_ignores_reserved_memory(resolve_board: Resolve) -> None:
    plan = resolve_board(board("a@50000000 { reg = <0x50000000 0x100000>; no-map; };", rmem_cells=1))
    assert "rmem-unsupported-format" in codes(plan)
    assert plan.region("a@50000000").status == "rejected"
    missing_ranges = resolve_board(board("a@50000000 { reg = <0 0x50000000 0 0x100000>; };", ranges=False))
    assert "rmem-unsupported-format" in codes(missing_ranges)


def test_one_cell_size_under_two_cell_root(resolve_board: Resolve) -> None:
    rmem = 'p: pool { compatible = "shared-dma-pool"; reusable; size = <0x1000000>; };'
    plan = resolve_board(board(rmem))
    r = plan.region("pool")
    assert r.status == "rejected" and r.base is None
    bad = [d for d in plan.diagnostics if d.code == "rmem-bad-size"]
    assert bad and bad[0].source is not None and bad[0].source.line is not None


def test_bad_reg_length(resolve_board: Resolve) -> None:
    plan = resolve_board(board("a@50000000 { reg = <0 0x50000000 0x100000>; };"))
    assert plan.region("a@50000000").status == "rejected" and "rmem-bad-reg" in codes(plan)


def test_overlap_detected(resolve_board: Resolve) -> None:
    rmem = (
        "a@50000000 { reg = <0 0x50000000 0 0x200000>; };\nb@50100000 { reg = <0 0x50100000 0 0x200000>; };"
    )
    plan = resolve_board(board(rmem))
    ov = [d for d in plan.diagnostics if d.code == "rmem-overlap"]
    assert len(ov) == 1 and ov[0].severity == "error"
    assert "a@50000000" in ov[0].message and "b@50100000" in ov[0].message


def test_disabled_node_and_devices(resolve_board: Resolve) -> None:
    rmem = (
        'off: off@50000000 { reg = <0 0x50000000 0 0x100000>; status = "disabled"; };\n'
        'vpu: vpu-pool { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>; };'
    )
    extra = (
        'dev1 { memory-region = <&vpu>, <&off>; memory-region-names = "pool", "fw"; };\n'
        "dev2 { memory-region = <0x7777>; };"
    )
    plan = resolve_board(board(rmem, extra=extra))
    assert plan.region("off@50000000").status == "disabled"
    devs = {d.path: d for d in plan.devices}
    assert devs["/dev1"].regions == ("vpu-pool", "off@50000000")
    assert devs["/dev1"].names == ("pool", "fw")
    assert {"device-region-disabled", "device-dangling-region", "rmem-disabled"} <= codes(plan)
    dangling = next(d for d in plan.diagnostics if d.code == "device-dangling-region")
    assert dangling.subject == "/dev2" and dangling.severity == "error"


def test_dynamic_region_that_does_not_fit(resolve_board: Resolve) -> None:
    rmem = (
        'big { compatible = "shared-dma-pool"; reusable; size = <0 0x10000000>; '
        "alloc-ranges = <0 0x40000000 0 0x8000000>; };"
    )
    plan = resolve_board(board(rmem))
    r = plan.region("big")
    assert r.status == "failed" and r.base is None and "rmem-alloc-failed" in codes(plan)


def test_alloc_ranges_and_alignment(resolve_board: Resolve) -> None:
    rmem = (
        "fw { size = <0 0x100000>; alignment = <0 0x1000000>; alloc-ranges = <0 0x50000000 0 0x10000000>; };"
    )
    plan = resolve_board(board(rmem))
    r = plan.region("fw")
    assert (r.base, r.size, r.kind) == (0x5F000000, M, "reserved")


def test_memreserve_before_rmem_until_63(resolve_board: Resolve) -> None:
    text = board(
        "fw@50000000 { reg = <0 0x50000000 0 0x100000>; no-map; };", head="/memreserve/ 0x50000000 0x1000;"
    )
    old = resolve_board(text, kernel_version="6.1")
    assert old.region("fw@50000000").status == "failed" and "rmem-reserve-failed" in codes(old)
    new = resolve_board(text, kernel_version="6.6")
    assert new.region("fw@50000000").status == "ok"
    assert any(r.kind == "memreserve" and r.base == 0x50000000 for r in new.regions)


def test_extra_reg_entries(resolve_board: Resolve) -> None:
    rmem = "two@50000000 { reg = <0 0x50000000 0 0x100000>, <0 0x60000000 0 0x100000>; };"
    plan = resolve_board(board(rmem), kernel_version="6.13")
    r = plan.region("two@50000000")
    assert r.extra_ranges == ((0x60000000, 0x100000),) and "rmem-extra-reg" in codes(plan)


def test_several_defaults(resolve_board: Resolve) -> None:
    rmem = (
        'a { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>; linux,cma-default; };\n'
        'b { compatible = "shared-dma-pool"; reusable; size = <0 0x400000>; linux,cma-default; };'
    )
    plan = resolve_board(board(rmem), kernel_version="6.12")
    assert "cma-multiple-default" in codes(plan)
    assert plan.global_cma.region == "b"


def test_mem_limit_arm64(resolve_board: Resolve) -> None:
    plan = resolve_board(board("", bootargs="mem=1G"))
    assert [(m.base, m.size) for m in plan.memory] == [(0x40000000, 1 << 30)]
    assert "mem-limit" in codes(plan)


def test_crashkernel_below_cma(resolve_board: Resolve) -> None:
    plan = resolve_board(
        board("", bootargs="crashkernel=256M"),
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
        "CONFIG_CMA_SIZE_MBYTES=64\n",
    )
    ck = plan.region("crashkernel")
    # recorded on 6.1 (arm64-6.1-crashkernel): 0xa9a00000, right below the 64 MiB global area
    assert (ck.base, ck.size) == (0xA9A00000, 256 * M)


def test_cma_limit_min_not_zero_until_615() -> None:
    import memplan

    text = board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="cma=64M@0x100000000-0x140000000")
    cfg = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
    old = memplan.resolve(dts=text, arch="arm64", kernel_version="6.15", config=cfg)
    assert (old.global_cma.origin, old.global_cma.size, old.global_cma.status) == ("cmdline", 0, "failed")
    assert "cma-place-failed" in {d.code for d in old.diagnostics}
    new = memplan.resolve(dts=text, arch="arm64", kernel_version="6.16", config=cfg)
    assert new.global_cma.base is not None and new.global_cma.base >= 0x100000000


def test_dram_above_4g_bottom_up_from_512(resolve_board: Resolve) -> None:
    text = board("", memory="reg = <0x8 0x0 0x0 0x80000000>;")
    cfg = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
    new = resolve_board(text, kernel_version="5.12", config=cfg)
    assert new.global_cma.base == 0x800000000
    old = resolve_board(text, kernel_version="5.11", config=cfg)
    assert old.global_cma.base is not None and old.global_cma.base > 0x800000000


def test_arm32_era_c_two_areas() -> None:
    import memplan

    rmem = (
        'linux,cma@60000000 { compatible = "shared-dma-pool"; reusable; reg = <0x60000000 0x4000000>; '
        "linux,cma-default; };"
    )
    text = board(rmem, memory="reg = <0x40000000 0x40000000>;", cells=1, cpu="arm,cortex-a9")
    cfg = "CONFIG_ARM=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_MBYTES=16\n"
    plan = memplan.resolve(dts=text, arch="arm", kernel_version="6.13", config=cfg)
    assert plan.global_cma.origin == "dts" and plan.region("reserved").status == "ok"
    assert "cma-two-areas" in {d.code for d in plan.diagnostics}
    b = memplan.resolve(dts=text, arch="arm", kernel_version="6.6", config=cfg)
    assert not any(r.name == "reserved" for r in b.regions)


def test_x86_memmap_and_memory_map() -> None:
    import memplan

    plan = memplan.resolve(
        cmdline="console=ttyS0 memmap=64M$0x10000000", arch="x86", kernel_version="6.1", memory="2G"
    )
    assert [(m.base, m.end) for m in plan.memory] == [
        (0, 0x9FC00),
        (0x100000, 0x10000000),
        (0x14000000, 0x7FFE0000),
    ]
    mm = [r for r in plan.regions if r.kind == "memmap"]
    assert [(r.base, r.size) for r in mm] == [(0x10000000, 64 * M)]


def test_memmap_ignored_on_arm64(resolve_board: Resolve) -> None:
    plan = resolve_board(board("", bootargs="memmap=64M$0x50000000"))
    assert not any(r.kind == "memmap" for r in plan.regions)
    d = next(d for d in plan.diagnostics if d.code == "cmdline-ignored")
    assert d.severity == "warning" and "memmap" in d.message
    assert d.source is not None and d.source.text == "memmap=64M$0x50000000"


def test_hugetlb_cma_straddling_4g_is_not_activated(resolve_board: Resolve) -> None:
    from memplan.render.dmesg import render_dmesg

    text = board("", memory="reg = <0 0x40000000 0x1 0x0>;", bootargs="hugetlb_cma=1G")
    plan = resolve_board(
        text,
        config="CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"
        "CONFIG_CMA_SIZE_MBYTES=64\n",
    )
    h = plan.region("hugetlb0")
    # recorded on Debian 6.1 (arm64-6.1-hugetlb-cma): 1 GiB at 0xff600000, global area at 0xf7600000
    assert (h.kind, h.base, h.size) == ("hugetlb-cma", 0xFF600000, 1 << 30)
    assert plan.global_cma.base == 0xF7600000
    assert "cma-not-activated" in codes(plan)
    assert render_dmesg(plan).splitlines()[-1] == "cma: CMA area hugetlb0 could not be activated"


def test_dma_ranges_narrow_the_arm64_dma_zone(resolve_board: Resolve) -> None:
    # A bus that can only reach the first GiB (like the Raspberry Pi 4's emmc2bus): from 5.11 the
    # global CMA area must end below 0x40000000.
    extra = """bus { #address-cells = <2>; #size-cells = <1>; ranges;
                    dma-ranges = <0x0 0x0 0x0 0x0 0x40000000>; };"""
    text = board("", memory="reg = <0 0x0 0 0x80000000>;", extra=extra)
    plan = resolve_board(text, kernel_version="6.1")
    g = plan.global_cma
    assert g.base is not None and g.size is not None and g.base + g.size <= 0x40000000
    old = resolve_board(text, kernel_version="5.10")
    assert old.global_cma.base is not None and old.global_cma.base > 0x40000000


@pytest.mark.parametrize(
    ("version", "status"), [("5.10.50", "ok"), ("5.10.223", "failed"), ("5.11.14", "failed")]
)
def test_no_map_over_memreserve_by_stable_release(resolve_board: Resolve, version: str, status: str) -> None:
    # 5.10.89+ / 5.11.14+ carry memblock_mark_nomap (recorded: Debian 5.10.223, arm64-5.10-memreserve-nomap)
    text = board(
        "fw@50000000 { reg = <0 0x50000000 0 0x100000>; no-map; };", head="/memreserve/ 0x50000000 0x1000;"
    )
    assert resolve_board(text, kernel_version=version).region("fw@50000000").status == status


@pytest.mark.parametrize(
    ("version", "base"), [("6.4", 0x88000000), ("6.5", 0x81000000), ("6.13", 0x88000000)]
)
def test_alloc_ranges_contiguity_rule(resolve_board: Resolve, version: str, base: int) -> None:
    # 6.5+: a window that starts at the end of a registered region is searched bottom-up; 6.13+
    # registers static regions only later, so the rule no longer sees them.
    rmem = (
        "fw@80000000 { reg = <0 0x80000000 0 0x1000000>; };\n"
        "buf { size = <0 0x1000000>; alloc-ranges = <0 0x81000000 0 0x8000000>; };"
    )
    assert resolve_board(board(rmem), kernel_version=version).region("buf").base == base


def test_old_style_no_map_region_is_not_reported_outside_ram() -> None:
    # Before v5.12 a static no-map entry is removed from memblock.memory; that removal must not
    # make the region itself look as if it lay outside RAM.
    board = """/dts-v1/;
/ {
    #address-cells = <1>; #size-cells = <1>;
    memory@40000000 { device_type = "memory"; reg = <0x40000000 0x40000000>; };
    reserved-memory {
        #address-cells = <1>; #size-cells = <1>; ranges;
        dsp@52400000 { reg = <0x52400000 0x1000000>; no-map; };
        far@90000000 { reg = <0x90000000 0x100000>; no-map; };
    };
};
"""
    for version in ("5.4", "6.1"):
        plan = memplan.resolve(dts=board, arch="arm64", kernel_version=version)
        outside = {d.subject for d in plan.diagnostics if d.code == "rmem-outside-ram"}
        assert outside == {"/reserved-memory/far@90000000"}, (version, outside)
