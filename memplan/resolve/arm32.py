"""32-bit ARM memory facts the resolver needs (kernel-semantics §12, recorded boots armmp-6.12-*
and armmp-lpae-6.12-* under ``tests/kernel/fixtures``).

* Lowmem ends ``VMALLOC_END - vmalloc size - VMALLOC_OFFSET`` above ``PAGE_OFFSET`` in virtual
  addresses (arch/arm/mm/mmu.c ``adjust_lowmem_bounds()``), i.e. at ``PHYS_OFFSET + that size``:
  768 MiB with the standard 3G/1G split and the default 240 MiB of vmalloc space. ``vmalloc=``
  sets the vmalloc size (``early_vmalloc()``): at least 16 MiB, at most what leaves 32 MiB of
  lowmem; the limit is not rounded (``vmalloc=301M``: highmem starts at 0x6c300000; recorded
  boots ``armmp*-6.12-vmalloc-*``).
* ``arm_dma_limit`` (arch/arm/mm/init.c) is ``0xffffffff`` with ``CONFIG_ZONE_DMA`` on machines
  without a DMA zone size (QEMU ``virt``): the global CMA area's limit is 4 GiB - 1, which
  ``cma_declare_contiguous_nid()`` rounds down to the CMA granule, so with RAM reaching 4 GiB
  the area ends one granule below 4 GiB. Machines with a DMA zone and kernels without
  ``CONFIG_ZONE_DMA``: :mod:`memplan.resolve.arm_dma`.
* A 32-bit ``phys_addr_t`` (no LPAE) drops DT memory at and above 4 GiB and caps a bank that
  reaches it at ``PHYS_ADDR_MAX`` (drivers/of/fdt.c ``early_init_dt_add_memory_arch``).
"""

from __future__ import annotations

from collections.abc import Mapping

from memplan.units import MiB as M
from memplan.units import format_size

#: arch/arm/include/asm/pgtable.h (all versions): ``VMALLOC_END`` and ``VMALLOC_OFFSET``.
VMALLOC_END = 0xFF800000
VMALLOC_OFFSET = 8 * M
#: arch/arm/mm/mmu.c: the vmalloc space reserved by default (``vmalloc=`` changes it).
DEFAULT_VMALLOC_SIZE = 240 * M
#: ``early_vmalloc()``: the smallest vmalloc size, and the lowmem a larger one must leave.
MIN_VMALLOC_SIZE = 16 * M
MIN_LOWMEM = 32 * M
#: ``CONFIG_PAGE_OFFSET`` by memory split (arch/arm/Kconfig), for a config that lacks the value.
VMSPLIT_PAGE_OFFSET: tuple[tuple[str, int], ...] = (
    ("VMSPLIT_1G", 0x40000000),
    ("VMSPLIT_2G", 0x80000000),
    ("VMSPLIT_3G_OPT", 0xB0000000),
    ("VMSPLIT_3G", 0xC0000000),
)
DEFAULT_PAGE_OFFSET = 0xC0000000
#: ``arm_dma_limit`` with ``CONFIG_ZONE_DMA`` and no machine DMA zone (``setup_dma_zone()``): the
#: last byte below 4 GiB.
DMA_LIMIT = 0xFFFFFFFF
#: ``PHYS_ADDR_MAX`` of a 32-bit ``phys_addr_t``.
PHYS_ADDR_MAX_32 = 0xFFFFFFFF
#: arm's ``dma_contiguous_remap()`` works on whole 2 MiB sections (``SECTION_SIZE`` x 2 with the
#: classic page tables, ``PMD_SIZE`` with LPAE).
REMAP_GRANULE = 2 * M


def page_offset(values: Mapping[str, str]) -> int:
    """``CONFIG_PAGE_OFFSET`` from the config's values (or its VMSPLIT choice)."""
    text = values.get("PAGE_OFFSET", "")
    try:
        return int(text, 0)
    except ValueError:
        pass
    for symbol, offset in VMSPLIT_PAGE_OFFSET:
        if values.get(symbol) == "y":
            return offset
    return DEFAULT_PAGE_OFFSET


def vmalloc_size(requested: int | None, page_offset: int) -> tuple[int, str | None]:
    """The vmalloc size the kernel uses for ``vmalloc=requested`` (``None``: not given) and,
    when it was raised or lowered, why (the kernel warns "vmalloc area is too small/big").

    The value is an ``unsigned long`` (32 bits on arm): ``memparse`` results wrap."""
    if requested is None:
        return DEFAULT_VMALLOC_SIZE, None
    size = requested & 0xFFFFFFFF
    if size < MIN_VMALLOC_SIZE:
        least = format_size(MIN_VMALLOC_SIZE)
        return MIN_VMALLOC_SIZE, f"below the {least} minimum: the kernel uses {least}"
    most = VMALLOC_END - (page_offset + MIN_LOWMEM + VMALLOC_OFFSET)
    if size > most:
        return most, (f"above the maximum for PAGE_OFFSET {page_offset:#x}: the kernel uses "
                      f"{format_size(most)} ({format_size(MIN_LOWMEM)} of lowmem remain)")
    return size, None


def lowmem_size(page_offset: int, vmalloc: int = DEFAULT_VMALLOC_SIZE) -> int:
    """How much RAM from the start of DRAM the kernel maps linearly (lowmem) for
    ``CONFIG_PAGE_OFFSET`` = ``page_offset`` and a vmalloc area of ``vmalloc`` bytes (as
    :func:`vmalloc_size` returns it)."""
    return VMALLOC_END - vmalloc - VMALLOC_OFFSET - page_offset


def highmem_start(dram_start: int, dram_end: int, lowmem: int) -> int | None:
    """Where highmem starts (``lowmem`` bytes above the start of DRAM), or None when all RAM is
    lowmem."""
    end = dram_start + lowmem
    return end if dram_end > end else None


def cap_bank_32bit(base: int, size: int) -> tuple[int, int, str | None]:
    """A DT memory bank as a 32-bit ``phys_addr_t`` kernel keeps it: ``(base, size, why)``;
    size 0 when the bank lies at or above 4 GiB; ``why`` says what was dropped."""
    if base > PHYS_ADDR_MAX_32:
        return base, 0, f"memory range {base:#x} - {base + size:#x} above 4 GiB is ignored"
    if base + size - 1 > PHYS_ADDR_MAX_32:
        kept = PHYS_ADDR_MAX_32 - base
        return base, kept, (
            f"memory range {base:#x} - {base + size:#x} reaches 4 GiB: kept up to {base + kept:#x} "
            "(the last page is lost)"
        )
    return base, size, None


def lowmem_remap_hangs(base: int, size: int, lowmem_end: int | None) -> bool:
    """A reusable static pool in lowmem whose base or size is not 2 MiB aligned: arm's
    ``dma_contiguous_remap()`` clears whole sections, and 6.12 hangs right after
    ``cma: Reserved`` (armmp-6.12-lowmem-misaligned-hang, armmp-lpae-6.12-lowmem-misaligned-hang)."""
    in_lowmem = lowmem_end is None or base < lowmem_end
    return in_lowmem and bool((base | size) % REMAP_GRANULE)


__all__ = [
    "DMA_LIMIT",
    "cap_bank_32bit",
    "highmem_start",
    "lowmem_remap_hangs",
    "lowmem_size",
    "page_offset",
    "vmalloc_size",
]
