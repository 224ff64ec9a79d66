"""32-bit ARM ``arm_dma_limit``: machines with a DMA zone (keystone, bcm2711 ...), kernels without
``CONFIG_ZONE_DMA`` and the global CMA area they limit (memplan.resolve.arm_dma,
memplan.kernel.arm_machines). Expected addresses are derived by hand from arch/arm/mm/init.c
``setup_dma_zone()`` and mm/cma.c ``cma_declare_contiguous_nid()`` (Linux 6.12)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import memplan
from memplan.kernel.arm_machines import DMA_ZONE_MACHINES, SYMBOLS, DmaZoneMachine
from memplan.plan import Plan
from memplan.resolve.arm_dma import match_machine
from memplan.units import GiB as G

M = 1 << 20
#: keystone_defconfig-like: LPAE, HIGHMEM, no HUGETLB_PAGE and no forced order, so the CMA granule is
#: 4 MiB (max order 10); CONFIG_ZONE_DMA is not written: ARCH_KEYSTONE selects it with ARM_LPAE.
KEYSTONE = ("CONFIG_ARM=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HIGHMEM=y\nCONFIG_ARM_LPAE=y\n"
            "CONFIG_ARCH_KEYSTONE=y\n")
#: armmp-like (8 MiB granule, 3G/1G split, 32-bit phys_addr_t).
ARMMP = ("CONFIG_ARM=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HIGHMEM=y\nCONFIG_ARCH_FORCE_MAX_ORDER=11\n"
         "CONFIG_VMSPLIT_3G=y\nCONFIG_PAGE_OFFSET=0xC0000000\n")
BCM2835 = ARMMP + "CONFIG_ARCH_MULTI_V7=y\nCONFIG_ARCH_BCM2835=y\n"
#: armmp-lpae-like: 2 MiB granule.
LPAE = ARMMP + "CONFIG_ARM_LPAE=y\nCONFIG_HUGETLBFS=y\nCONFIG_HUGETLB_PAGE=y\n"
K2G = '"ti,k2g-evm", "ti,k2g", "ti,keystone"'
RPI4 = '"raspberry,4-model-b", "brcm,bcm2711"'
VIRT = '"linux,dummy-virt"'


def dts(compatible: str, base: int, size: int, bootargs: str = "") -> str:
    chosen = f'chosen {{ bootargs = "{bootargs}"; }};' if bootargs else ""
    return f"""/dts-v1/;
