"""Names: the architectures memplan models and the Kconfig symbols it reads."""

from __future__ import annotations

from collections.abc import Mapping

from memplan.arch import ARCH_SYMBOLS, MODELLED_ARCHES, normalise_arch
from memplan.kconfig.dotconfig import Assignment
from memplan.source import Source

#: Architectures with a bundled Kconfig model (kernel ``SRCARCH`` names).
ARCHES: tuple[str, ...] = MODELLED_ARCHES

#: Symbols memplan reads, on any architecture or release. Setting one that the chosen
#: architecture/release lacks is reported instead of being kept as an unknown symbol.
MEMPLAN_SYMBOLS: frozenset[str] = frozenset({
    "MMU", "CMA", "CMA_DEBUG", "CMA_DEBUGFS", "CMA_SYSFS", "CMA_AREAS", "HAVE_DMA_CONTIGUOUS", "DMA_CMA",
    "DMA_PERNUMA_CMA", "DMA_NUMA_CMA", "CMA_SIZE_MBYTES", "CMA_SIZE_PERCENTAGE", "CMA_SIZE_SEL_MBYTES",
    "CMA_SIZE_SEL_PERCENTAGE", "CMA_SIZE_SEL_MIN", "CMA_SIZE_SEL_MAX", "CMA_ALIGNMENT", "NUMA", "HIGHMEM",
    "HUGETLBFS", "HUGETLB_PAGE", "TRANSPARENT_HUGEPAGE", "ARM_LPAE", "ARM64_4K_PAGES", "ARM64_16K_PAGES",
    "ARM64_64K_PAGES", "ARCH_FORCE_MAX_ORDER", "FORCE_MAX_ZONEORDER", "PAGE_BLOCK_MAX_ORDER", "CMDLINE",
    "CMDLINE_FROM_BOOTLOADER", "CMDLINE_EXTEND", "CMDLINE_FORCE", "CMDLINE_FALLBACK", "CMDLINE_BOOL",
    "CMDLINE_OVERRIDE", "ARM_APPENDED_DTB", "ARM_ATAG_DTB_COMPAT",
    "ARM_ATAG_DTB_COMPAT_CMDLINE_FROM_BOOTLOADER", "ARM_ATAG_DTB_COMPAT_CMDLINE_EXTEND",
})


def normalize_arch(arch: str) -> str | None:
    """The ``SRCARCH`` name for ``arch`` (``aarch64`` → ``arm64``, ``x86_64`` → ``x86``), or
    ``None`` when memplan has no Kconfig model for it."""
    name = normalise_arch(arch)
    return name if name in MODELLED_ARCHES else None


def arch_from_symbols(assignments: Mapping[str, Assignment]) -> tuple[str | None, Source | None]:
    """The architecture named by ``CONFIG_ARM64=y``, ``CONFIG_X86_64=y`` ... and that line."""
    for symbol, arch in ARCH_SYMBOLS:
        a = assignments.get(symbol)
        if a is not None and not a.unset and a.value == "y":
            return arch, a.source
    return None, None
