"""The 32-bit ARM machine descriptors that give the machine a DMA zone (``.dma_zone_size``).

Data only; the rule that reads it is :func:`memplan.resolve.arm_dma.arm_dma_limit`.

A Device Tree kernel picks one machine descriptor (``DT_MACHINE_START``) at boot:
``of_flat_dt_match_machine()`` (drivers/of/fdt.c) scores each descriptor built into the kernel
by the position, counted from 1, of the first root ``compatible`` string that equals one of the
descriptor's ``dt_compat`` strings (``strcasecmp``); the lowest score wins, the first descriptor
in link order on a tie, and no match at all leaves the generic DT machine (no DMA zone).
``setup_dma_zone()`` (arch/arm/mm/init.c) then sets, with ``CONFIG_ZONE_DMA``,
``arm_dma_limit = PHYS_OFFSET + dma_zone_size - 1`` when the descriptor has a size. Most of the
sizes below are themselves under ``#if`` guards.

Checked against Linux 6.12 (every ``dma_zone_size`` in arch/arm, the ``dt_compat`` lists, the
``#if`` guards, the Makefile lines that build each file and the Kconfig ``select ZONE_DMA``
lines). Not checked: other releases (the table is used for every version). Older releases had
more: a public copy of arch/arm/mach-prima2/common.c gives ``PRIMA2_DT`` (``"sirf,prima2"``,
256 MiB, no guard), a platform Linux 6.12 no longer has; which releases that covers was not
checked, and it is not in the table. The sa1100 machines (assabet, jornada720: 1 MiB) are left
out because they boot from ATAGs, not a Device Tree.
"""

from __future__ import annotations

import attrs

from memplan.units import GiB as G
from memplan.units import MiB as M


@attrs.frozen
class DmaZoneMachine:
    """One machine descriptor with a ``dma_zone_size``.

    * ``name``: the descriptor's name (``DT_MACHINE_START(name, title)``) and ``title``.
    * ``dt_compat``: the root ``compatible`` strings it claims, in the kernel's order.
    * ``zone_size``: ``dma_zone_size`` in bytes.
    * ``built_by``: the Kconfig symbols that must all be ``y`` for the descriptor to be in the
      kernel with a non-empty ``dt_compat`` list.
    * ``guard``: the symbols of the ``#if`` around ``.dma_zone_size`` (all must be ``y``).
    * ``selects_zone_dma_if``: the symbols under which ``built_by[0]`` itself selects
      ``ZONE_DMA`` (``None``: it does not).
    * ``where``: kernel file and line of ``.dma_zone_size`` (Linux 6.12).
    * ``pv_fixup_alias``: ``(low, high, size)`` when the machine's ``pv_fixup`` moves
      ``PHYS_OFFSET`` from the 32-bit alias ``low`` of its RAM to ``high`` (all RAM within
      ``[high, high + size)``); the boot identity map stays at the low alias, so
      ``idmap_to_phys()`` adds ``high - low``.
    """

    name: str
    title: str
    dt_compat: tuple[str, ...]
    zone_size: int
    built_by: tuple[str, ...]
    guard: tuple[str, ...]
    selects_zone_dma_if: tuple[str, ...] | None
    where: str
    pv_fixup_alias: tuple[int, int, int] | None = None


