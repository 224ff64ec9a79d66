"""CMA minimum alignment by kernel version and page size (kernel-semantics §3.6)."""

from __future__ import annotations

from memplan.kernel import rules
from memplan.version import KernelVersion

_PAGE_SHIFT = {4096: 12, 16384: 14, 65536: 16}

#: Largest buddy order by page size when the config does not raise it (arm64 defaults:
#: 16 KiB pages → 11, 64 KiB pages → 13; everything else 10).
_DEFAULT_MAX_BUDDY_ORDER = {4096: 10, 16384: 11, 65536: 13}


def default_max_buddy_order(page_size: int) -> int:
    """The largest buddy order (``MAX_ORDER - 1`` before v6.4, ``MAX_ORDER`` after) by page size."""
    return _DEFAULT_MAX_BUDDY_ORDER.get(page_size, 10)


def huge_page_order(page_size: int) -> int:
    """Order of the PMD-sized huge page: a page table page holds ``page_size / 8`` entries."""
    shift = _PAGE_SHIFT.get(page_size, 12)
    return shift - 3


def default_hugetlb(arch: str, lpae: bool = False) -> bool:
    """Whether distribution kernels of ``arch`` normally have ``CONFIG_HUGETLB_PAGE``."""
    if arch == "arm":
        return lpae
    return arch in ("arm64", "x86", "riscv")


def pageblock_order(page_size: int, max_buddy_order: int, hugetlb: bool,
                    page_block_max_order: int | None = None) -> int:
    """``pageblock_order``: the huge-page order capped by the max buddy order when huge pages are
    configured, else the max buddy order; v6.16+ also capped by ``CONFIG_PAGE_BLOCK_MAX_ORDER``
    (include/linux/pageblock-flags.h)."""
    order = min(huge_page_order(page_size), max_buddy_order) if hugetlb else max_buddy_order
    if page_block_max_order is not None:
        order = min(order, page_block_max_order)
    return order


def cma_min_alignment(version: KernelVersion, page_size: int = 4096, max_buddy_order: int | None = None,
                      hugetlb: bool = True, page_block_max_order: int | None = None) -> int:
    """``CMA_MIN_ALIGNMENT_BYTES`` (and its open-coded predecessor) in bytes.

    mm/cma.c, include/linux/cma.h: ≤ v5.18 ``PAGE_SIZE << max(MAX_ORDER - 1, pageblock_order)``;
    ≥ v5.19 (11ac3e87ce09 "mm: cma: use pageblock_order as the single alignment")
    ``PAGE_SIZE * pageblock_nr_pages``. ``max_buddy_order`` is the largest buddy order
    (10 by default with 4 KiB pages).
    """
    top = default_max_buddy_order(page_size) if max_buddy_order is None else max_buddy_order
    pb = pageblock_order(page_size, top, hugetlb,
                         page_block_max_order if rules.pageblock_capped_by_config(version) else None)
    return rules.cma_granule(version, page_size, top, pb)
