"""Who provides the global (default) CMA area: the eras of the kernel's rule and the decision.

Kernel files: ``kernel/dma/contiguous.c`` (``early_cma``, ``rmem_cma_setup``,
``dma_contiguous_reserve``) and ``drivers/of/of_reserved_mem.c`` (v6.19 skip of the default
node). See kernel-semantics §0, §1.5, §1.6 and §2.
"""

from __future__ import annotations

import enum
from typing import Literal

from memplan.kernel import rules
from memplan.model import Precedence
from memplan.version import KernelVersion

#: The one version assumed when none is known (layout rules, .config reading, command line): the
#: Debian 6.1 kernel seen under QEMU.
DEFAULT_MODEL_VERSION = rules.DEFAULT_MODEL_VERSION


class Era(enum.Enum):
    """Kernel eras of reserved-memory and CMA precedence handling (kernel-semantics §0)."""

    A = "A"  #: < v5.6: the DT default node beats cma=
    B = "B"  #: v5.6 - v6.12.12: rmem_cma_setup() bypasses the DT default node when cma= is given
    C = "C"  #: v6.13 - v6.18.8 and 6.12.13+: restructured scan, statics initialised late
    D = "D"  #: v6.19+ and 6.18.9+: the DT default node is skipped before it is reserved


def era_of(version: KernelVersion) -> Era:
    """The era of ``version`` (:func:`memplan.kernel.rules.era`)."""
    return Era(rules.era(version))


def cmdline_wins(precedence: Precedence, era: Era) -> bool:
    """True when a ``cma=`` on the command line removes the DT ``linux,cma-default`` node.

    Policy ``seed`` is the documented DTS > CMDLINE > DEFCONFIG (= era A behaviour); policy
    ``kernel`` follows the era: the v5.6 commit "dma-contiguous: CMA: give precedence to
    cmdline" made the command line win.
    """
    return precedence == "kernel" and era is not Era.A


DtDefaultAction = Literal["keep", "bypass", "skip"]


def dt_default_action(precedence: Precedence, era: Era, cma_given: bool) -> DtDefaultAction:
    """What happens to a ``linux,cma-default`` node.

    ``keep``: processed normally (no ``cma=``, era A, or policy ``seed``); ``bypass``: reserved
    or allocated, then refused by ``rmem_cma_setup()`` (v5.6 – v6.18.x) and released; ``skip``:
    never reserved nor allocated (v6.19+, ``cma_skip_dt_default_reserved_mem()``).
    """
    if not cma_given or not cmdline_wins(precedence, era):
        return "keep"
    return "skip" if era is Era.D else "bypass"


def two_areas_quirk(precedence: Precedence, era: Era, arch: str, dt_default_static: bool,
                    cma_given: bool) -> bool:
    """Era C/D on arm32 and riscv: ``dma_contiguous_reserve()`` runs before static DT regions are
    initialised (``unflatten_device_tree()``), so with a static default node and no ``cma=`` a
    Kconfig-sized area is created as well (kernel-semantics §2.3; derived from call order)."""
    return (precedence == "kernel" and era in (Era.C, Era.D) and arch in ("arm", "riscv")
            and dt_default_static and not cma_given)


SizeSel = Literal["mbytes", "percentage", "min", "max"]


