"""Constants fitted to recorded boots (not read from kernel source), each naming the boots it fits.

The recorded boots are the kernel-in-the-loop fixtures under ``tests/kernel/fixtures`` (QEMU
``virt`` arm64 and ``pc`` x86_64 with Debian kernels, docs/kernel-in-the-loop.md). When a new
recording disagrees, change the value here and say which boot moved it.
"""

from __future__ import annotations

from memplan.units import MiB as M

#: arm64 top-down allocations besides the linear-map page tables (mapped RAM/512 with
#: ``rodata=full``), made before ``dma_contiguous_reserve()``: the unflattened DT (~40-48 KiB), the
#: 128 KiB ``mem_section`` root, the NUMA distance table, cpumasks ... Measured with
#: ``memblock=debug`` in arm64-{6.1,6.12,7.2}-{kconfig,nomap-pools-cma} (0x32000-0x33800 on 6.1,
#: 0x24040-0x25b80 on 6.12, 0x11640-0x13200 on 7.2) and rounded up. 5.10 likewise in 2 GiB
#: boots of 5.10.223 without pools and arm64-5.10-nomap-pools(-cma): 0x13000-0x14800 (the
#: unflattened DT 0x8b14-0x97b4, NODE_DATA 0x2500, the 16 KiB mem_section root, a 4 KiB section
#: index, the 672-byte usemap and two vmemmap page-table pages). The 3.2 MiB used before had been
#: fitted to global-area addresses, where 5.10's 16 MiB-aligned struct page buffer (1 GiB
#: sections) hides any value up to ~12 MiB. An earlier single constant of 1.3 MiB, fitted the
#: same way, put the area one 2 MiB step too low below five no-map pools on 6.1+.
ARM64_EARLY_OTHER: dict[str, int] = {"7.0": 0x14000, "6.12": 0x26000, "6.1": 0x34000, "5.10": 0x15000}
#: RAM bytes per byte of linear-map page tables at page granularity (``rodata=full``, Debian's
#: default): fitted with the constants above.
ARM64_PAGE_TABLE_RATIO = 512
#: ``sizeof(pg_data_t)`` rounded up to pages on arm64 (the boot logs print an 11 - 14 KiB
#: ``NODE_DATA`` range; arm64-6.1-pernuma, arm64-7.2-numa-cma). Only its existence matters: it
#: moves a node's top below the CMA granule.
NODE_DATA_BYTES = 16 << 10
#: ``sizeof(struct page)`` in the arm64 ``sparse_init()`` buffer (before 7.0 the global area of the
#: 2 GiB arm64 boots sits just below this buffer).
STRUCT_PAGE_BYTES = 64
#: The hugetlb CMA alignment before 7.0: the PMD huge page (arm64-6.1-hugetlb-cma put the area
#: at 0xff600000); 7.x aligns to the gigantic page (arm64-7.2-hugetlb-cma: 0x80000000).
HUGETLB_CMA_ALIGN_OLD = 2 * M
GIGANTIC_PAGE = 1 << 30
