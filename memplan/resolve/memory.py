"""RAM as the kernel sees it: ``/memory`` banks trimmed by ``mem=`` (kernel-semantics §3.1, §8.1)."""

from __future__ import annotations

from collections.abc import Sequence

from memplan.units import align_down, align_up


def page_align_inward(base: int, size: int, page_size: int) -> tuple[int, int]:
    """``early_init_dt_add_memory_arch()``: base rounded up to a page, the end rounded down."""
    start = align_up(base, page_size)
    end = align_down(base + size, page_size)
    return start, max(end - start, 0)


def limit_by_size(banks: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """arm64/riscv ``mem=size`` (``memblock_mem_limit_remove_map``): keep the lowest ``limit``
    bytes of memory, counted bank by bank from the lowest address; drop the rest."""
    out: list[tuple[int, int]] = []
    left = limit
    for base, size in sorted(banks):
        if left <= 0:
            break
        take = min(size, left)
        out.append((base, take))
        left -= take
    return out


def limit_by_address(banks: Sequence[tuple[int, int]], cap: int) -> list[tuple[int, int]]:
    """x86 ``mem=nn`` (and ``memmap=nn``): remove RAM at and above address ``cap``."""
    out: list[tuple[int, int]] = []
    for base, size in sorted(banks):
        if base >= cap:
            continue
        out.append((base, min(size, cap - base)))
    return out


def arm32_mem_banks(params: Sequence[tuple[int, int | None]], phys_offset: int) -> list[tuple[int, int]]:
    """arm ``mem=size[@start]``: the first occurrence deletes all memory known so far; each
    occurrence adds a bank at ``start`` (default ``PHYS_OFFSET``)."""
    return [(phys_offset if start is None else start, size) for size, start in params]