def kconfig_cma_size(sel: SizeSel, mbytes: int | None, percentage: int | None,
                     phys_mem_size: int, page_size: int, phys_bits: int = 64, long_bits: int = 64) -> int:
    """The Kconfig size of the global CMA area in bytes (before alignment rounding).

    ``dma_contiguous_reserve()`` / ``cma_early_percent_memory()`` (kernel/dma/contiguous.c, all
    versions 4.19 – 6.19): an undefined symbol counts as 0; the percentage is taken of
    ``memblock_phys_mem_size()`` in whole pages, truncated. The arithmetic is the kernel's:
    ``(phys_addr_t)CONFIG_CMA_SIZE_MBYTES * SZ_1M`` in ``phys_bits`` bits, and
    ``(total_pages * CONFIG_CMA_SIZE_PERCENTAGE / 100) << PAGE_SHIFT`` in unsigned long
    (``long_bits``), so a negative value wraps to a huge size (:func:`kconfig_size_wraps`).
    """
    phys_mask = (1 << phys_bits) - 1
    long_mask = (1 << long_bits) - 1
    size_bytes = ((mbytes or 0) & phys_mask) * 1024 * 1024 & phys_mask
    pages = phys_mem_size // page_size
    pct = percentage or 0
    if long_bits == 32 and not -(1 << 31) <= pct < 1 << 31:
        # a constant beyond int is a long long on 32-bit: the product is computed signed in 64 bits
        product = _wrap_signed(pages * pct, 64)
        quotient = abs(product) // 100 * (1 if product >= 0 else -1)  # C division truncates
        percent_bytes = quotient * page_size & phys_mask
    else:
        percent_bytes = (pages * (pct & long_mask) & long_mask) // 100 * page_size & long_mask & phys_mask
    if sel == "mbytes":
        return size_bytes
    if sel == "percentage":
        return percent_bytes
    if sel == "min":
        return min(size_bytes, percent_bytes)
    return max(size_bytes, percent_bytes)


def _wrap_signed(value: int, bits: int) -> int:
    """``value`` as a two's complement integer of ``bits`` bits."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def kconfig_size_wraps(sel: SizeSel, mbytes: int | None, percentage: int | None, phys_mem_size: int,
                       page_size: int, phys_bits: int = 64, long_bits: int = 64) -> str | None:
    """Why the Kconfig size the kernel computes (:func:`kconfig_cma_size`) is not the plain
    arithmetic one (a negative or huge CONFIG_CMA_SIZE_MBYTES/PERCENTAGE wraps), else ``None``."""
    uses_mbytes, uses_percentage = sel != "percentage", sel != "mbytes"
    if uses_mbytes and mbytes is not None and not 0 <= mbytes * 1024 * 1024 < 1 << phys_bits:
        return (f"CONFIG_CMA_SIZE_MBYTES={mbytes} is computed as (phys_addr_t){mbytes} * SZ_1M in "
                f"{phys_bits} bits (Kconfig gives the symbol no range, so the kernel builds with it)")
    pages = phys_mem_size // page_size
    if uses_percentage and percentage is not None and not 0 <= pages * percentage < 1 << long_bits:
        return (f"CONFIG_CMA_SIZE_PERCENTAGE={percentage} is computed as total_pages * {percentage} / 100 "
                f"in {long_bits}-bit unsigned long (Kconfig gives the symbol no range, so the kernel "
                "builds with it)")
    return None


def resolve_policy(requested: str, version_known: bool) -> Precedence:
    """``auto`` → ``kernel`` when the version is known, else ``seed``; explicit values pass through."""
    if requested == "auto":
        return "kernel" if version_known else "seed"
    if requested in ("seed", "kernel"):
        return "seed" if requested == "seed" else "kernel"
    raise ValueError(f"unknown precedence policy {requested!r} (expected auto, seed or kernel)")


def cmdline_limit(version: KernelVersion, user_limit: int, arch_limit: int) -> int:
    """The limit ``dma_contiguous_reserve()`` hands to the allocator for a ``cma=`` area.

    ≤ v6.15: ``min_not_zero(user, arch)`` — the user can only lower it; ≥ v6.16 (commit
    "dma-contiguous: hornor the cma address limit setup by user"): a non-zero user limit
    replaces the arch limit.
    """
    if rules.user_cma_limit_replaces_arch_limit(version):
        return user_limit if user_limit else arch_limit
    if user_limit and arch_limit:
        return min(user_limit, arch_limit)
    return user_limit or arch_limit
