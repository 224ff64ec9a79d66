"""Architecture facts the boot steps share: physical address width, the DMA zone limit, zone
boundaries and arm32 highmem (kernel-semantics §2.3)."""

from __future__ import annotations

from memplan.kernel import rules
from memplan.resolve import arm32
from memplan.resolve.memblock import Memblock
from memplan.units import SZ_4G
from memplan.units import MiB as M
from memplan.version import KernelVersion


def is_64bit(arch: str, lpae: bool) -> bool:
    """64-bit ``phys_addr_t``: arm64, x86-64, riscv64, and arm with LPAE."""
    return arch in ("arm64", "x86", "riscv") or (arch == "arm" and lpae)


def zone_dma_bits(dma_max_cpu_address: int | None) -> int:
    """arm64 ≥ 5.11 ``zone_dma_bits``: ``min(32, fls64(of_dma_get_max_cpu_address(NULL)))``."""
    if dma_max_cpu_address is None:
        return 32
    return min(32, dma_max_cpu_address.bit_length())


def arch_dma_limit(arch: str, version: KernelVersion, mb: Memblock, dma_bits: int = 32,
                   arm_limit: int | None = None) -> int:
    """The limit ``dma_contiguous_reserve()`` gets (kernel-semantics §2.3).

    arm64 ≥ 5.11 ``arm64_dma_phys_limit`` (``max_zone_phys(zone_dma_bits)``: ``dma_bits`` comes from
    the DT ``dma-ranges``, at most 32; capped when DRAM starts below 4 GiB, else the end of DRAM);
    arm64 ≤ 5.10 the first 4 GiB window of DRAM; riscv ``dma32_phys_limit`` (4 GiB); arm
    ``arm_dma_limit``, decided by :func:`memplan.resolve.arm_dma.arm_dma_limit` and passed as
    ``arm_limit`` (``0xffffffff`` when not given: no machine DMA zone); x86 all mapped RAM.
    """
    start, end = mb.start_of_dram(), mb.end_of_dram()
    if arch == "arm64":
        if rules.arm64_zone_dma_from_dt(version):
            mask = (1 << dma_bits) - 1
            if start > 0xFFFFFFFF:
                return end
            if start > mask:
                mask = 0xFFFFFFFF
            return min(mask, end - 1) + 1 if end else 0
        window = start & ~0xFFFFFFFF
        return min(window + SZ_4G, end)
    if arch == "riscv":
        return min(SZ_4G, end)
    if arch == "arm":
        # The CMA code rounds the limit down to its granule (armmp-6.12-kconfig-4g: 0xfe800000,
        # armmp-lpae-6.12-kconfig-3g: 0xfee00000).
        return arm_limit if arm_limit is not None else arm32.DMA_LIMIT
    return end


def arm32_highmem_start(mb: Memblock, lowmem: int | None) -> int | None:
    """Where arm32 highmem starts (:func:`memplan.resolve.arm32.lowmem_size`: from the memory
    split in the config and the default vmalloc size; 768 MiB for the standard 3G/1G split)."""
    if mb.phys_mem_size() == 0 or lowmem is None:
        return None
    return arm32.highmem_start(mb.start_of_dram(), mb.end_of_dram(), lowmem)


def zone_boundaries(
    arch: str, version: KernelVersion, mb: Memblock, dma_bits: int, arm32_lowmem: int | None = None
) -> list[int]:
    """Physical addresses where one memory zone ends and the next begins (inside RAM).

    arm64: the end of ZONE_DMA (``arm64_dma_phys_limit``) and 4 GiB (ZONE_DMA32); riscv and
    x86-64: 4 GiB (and 16 MiB on x86, ZONE_DMA); arm32: the start of highmem."""
    if arch == "arm64":
        marks = {arch_dma_limit(arch, version, mb, dma_bits), SZ_4G}
    elif arch == "riscv":
        marks = {SZ_4G}
    elif arch == "x86":
        marks = {16 * M, SZ_4G}
    elif arch == "arm":
        hs = arm32_highmem_start(mb, arm32_lowmem)
        marks = {hs} if hs is not None else set()
    else:
        marks = set()
    start, end = mb.start_of_dram(), mb.end_of_dram()
    return sorted(m for m in marks if start < m < end)