/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = {compatible};
    {chosen}
    memory@{base:x} {{ device_type = "memory";
        reg = <0x{base >> 32:x} 0x{base & 0xFFFFFFFF:x} 0x{size >> 32:x} 0x{size & 0xFFFFFFFF:x}>; }};
}};
"""


def arm(text: str, config: str | None) -> Plan:
    return memplan.resolve(dts=text, arch="arm", kernel_version="6.12.117", config=config)


def cma(plan: Plan) -> tuple[object, ...]:
    g = plan.global_cma
    return g.status, g.base, g.size


def codes(plan: Plan) -> set[str]:
    return {d.code for d in plan.diagnostics}


# ---- keystone: RAM only at the high alias, PHYS_OFFSET moved there by keystone_pv_fixup --------
def test_keystone_k2g_places_its_cma_area_in_the_dma_zone() -> None:
    """k2g-evm: 2 GiB at 0x8_0000_0000, keystone_defconfig (the whole-tree lint's cma-place-failed).

    arm_dma_limit = PHYS_OFFSET 0x800000000 + SZ_2G - 1 = 0x87fffffff; cma_declare_contiguous_nid
    rounds it down to the 4 MiB granule: 0x87fc00000 (below the end of memory 0x880000000, so it
    stays). 64-bit phys_addr_t and end of memory >= 4 GiB + 16 MiB: the bottom-up attempt searches
    [4 GiB, 0x87fc00000) and takes the lowest free 16 MiB, 0x800000000 (memplan does not model the
    kernel image the boot put at the start of RAM; on a real board the area starts at the first
    4 MiB boundary above it). With the old limit 0xffffffff (0xffc00000 rounded) every attempt
    searched below 4 GiB, where this board has no RAM, and the area failed."""
    plan = arm(dts(K2G, 0x8_0000_0000, 2 * G), KEYSTONE)
    assert cma(plan) == ("ok", 0x8_0000_0000, 16 * M)
    assert "cma-place-failed" not in codes(plan)
    zone = plan.arch_model.dma_zone if plan.arch_model else None
    assert zone is not None
    assert (zone.limit, zone.machine, zone.compatible, zone.zone_size) == (
        0x8_7FFF_FFFF, "KEYSTONE (Keystone)", "ti,k2g", 2 * G)
    assert zone.kernel_line == "arch/arm/mach-keystone/keystone.c:143"
    assert zone.assumed == ()  # ZONE_DMA: ARCH_KEYSTONE selects it when ARM_LPAE is on
    assert {src.line for src in zone.sources} == {5, 6}  # the ARM_LPAE and ARCH_KEYSTONE lines
    assert zone.reason.endswith("(CONFIG_ZONE_DMA: selected by CONFIG_ARCH_KEYSTONE)")


@pytest.mark.parametrize(("at", "ok"), [(0x8_7EC0_0000, True), (0x8_7F00_0000, False)])
def test_keystone_limit_is_the_rounded_zone_end(at: int, ok: bool) -> None:
    """cma=16M@base: dma_contiguous_reserve() keeps the arch limit (no cma= limit), rounded to
    0x87fc00000; base + size must not pass it ("Size ... exceeds limit"): 0x87ec00000 + 16 MiB ends
    exactly there, 0x87f000000 + 16 MiB does not fit. With 4 GiB of RAM the end of memory
    (0x900000000) is not what stops it."""
    plan = arm(dts(K2G, 0x8_0000_0000, 4 * G, bootargs=f"cma=16M@{at:#x}"), KEYSTONE)
    assert (plan.global_cma.status == "ok") is ok
    if not ok:
        assert any("exceeds limit (0x87fc00000)" in (r.reason or "") for r in plan.regions)


def test_keystone_without_lpae_has_no_zone() -> None:
    """RAM at the low alias and no LPAE: the descriptor's dma_zone_size is under
    ``#if defined(CONFIG_ZONE_DMA) && defined(CONFIG_ARM_LPAE)``: arm_dma_limit stays 0xffffffff,
    and the area goes to the top of highmem as on any machine."""
    config = KEYSTONE.replace("CONFIG_ARM_LPAE=y\n", "CONFIG_ZONE_DMA=y\n")
    plan = arm(dts(K2G, 0x8000_0000, 2 * G), config)
    zone = plan.arch_model.dma_zone if plan.arch_model else None
    assert zone is not None and zone.limit == 0xFFFF_FFFF and zone.machine is None
    assert "compiled out without CONFIG_ARM_LPAE" in zone.reason
    # 0xffffffff rounded to 4 MiB: 0xffc00000, below the end of memory (the 32-bit bank is capped
    # at 0xffffffff); highmem [0xb0000000, 0xffc00000) top-down: 0xfec00000
    assert cma(plan) == ("ok", 0xFEC0_0000, 16 * M)


# ---- bcm2711: a 1 GiB zone from PHYS_OFFSET 0 ------------------------------------------------
def test_bcm2711_zone_keeps_the_area_below_1g() -> None:
    """Raspberry Pi 4 style, 2 GiB at 0, multi_v7-like config with ARCH_BCM2835.

    arm_dma_limit = 0 + SZ_1G - 1 = 0x3fffffff, rounded to the 8 MiB granule: 0x3f800000. Lowmem
    ends 768 MiB above PHYS_OFFSET (0x30000000), inside [0, limit): highmem first, top-down in
    [0x30000000, 0x3f800000): 0x3e800000. Without the machine the limit is the end of memory and
    the area sits at the top of highmem, 0x7f000000."""
    plan = arm(dts(RPI4, 0, 2 * G), BCM2835)
    assert cma(plan) == ("ok", 0x3E80_0000, 16 * M)
    zone = plan.arch_model.dma_zone if plan.arch_model else None
    assert zone is not None and (zone.limit, zone.machine) == (0x3FFF_FFFF, "BCM2711 (BCM2711)")
    assert "arm_dma_limit = PHYS_OFFSET 0x0 + 1 GiB - 1 = 0x3fffffff" in plan.explain()
    not_built = BCM2835.replace("CONFIG_ARCH_BCM2835=y\n", "# CONFIG_ARCH_BCM2835 is not set\n")
    plan = arm(dts(RPI4, 0, 2 * G), not_built)
    assert cma(plan) == ("ok", 0x7F00_0000, 16 * M)
    assert plan.arch_model is not None and plan.arch_model.dma_zone is not None
    assert plan.arch_model.dma_zone.machine is None


def test_bcm2711_without_a_config_assumes_the_machine_and_says_so() -> None:
    """No .config: the machine for the board is assumed built and ZONE_DMA on (the note lists
    them). Granule 4 MiB (no forced order, no HUGETLB_PAGE): limit 0x3fc00000, highmem first:
    0x3ec00000."""
    plan = arm(dts(RPI4, 0, 2 * G), None)
    assert cma(plan) == ("ok", 0x3EC0_0000, 16 * M)
    notes = [d for d in plan.diagnostics if d.code == "arm-dma-zone-assumed"]
    assert len(notes) == 1 and notes[0].severity == "info"
    for symbol in ("CONFIG_ARCH_BCM2835=y", "CONFIG_ARCH_MULTI_V7=y", "CONFIG_ZONE_DMA=y"):
        assert symbol in notes[0].message
    assert "Assumed (the config does not say)" in plan.explain()


# ---- LPAE without a machine zone: CONFIG_ZONE_DMA decides ----------------------------------
@pytest.mark.parametrize(("zone_line", "base", "note"), [
    # ~0 of a 64-bit phys_addr_t: no limit below the end of memory (0x1c0000000): the bottom-up
    # attempt searches [4 GiB, 0x1c0000000) and takes 4 GiB
    ("# CONFIG_ZONE_DMA is not set\n", 0x1_0000_0000, False),
    # 0xffffffff rounded to 2 MiB: 0xffe00000; [4 GiB, 0xffe00000) is empty, highmem
    # [0x70000000, 0xffe00000) top-down: 0xfee00000 (recorded boot armmp-lpae-6.12-kconfig-3g)
    ("CONFIG_ZONE_DMA=y\n", 0xFEE0_0000, False),
    # not written: assumed on, with a note (RAM above 4 GiB makes it matter)
    ("", 0xFEE0_0000, True),
])
def test_lpae_without_zone_dma_has_no_limit(zone_line: str, base: int, note: bool) -> None:
    plan = arm(dts(VIRT, 0x4000_0000, 6 * G), LPAE + zone_line)
    assert cma(plan) == ("ok", base, 16 * M)
    assert ("arm-dma-zone-assumed" in codes(plan)) is note
    zone = plan.arch_model.dma_zone if plan.arch_model else None
    assert zone is not None and zone.limit == (0xFFFF_FFFF if base < 1 << 32 else (1 << 64) - 1)


def test_no_machine_and_no_lpae_needs_no_assumption() -> None:
    """32-bit phys_addr_t: with or without ZONE_DMA the limit is 0xffffffff, so nothing is assumed."""
    plan = arm(dts(VIRT, 0x4000_0000, 2 * G), ARMMP)
    assert "arm-dma-zone-assumed" not in codes(plan)
    assert plan.arch_model is not None and plan.arch_model.dma_zone is not None
    assert plan.arch_model.dma_zone.limit == 0xFFFF_FFFF


# ---- the machine match --------------------------------------------------------------------
def test_match_machine_scores_by_position_in_the_root_list() -> None:
    """of_flat_dt_match_machine: the earliest root string wins, case does not matter."""
    assert match_machine(("ti,am5728", "ti,dra742", "ti,dra7"), DMA_ZONE_MACHINES) == (
        DMA_ZONE_MACHINES[4], "ti,am5728")
    assert match_machine(("board", "TI,K2G"), DMA_ZONE_MACHINES) == (DMA_ZONE_MACHINES[2], "TI,K2G")
    assert match_machine(("ti,keystone", "brcm,bcm2711"), DMA_ZONE_MACHINES) == (
        DMA_ZONE_MACHINES[2], "ti,keystone")
    assert match_machine(("brcm,bcm2711", "ti,keystone"), DMA_ZONE_MACHINES) == (
        DMA_ZONE_MACHINES[0], "brcm,bcm2711")
    assert match_machine(("linux,dummy-virt",), DMA_ZONE_MACHINES) is None
    assert match_machine((), DMA_ZONE_MACHINES) is None


def test_match_machine_tie_goes_to_the_first_descriptor() -> None:
    one = DmaZoneMachine("A", "A", ("x,soc",), G, ("A",), ("ZONE_DMA",), None, "a.c:1")
    two = DmaZoneMachine("B", "B", ("x,soc", "x,board"), G, ("B",), ("ZONE_DMA",), None, "b.c:1")
    assert match_machine(("x,board", "x,soc"), (one, two)) == (two, "x,board")
    assert match_machine(("x,soc",), (one, two)) == (one, "x,soc")
    assert match_machine(("x,soc",), (two, one)) == (two, "x,soc")


def test_table_names_every_symbol_it_reads() -> None:
    assert set(SYMBOLS) >= {"ZONE_DMA", "ARM_LPAE", "ARCH_KEYSTONE", "ARCH_BCM2835", "ARCH_MULTI_V7"}
    assert all(m.built_by and m.guard[0] == "ZONE_DMA" for m in DMA_ZONE_MACHINES)


LINUX = Path(os.environ.get("MEMPLAN_KERNEL_TREE", "/work/linux-6.12"))


@pytest.mark.skipif(not (LINUX / "arch/arm/mm/init.c").is_file(), reason="no Linux tree")
def test_table_agrees_with_the_kernel_tree() -> None:
    """Every DT machine descriptor of arch/arm with a dma_zone_size is in the table, at the
    recorded line, with its dt_compat strings and its #if guard (only sa1100 boots from ATAGs)."""
    found = {}
    for path in sorted((LINUX / "arch/arm").glob("mach-*/*.c")):
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if ".dma_zone_size" in line and "mach-sa1100" not in str(path):
                found[f"{path.relative_to(LINUX)}:{i + 1}"] = (path, lines, i)
    assert set(found) == {m.where for m in DMA_ZONE_MACHINES}
    for m in DMA_ZONE_MACHINES:
        path, lines, i = found[m.where]
        start = max(k for k in range(i + 1) if "DT_MACHINE_START(" in lines[k])
        assert re.search(rf"DT_MACHINE_START\({m.name},\s*\"{re.escape(m.title)}\"\)", lines[start])
        guard = lines[i - 1]
        assert all(f"CONFIG_{s}" in guard for s in m.guard), guard
        text = "\n".join(lines)
        table = re.search(r"\.dt_compat\s*=\s*(\w+)", "\n".join(lines[start:start + 20]))
        assert table is not None
        body = re.search(rf"{table.group(1)}\[\]\s*(?:__initconst\s*)?=\s*\{{(.*?)\}};", text, re.S)
        assert body is not None
        assert tuple(re.findall(r'"([^"]+)"', body.group(1))) == m.dt_compat


def test_keystone_placement_says_the_kernel_image_is_not_modelled() -> None:
    plan = arm(dts(K2G, 0x8_0000_0000, 2 * G), KEYSTONE)
    (area,) = [r for r in plan.regions if r.name == "reserved"]
    assert area.reason is not None and "the kernel image occupies the start of RAM" in area.reason


PBX = '"arm,realview-pbx"'
RV_ZONE = 0x4000_0000 + 256 * M - 1  # PHYS_OFFSET 0x40000000 + SZ_256M - 1


@pytest.mark.parametrize(("compatible", "config", "limit", "assumed"), [
    # the machine is built but CONFIG_ZONE_DMA is off: its dma_zone_size is compiled out
    (RPI4, BCM2835 + "# CONFIG_ZONE_DMA is not set\n", 0xFFFF_FFFF, ()),
    # RealView: ARCH_REALVIEW does not select ZONE_DMA (only MACH_REALVIEW_PBX does), so a config
    # that does not say leaves it assumed
    (PBX, ARMMP + "CONFIG_ARCH_REALVIEW=y\n", RV_ZONE, ("CONFIG_ZONE_DMA=y",)),
    (PBX, ARMMP + "CONFIG_ARCH_REALVIEW=y\nCONFIG_ZONE_DMA=y\n", RV_ZONE, ()),
    # the machine's symbol is off: no machine, whatever the compatible
    (PBX, ARMMP + "# CONFIG_ARCH_REALVIEW is not set\n", 0xFFFF_FFFF, ()),
])
def test_config_decides_the_machine_zone(
    compatible: str, config: str, limit: int, assumed: tuple[str, ...]
) -> None:
    plan = arm(dts(compatible, 0x4000_0000, 1 * G), config)
    zone = plan.arch_model.dma_zone if plan.arch_model else None
    assert zone is not None and (zone.limit, zone.assumed) == (limit, assumed)
    assert ("arm-dma-zone-assumed" in codes(plan)) is bool(assumed)
