"""Every kernel-version rule memplan knows, as a named predicate: the one place that compares versions.

Each predicate names the kernel file(s) it reads and the version range it covers. The resolver
(:mod:`memplan.resolve`), the front ends that parse version-dependent syntax
(:mod:`memplan.cmdline`, :mod:`memplan.kconfig`) and the message table
(:mod:`memplan.kernel.messages`) call these; nothing else compares kernel version numbers
(``tests/test_layering.py`` checks it). To add a kernel version, see ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Literal

import attrs

from memplan.kernel.dtc_releases import KERNEL_DTC
from memplan.version import KernelVersion

Era = Literal["A", "B", "C", "D"]
NodeCmaStage = Literal["bootmem", "before-global", "after-global"]
DynamicOrder = Literal["sorted", "dt"]

#: The version whose rules are used when none is given or found (the Debian 12 kernel line).
DEFAULT_MODEL_VERSION = KernelVersion(6, 1, 0)
#: The newest release memplan's bundled Kconfig model describes.
KCONFIG_NEWEST_MODELLED = KernelVersion(6, 19)
#: The oldest release the bundled Kconfig model was checked against.
KCONFIG_OLDEST_MODELLED = KernelVersion(4, 19)


def _v(major: int, minor: int, patch: int = 0) -> KernelVersion:
    return KernelVersion(major, minor, patch)


@attrs.frozen
class VersionRange:
    """``[since, until)`` of kernel versions; ``None`` leaves that end open."""

    since: KernelVersion | None = None
    until: KernelVersion | None = None

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, KernelVersion):
            return False
        if self.since is not None and version < self.since:
            return False
        return self.until is None or version < self.until

    def __str__(self) -> str:
        lo = str(self.since) if self.since is not None else ""
        hi = str(self.until) if self.until is not None else ""
        return f"[{lo}, {hi})"


def since(major: int, minor: int, patch: int = 0) -> VersionRange:
    """Versions from ``major.minor.patch`` on."""
    return VersionRange(_v(major, minor, patch), None)


def before(major: int, minor: int, patch: int = 0) -> VersionRange:
    """Versions before ``major.minor.patch``."""
    return VersionRange(None, _v(major, minor, patch))


def between(lo: tuple[int, ...], hi: tuple[int, ...]) -> VersionRange:
    """Versions in ``[lo, hi)``."""
    return VersionRange(_v(*lo), _v(*hi))


ALWAYS = VersionRange()


def version_key(version: KernelVersion) -> int:
    """``major * 100 + minor``: the number the bundled Kconfig model compares eras with."""
    return version.major * 100 + version.minor


def same_series(a: KernelVersion, b: KernelVersion) -> bool:
    """True when ``a`` and ``b`` are the same ``major.minor`` series."""
    return (a.major, a.minor) == (b.major, b.minor)


def kconfig_model_covers(version: KernelVersion) -> bool:
    """False for versions older than the bundled Kconfig model (its oldest rules are used)."""
    return version >= KCONFIG_OLDEST_MODELLED


# -- precedence of the global CMA area (drivers/of/of_reserved_mem.c, kernel/dma/contiguous.c) ----
def era(version: KernelVersion) -> Era:
    """The reserved-memory era: A < 5.6; B 5.6 – 6.12.12; C 6.12.13 – 6.18.8 (6.12.13+ got the
    restructure as a dependency); D 6.18.9+ (stable backport, point release unverified) and 6.19+.
    drivers/of/of_reserved_mem.c, kernel/dma/contiguous.c."""
    if version < _v(5, 6):
        return "A"
    if version < _v(6, 12, 13):
        return "B"
    if same_series(version, _v(6, 12)) or version < _v(6, 18, 9):
        return "C"
    return "D"


def cmdline_beats_dt_default(version: KernelVersion) -> bool:
    """``cma=`` bypasses a ``linux,cma-default`` DT node from 5.6 (kernel/dma/contiguous.c
    ``rmem_cma_setup`` checks ``size_cmdline``); before, the DT default wins."""
    return version >= _v(5, 6)


def statics_initialised_late(version: KernelVersion) -> bool:
    """Era C/D (6.12.13+): static regions are initialised at ``unflatten_device_tree()``
    (``fdt_scan_reserved_mem_reg_nodes``), after the early scan. drivers/of/of_reserved_mem.c."""
    return era(version) in ("C", "D")


def user_cma_limit_replaces_arch_limit(version: KernelVersion) -> bool:
    """kernel/dma/contiguous.c ``dma_contiguous_reserve``: ≤ 6.15 ``min_not_zero(user, arch)``;
    6.16+ a non-zero user limit replaces the arch limit."""
    return version >= _v(6, 16)


# -- sorting and ordering (lib/sort.c, drivers/of/of_reserved_mem.c) -----------------------------
def bottom_up_heapsort(version: KernelVersion) -> bool:
    """lib/sort.c: the bottom-up heapsort from 5.1 (classic heapsort before)."""
    return version >= _v(5, 1)


def rmem_sort_key_width(version: KernelVersion) -> int:
    """``__rmem_cmp`` (drivers/of/of_reserved_mem.c): ≤ 5.6 base only (1); 5.7 – 6.4 base, size
    (2); 6.5+ base, size, fdt node (3)."""
    if version < _v(5, 7):
        return 1
    if version < _v(6, 5):
        return 2
    return 3


def overlap_check_skips_zero_base(version: KernelVersion) -> bool:
    """``__rmem_check_for_overlap`` before 5.7 skips pairs where a base is 0."""
    return version < _v(5, 7)


def dynamic_order(version: KernelVersion) -> DynamicOrder:
    """Order of the dynamic allocations (drivers/of/of_reserved_mem.c): ``sorted`` (the saved
    array is heapsorted before allocation, ≤ 6.12.12, eras A/B) or ``dt`` (DT order, era C/D)."""
    return "sorted" if era(version) in ("A", "B") else "dt"


def alloc_ranges_contiguous(version: KernelVersion) -> bool:
    """6.5+ ``__reserved_mem_alloc_in_range`` prefers an ``alloc-ranges`` slot next to a region
    already registered (drivers/of/of_reserved_mem.c)."""
    return version >= _v(6, 5)


# -- the reserved-memory registry (drivers/of/of_reserved_mem.c, drivers/of/fdt.c) ----------------
def max_reserved_regions(version: KernelVersion) -> int | None:
    """``MAX_RESERVED_REGIONS``: 32 up to 5.6, 64 later; 6.13+ re-sizes the registry of static
    regions (``None`` = no limit)."""
    if version < _v(5, 7):
        return 32
    if version >= _v(6, 13):
        return None
    return 64


def too_many_message_says_for(version: KernelVersion) -> bool:
    """"not enough space for all defined regions" from 5.7 ("space all" before)."""
    return version >= _v(5, 7)


def static_nomap_marks(version: KernelVersion) -> bool:
    """Static ``no-map``: ``memblock_mark_nomap`` from 5.12 (older: ``memblock_remove``);
    drivers/of/fdt.c "fdt: Properly handle "no-map" field in the memory region", also carried by
    5.10.89+ (verified, and Debian's 5.10.223) and 5.11.14+."""
    if same_series(version, _v(5, 10)):
        return version >= _v(5, 10, 89)
    if same_series(version, _v(5, 11)):
        return version >= _v(5, 11, 14)
    return version >= _v(5, 12)


def dynamic_nomap_marks(version: KernelVersion) -> bool:
    """Dynamic ``no-map``: ``memblock_mark_nomap`` from about 5.14 (drivers/of/of_reserved_mem.c
    ``early_init_dt_alloc_reserved_memory_arch``; older: ``memblock_remove``)."""
    return version >= _v(5, 14)


def nomap_refuses_reserved_outside_memory(version: KernelVersion) -> bool:
    """drivers/of/fdt.c ``early_init_dt_reserve_memory``: before 5.15 a no-map range that is
    already reserved fails even outside memory; 5.15+ only when it overlaps memory."""
    return version < _v(5, 15)


def memreserve_before_rmem(version: KernelVersion) -> bool:
    """≤ 6.3 ``/memreserve/`` entries are reserved before ``/reserved-memory`` is walked;
    6.4+ after the walk ("of: fdt: Scan /memreserve/ last", drivers/of/fdt.c)."""
    return version < _v(6, 4)


def restricted_dma_pool(version: KernelVersion) -> bool:
    """``restricted-dma-pool`` (kernel/dma/swiotlb.c ``rmem_swiotlb_setup``) from 5.15."""
    return version >= _v(5, 15)


def bad_alloc_ranges_ignored(version: KernelVersion) -> bool:
    """6.19+: an invalid ``alloc-ranges`` is ignored (the node is placed anywhere); before, the
    node is skipped. drivers/of/of_reserved_mem.c."""
    return version >= _v(6, 19)


def bad_reg_falls_back_to_dynamic(version: KernelVersion) -> bool:
    """6.19+: a node whose ``reg`` is invalid is handled as a dynamic node (with ``size``)."""
    return version >= _v(6, 19)


def extra_reg_entries_registered(version: KernelVersion) -> bool:
    """Before 6.19, every ``reg`` entry of a static node is reserved; 6.19+ registers only the
    first (drivers/of/of_reserved_mem.c ``fdt_scan_reserved_mem_reg_nodes``)."""
    return version < _v(6, 19)


def extra_reg_message(version: KernelVersion) -> bool:
    """6.13 – 6.18 log "fdt_scan_reserved_mem_reg_nodes() ignores N regions in node"."""
    return _v(6, 13) <= version < _v(6, 19)


def rmem_summary_line(version: KernelVersion) -> bool:
    """6.3+ prints one ``0x..0x (N KiB) nomap|map reusable|non-reusable name`` line per
    registered node (drivers/of/of_reserved_mem.c ``of_reserved_mem_save_node``/summary)."""
    return version >= _v(6, 3)


def of_reserved_mem_prefix(version: KernelVersion) -> bool:
    """The "failed to reserve memory", "unsupported node format" and "invalid reg" messages moved
    from drivers/of/fdt.c (``OF: fdt:``) to of_reserved_mem.c (``OF: reserved mem:``) by 6.12
    (6.6 still fdt.c; the exact release is a guess)."""
    return version >= _v(6, 12)


def alloc_failed_shows_size(version: KernelVersion) -> bool:
    """6.1+ "failed to allocate memory for node '%s': size %lu MiB" (the size was added)."""
    return version >= _v(6, 1)


def cma_skip_message_is_unprefixed(version: KernelVersion) -> bool:
    """7.x logs 'Skipping dt linux,cma-default node in favor for "cma=" kernel param.' (no
    prefix, once per scan; seen on Debian 7.2/7.3 arm64); 6.19 the ``OF: reserved mem:`` form."""
    return version >= _v(7, 0)


# -- memory nodes (drivers/of/fdt.c) --------------------------------------------------------------
def memory_nodes_root_children_only(version: KernelVersion) -> bool:
    """6.1+ ``early_init_dt_scan_memory`` takes only enabled direct children of the root."""
    return version >= _v(6, 1)


# -- CMA (mm/cma.c, kernel/dma/contiguous.c, include/linux/cma.h) ---------------------------------
def cma_granule(version: KernelVersion, page_size: int, top_order: int, pageblock: int) -> int:
    """``CMA_MIN_ALIGNMENT_BYTES`` in bytes (mm/cma.c, include/linux/cma.h): ≤ 5.18
    ``PAGE_SIZE << max(MAX_ORDER - 1, pageblock_order)``; 5.19+ ``PAGE_SIZE << pageblock_order``
    ("mm: cma: use pageblock_order as the single alignment")."""
    if version >= _v(5, 19):
        return page_size << pageblock
    return page_size << max(top_order, pageblock)


def pageblock_capped_by_config(version: KernelVersion) -> bool:
    """6.16+ caps ``pageblock_order`` with ``CONFIG_PAGE_BLOCK_MAX_ORDER``
    (include/linux/pageblock-flags.h)."""
    return version >= _v(6, 16)


def max_cma_areas_counts_config_only(version: KernelVersion) -> bool:
    """``MAX_CMA_AREAS`` (include/linux/cma.h): ``1 + CONFIG_CMA_AREAS`` up to about 6.6,
    ``CONFIG_CMA_AREAS`` from 6.7 (defaults 8 / 20)."""
    return version >= _v(6, 7)


def cma_tries_above_4g(version: KernelVersion) -> bool:
    """mm/cma.c ``cma_declare_contiguous_nid``: 5.12+ on 64-bit first tries bottom-up from 4 GiB."""
    return version >= _v(5, 12)


def cma_above_4g_room_uses_limit(version: KernelVersion) -> bool:
    """6.18+ measures the room for the above-4 GiB attempt against the limit (not memory's end)."""
    return version >= _v(6, 18)


def cma_reserved_line_shows_requested_size(version: KernelVersion) -> bool:
    """6.15+ "cma: Reserved %lu MiB" prints the requested size (older: the aligned size)."""
    return version >= _v(6, 15)


def cma_line_names_node(version: KernelVersion) -> bool:
    """6.6 – 6.14 append " on node %d" to "cma: Reserved"/"Failed to reserve" (mm/cma.c)."""
    return _v(6, 6) <= version < _v(6, 15)


def inactive_cma_pages_released(version: KernelVersion) -> bool:
    """mm/cma.c ``cma_activate_area``: 5.9+ hands the pages of an area that cannot be activated
    to the page allocator; before, they stay reserved."""
    return version >= _v(5, 9)


# -- per-node CMA (kernel/dma/contiguous.c, arch/arm64/mm/init.c) ---------------------------------
def pernuma_cma_exists(version: KernelVersion) -> bool:
    """``cma_pernuma=`` (``CONFIG_DMA_PERNUMA_CMA``) from 5.10."""
    return version >= _v(5, 10)


def numa_cma_generic(version: KernelVersion) -> bool:
    """6.6+ ``CONFIG_DMA_NUMA_CMA``: ``numa_cma=`` exists and ``dma_contiguous_reserve()`` calls
    the per-node reservation on every architecture; 5.10 – 6.5 only arm64 calls it."""
    return version >= _v(6, 6)


def node_cma_stage(version: KernelVersion) -> NodeCmaStage:
    """When the per-node areas are reserved: 5.10 – 6.5 arm64 ``bootmem_init()`` right after the
    hugetlb areas (``bootmem``); 6.6 – 6.19 first in ``dma_contiguous_reserve()``
    (``before-global``, kernel-semantics §1.7); 7.0+ at its end (``after-global``: the recorded
    Debian 7.2 boot logs the global area first; the first release is assumed to be 7.0)."""
    if version < _v(6, 6):
        return "bootmem"
    if version < _v(7, 0):
        return "before-global"
    return "after-global"


# -- hugetlb CMA (mm/hugetlb.c, mm/hugetlb_cma.c) -------------------------------------------------
def hugetlb_cma_exists(version: KernelVersion) -> bool:
    """``hugetlb_cma=`` exists from 5.7 (mm/hugetlb.c "optionally allocate gigantic hugepages
    using cma")."""
    return version >= _v(5, 7)


def hugetlb_cma_gigantic_only(version: KernelVersion) -> bool:
    """7.x: ``hugetlb_cma=`` must be a multiple of the gigantic page (refused otherwise) and the
    area is aligned to it (recorded 7.2 boot: 0x80000000); older kernels round the size up and
    align to the PMD page (recorded 6.1 boot: 0xff600000)."""
    return version >= _v(7, 0)


def hugetlb_cma_reserved_in_ranges(version: KernelVersion) -> bool:
    """6.15+ hugetlb areas log "cma: Reserved %lu MiB in %d range(s)" (mm/cma.c multi-range)."""
    return version >= _v(6, 15)


# -- arm64 boot (arch/arm64/mm/init.c, mm/sparse.c) -----------------------------------------------
def arm64_early_allocations_modelled(version: KernelVersion) -> bool:
    """The fitted arm64 early-allocation model covers 5.10+ (the recorded boots)."""
    return version >= _v(5, 10)


def arm64_early_allocations_era(version: KernelVersion) -> Literal["5.10", "6.1", "6.12", "7.0"]:
    """Which measured arm64 early-allocation size applies (:mod:`memplan.resolve.fitted`): the
    unflattened DT, ``mem_section`` root and other small allocations shrank at 6.12 and 7.0."""
    if version >= _v(7, 0):
        return "7.0"
    if version >= _v(6, 12):
        return "6.12"
    if version >= _v(6, 1):
        return "6.1"
    return "5.10"


def arm64_bootmem_reserves_before_sparse(version: KernelVersion) -> bool:
    """Before 7.0 arm64 ``bootmem_init()`` reserves hugetlb (and 5.10 – 6.5 per-node) CMA and
    runs ``sparse_init()`` before ``dma_contiguous_reserve()``; 7.x moved those after it."""
    return version < _v(7, 0)


def arm64_section_size_bits(version: KernelVersion, page_size: int) -> int:
    """``SECTION_SIZE_BITS`` (arch/arm64/include/asm/sparsemem.h): 30 before 5.12, then 27
    (4 KiB / 16 KiB pages) or 29 (64 KiB pages)."""
    if version < _v(5, 12):
        return 30
    return {4096: 27, 16384: 27, 65536: 29}.get(page_size, 27)


def arm64_zone_dma_from_dt(version: KernelVersion) -> bool:
    """arm64 5.11+ ``zone_dma_bits`` from the DT ``dma-ranges``; ≤ 5.10 the first 4 GiB of DRAM."""
    return version >= _v(5, 11)


def arm64_crashkernel_before_cma(version: KernelVersion) -> bool:
    """arm64 before 5.10 reserves crashkernel before ``dma_contiguous_reserve()``."""
    return version < _v(5, 10)


# -- crashkernel (kernel/crash_core.c, kernel/crash_reserve.c, arch/x86/kernel/setup.c) -----------
def crashkernel_rounds_ram(version: KernelVersion) -> bool:
    """6.1+ rounds the RAM total up to 128 MiB before matching ``crashkernel=`` ranges."""
    return version >= _v(6, 1)


def crashkernel_cma_suffix(version: KernelVersion) -> bool:
    """``crashkernel=size,cma`` exists from 6.18."""
    return version >= _v(6, 18)


def crashkernel_generic_message(version: KernelVersion, arch: str) -> bool:
    """The generic "crashkernel reserved: 0x... - 0x..." line (kernel/crash_reserve.c): x86 from
    6.7 and arm64/riscv; arm and older x86 print "Reserving %ldMB of memory at %ldMB"."""
    if arch == "arm":
        return False
    return not (arch == "x86" and version < _v(6, 7))


# -- command line (kernel/dma/contiguous.c, init/main.c, arch/arm64/Kconfig) ----------------------
def cma_needs_value(version: KernelVersion) -> bool:
    """5.4+: ``cma`` without ``=`` is refused ("Config string not provided")."""
    return version >= _v(5, 4)


def reached(version: KernelVersion, major: int, minor: int) -> bool:
    """True when ``version`` is ``major.minor`` or later: for a parameter's first release taken
    from a table (command-line parameters by release)."""
    return version >= _v(major, minor)


def arm64_cmdline_extend(version: KernelVersion) -> bool:
    """arm64 has ``CMDLINE_EXTEND`` only in 5.11 (arch/arm64/Kconfig)."""
    return same_series(version, _v(5, 11))


def arm64_cmdline_kconfig(version: KernelVersion) -> Literal["single", "extend", "choice"]:
    """arch/arm64/Kconfig command-line symbols: ≤ 5.10 a lone ``CMDLINE_FORCE``; 5.11 a choice
    with ``CMDLINE_EXTEND``; 5.12+ a choice without it."""
    if version < _v(5, 11):
        return "single"
    if version < _v(5, 12):
        return "extend"
    return "choice"


def cmdline_config_without_chosen(version: KernelVersion) -> bool:
    """6.1+ applies ``CONFIG_CMDLINE`` even without a ``/chosen`` node (drivers/of/fdt.c)."""
    return version >= _v(6, 1)


# -- Kconfig (mm/Kconfig) -------------------------------------------------------------------------
def max_order_is_inclusive(version: KernelVersion) -> bool:
    """6.4+ ``ARCH_FORCE_MAX_ORDER`` is the largest buddy order; before, ``MAX_ORDER`` is one more
    ("mm, treewide: redefine MAX_ORDER sanely")."""
    return version >= _v(6, 4)


# -- /sys/kernel/debug/cma (mm/cma_debug.c) -------------------------------------------------------
def debugfs_dir_is_area_name(version: KernelVersion) -> bool:
    """6.0+ names the debugfs directory after the area (older: ``cma-<name>``, truncated)."""
    return version >= _v(6, 0)


# -- the kernel's own dtc (scripts/dtc; the table is memplan.kernel.dtc_releases) -------------------
def kernel_dtc(version: KernelVersion) -> tuple[KernelVersion, str] | None:
    """The dtc ``scripts/dtc`` of this release carries (``git describe`` of upstream dtc) and the
    release that brought it; ``None`` before the table's first row (5.6)."""
    found: tuple[KernelVersion, str] | None = None
    for (major, minor), dtc in KERNEL_DTC:
        if version < _v(major, minor):
            break
        found = (_v(major, minor), dtc)
    return found
