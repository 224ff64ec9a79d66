"""32-bit ARM's ``arm_dma_limit``: the limit ``arm_memblock_init()`` passes to
``dma_contiguous_reserve()`` for the global CMA area (kernel-semantics §2.3). The machine
descriptors it depends on are the data table :mod:`memplan.kernel.arm_machines`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memplan.kernel.arm_machines import DMA_ZONE_MACHINES, DmaZoneMachine
from memplan.model import DmaZoneDecision
from memplan.resolve import arm32
from memplan.resolve.inputs import ConfigFacts
from memplan.source import Source
from memplan.units import SZ_4G, format_size

#: ``arm_dma_limit`` with ``CONFIG_ZONE_DMA`` and no machine DMA zone (arch/arm/mm/init.c): the one
#: value :mod:`memplan.resolve.arm32` keeps.
NO_MACHINE_ZONE_LIMIT = arm32.DMA_LIMIT


def match_machine(
    compatible: Sequence[str], machines: Iterable[DmaZoneMachine]
) -> tuple[DmaZoneMachine, str] | None:
    """The machine ``of_flat_dt_match_machine()`` picks among ``machines`` for a root
    ``compatible`` list, with the string that matched: the lowest position (from 1) in the list
    of a string equal, ignoring ASCII case, to one of a machine's ``dt_compat``; the first
    machine on a tie; ``None`` when nothing matches."""
    position: dict[str, int] = {}
    for i, text in enumerate(compatible):
        position.setdefault(text.lower(), i)
    best: tuple[DmaZoneMachine, str] | None = None
    best_score = len(compatible)
    for machine in machines:
        scores = [position[c.lower()] for c in machine.dt_compat if c.lower() in position]
        if scores and min(scores) < best_score:
            best_score = min(scores)
            best = (machine, compatible[best_score])
    return best


def arm_dma_limit(
    compatible: Sequence[str], config: ConfigFacts, phys_offset: int, dram_end: int, phys_64bit: bool
) -> DmaZoneDecision:
    """``arm_dma_limit`` (arch/arm/mm/init.c ``setup_dma_zone()``, arch/arm/mm/mm.h; checked in
    Linux 6.12, used for every version) for a Device Tree whose root has ``compatible``.

    * With ``CONFIG_ZONE_DMA`` and a machine descriptor that has a ``dma_zone_size`` (picked by
      :func:`match_machine` among those the config builds):
      ``PHYS_OFFSET + dma_zone_size - 1``. ``PHYS_OFFSET`` is ``phys_offset``, the start of RAM:
      ``setup_dma_zone()`` runs after the machine's ``pv_fixup`` (keystone moves
      ``PHYS_OFFSET`` to the RAM's high alias above 4 GiB).
    * With ``CONFIG_ZONE_DMA`` and no such machine: ``0xffffffff``.
    * Without ``CONFIG_ZONE_DMA``: ``~0`` of ``phys_addr_t``, so with LPAE no limit below the
      end of memory.

    A symbol the config does not give (no config, or memplan's bundled Kconfig model and a
    config that does not write it) is taken from the machine's own ``select ZONE_DMA``, else
    assumed as the kernel most likely has it: the machine for the board is built, and
    ``ZONE_DMA=y`` (``multi_v7_defconfig`` and Debian's armmp kernels select it through
    ``ARCH_BCM2835``; the LPAE ones also through highbank, omap and others). Those
    assumptions are listed in ``assumed`` when they change the limit. Machines without a DMA
    zone are not in the table: one whose ``dt_compat`` matched an earlier root string would win
    the match in the kernel and leave no zone (none of the 39 Linux 6.12 boards the whole-tree
    lint matches to a table machine has such a compatible list).
    """
    given = {name: (value, src) for name, value, src in config.arm_symbols}
    sources: list[Source] = []
    assumed: list[str] = []

    def state(name: str) -> bool | None:
        if name == "ARM_LPAE":
            return config.lpae
        value = given.get(name, ("", None))[0]
        return None if not value else value in ("y", "m")

    def cite(names: Iterable[str]) -> None:
        for name in names:
            src = given.get(name, ("", None))[1]
            if src is not None and src not in sources:
                sources.append(src)

    full = (1 << 64) - 1 if phys_64bit else 0xFFFFFFFF
    zone_dma = state("ZONE_DMA")
    built = [m for m in DMA_ZONE_MACHINES if all(state(s) is not False for s in m.built_by)]
    hit = match_machine(compatible, built)
    lead = ""
    alias = 0
    if hit is not None:
        machine, compat = hit
        alias = idmap_offset(machine, phys_offset, dram_end)
        cite(s for s in machine.built_by if state(s) is not None)
        assumed.extend(f"CONFIG_{s}=y (builds the {machine.name} machine)"
                       for s in machine.built_by if state(s) is None)
        picked = f"the root compatible '{compat}' picks the {machine.title} machine ({machine.name})"
        selected = ""
        if zone_dma is None:
            selectors = (machine.built_by[0], *(machine.selects_zone_dma_if or ()))
            zone_dma = True
            if machine.selects_zone_dma_if is not None and all(state(s) for s in selectors):
                cite(selectors)
                selected = f" (CONFIG_ZONE_DMA: selected by CONFIG_{machine.built_by[0]})"
            else:
                assumed.append("CONFIG_ZONE_DMA=y")
        else:
            cite(["ZONE_DMA"])
        guard = {s: (zone_dma if s == "ZONE_DMA" else bool(state(s))) for s in machine.guard}
        cite(s for s in machine.guard if s != "ZONE_DMA")
        if all(guard.values()):
            limit = (phys_offset + machine.zone_size - 1) & full
            return DmaZoneDecision(
                limit=limit,
                reason=(f"{picked}, whose DMA zone is {format_size(machine.zone_size)} "
                        f"({machine.where}): arm_dma_limit = PHYS_OFFSET {phys_offset:#x} + "
                        f"{format_size(machine.zone_size)} - 1 = {limit:#x}{selected}"),
                machine=f"{machine.name} ({machine.title})",
                compatible=compat,
                zone_size=machine.zone_size,
                kernel_line=machine.where,
                sources=tuple(sources),
                assumed=tuple(assumed),
                idmap_offset=alias,
            )
        off = " and ".join(f"CONFIG_{s}" for s, on in guard.items() if not on)
        lead = f"{picked}, but its dma_zone_size is compiled out without {off}; "
    if zone_dma is None:
        if phys_64bit and dram_end > SZ_4G:
            assumed.append("CONFIG_ZONE_DMA=y")
        zone_dma = True
    elif hit is None:
        cite(["ZONE_DMA"])
    if zone_dma:
        reason = "no machine DMA zone" if not lead else "no DMA zone"
        return DmaZoneDecision(
            limit=NO_MACHINE_ZONE_LIMIT,
            reason=f"{lead}{reason}: arm_dma_limit = {NO_MACHINE_ZONE_LIMIT:#x}",
            sources=tuple(sources),
            assumed=tuple(assumed),
            idmap_offset=alias,
        )
    return DmaZoneDecision(
        limit=full,
        reason=(f"{lead}CONFIG_ZONE_DMA is off: arm_dma_limit is ~0 ({full:#x}), no limit below the "
                "end of memory"),
        sources=tuple(sources),
        assumed=tuple(assumed),
        idmap_offset=alias,
    )


def idmap_offset(machine: DmaZoneMachine, dram_start: int, dram_end: int) -> int:
    """How far the machine's ``pv_fixup`` moves ``PHYS_OFFSET`` (keystone: from the 32-bit alias
    to the RAM's high alias when all RAM lies there, arch/arm/mach-keystone/keystone.c
    ``keystone_pv_fixup()``); 0 when it does not. The kernel compares the end of memory (one
    past the last byte) with the last byte of the alias, so RAM reaching its very end is
    refused ("Invalid address space for memory")."""
    if machine.pv_fixup_alias is None:
        return 0
    low, high, size = machine.pv_fixup_alias
    return high - low if high <= dram_start and dram_end <= high + size - 1 else 0


__all__ = ["NO_MACHINE_ZONE_LIMIT", "arm_dma_limit", "idmap_offset", "match_machine"]