#: In the kernel's link order (arch/arm/Makefile ``machine-y``: bcm, highbank, keystone, omap2,
#: versatile), which decides a tie.
DMA_ZONE_MACHINES: tuple[DmaZoneMachine, ...] = (
    DmaZoneMachine(
        "BCM2711", "BCM2711", ("brcm,bcm2711",), 1 * G,
        built_by=("ARCH_BCM2835", "ARCH_MULTI_V7"),  # the compat string is under #ifdef ARCH_MULTI_V7
        guard=("ZONE_DMA",),
        selects_zone_dma_if=("ARCH_MULTI_V7",),  # arch/arm/mach-bcm/Kconfig:157
        where="arch/arm/mach-bcm/bcm2711.c:21",
    ),
    DmaZoneMachine(
        "HIGHBANK", "Highbank", ("calxeda,highbank", "calxeda,ecx-2000"), 4 * G,
        built_by=("ARCH_HIGHBANK",),
        guard=("ZONE_DMA", "ARM_LPAE"),
        selects_zone_dma_if=("ARM_LPAE",),  # arch/arm/mach-highbank/Kconfig:17
        where="arch/arm/mach-highbank/highbank.c:166",
    ),
    DmaZoneMachine(
        "KEYSTONE", "Keystone", ("ti,k2hk", "ti,k2e", "ti,k2l", "ti,k2g", "ti,keystone"), 2 * G,
        built_by=("ARCH_KEYSTONE",),
        guard=("ZONE_DMA", "ARM_LPAE"),
        selects_zone_dma_if=("ARM_LPAE",),  # arch/arm/mach-keystone/Kconfig:11
        where="arch/arm/mach-keystone/keystone.c:143",
        # keystone.c:25-33 and keystone_pv_fixup() (keystone.c:104): 16 GiB at 0x8_0000_0000
        pv_fixup_alias=(0x8000_0000, 0x8_0000_0000, 0x4_0000_0000),
    ),
    DmaZoneMachine(
        "OMAP5_DT", "Generic OMAP5 (Flattened Device Tree)",
        ("ti,omap5432", "ti,omap5430", "ti,omap5"), 2 * G,
        built_by=("SOC_OMAP5",),  # board-generic.c (MACH_OMAP_GENERIC), #ifdef CONFIG_SOC_OMAP5
        guard=("ZONE_DMA", "ARM_LPAE"),
        selects_zone_dma_if=("ARM_LPAE",),  # arch/arm/mach-omap2/Kconfig:59
        where="arch/arm/mach-omap2/board-generic.c:293",
    ),
    DmaZoneMachine(
        "DRA74X_DT", "Generic DRA74X (Flattened Device Tree)",
        ("ti,dra762", "ti,am5728", "ti,am5726", "ti,dra742", "ti,dra7"), 2 * G,
        built_by=("SOC_DRA7XX",),
        guard=("ZONE_DMA", "ARM_LPAE"),
        selects_zone_dma_if=("ARM_LPAE",),  # arch/arm/mach-omap2/Kconfig:94
        where="arch/arm/mach-omap2/board-generic.c:342",
    ),
    DmaZoneMachine(
        "DRA72X_DT", "Generic DRA72X (Flattened Device Tree)",
        ("ti,am5718", "ti,am5716", "ti,dra722", "ti,dra718"), 2 * G,
        built_by=("SOC_DRA7XX",),
        guard=("ZONE_DMA", "ARM_LPAE"),
        selects_zone_dma_if=("ARM_LPAE",),
        where="arch/arm/mach-omap2/board-generic.c:366",
    ),
    DmaZoneMachine(
        "REALVIEW_DT", "ARM RealView Machine (Device Tree Support)",
        ("arm,realview-eb", "arm,realview-pb1176", "arm,realview-pba8", "arm,realview-pbx"), 256 * M,
        built_by=("ARCH_REALVIEW",),
        guard=("ZONE_DMA",),
        selects_zone_dma_if=None,  # only MACH_REALVIEW_PBX selects ZONE_DMA (mach-versatile/Kconfig:225)
        where="arch/arm/mach-versatile/realview.c:19",
    ),
)

#: Every Kconfig symbol the table names (what the resolver reads from a ``.config``).
SYMBOLS: tuple[str, ...] = tuple(sorted({
    s for m in DMA_ZONE_MACHINES for s in (*m.built_by, *m.guard, *(m.selects_zone_dma_if or ()))
}))

__all__ = ["DMA_ZONE_MACHINES", "SYMBOLS", "DmaZoneMachine"]
