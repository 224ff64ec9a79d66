"""``crashkernel=``: the size for this machine and where the kdump area goes (kernel-semantics §8.2).

Kernel files: kernel/crash_core.c (≤ v6.8) / kernel/crash_reserve.c (v6.9+),
arch/arm64/mm/init.c, arch/x86/kernel/setup.c, arch/arm/kernel/setup.c, arch/riscv/mm/init.c.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from memplan.kernel import rules
from memplan.resolve.memblock import Memblock
from memplan.units import MiB as SZ_1M
from memplan.units import align_up
from memplan.version import KernelVersion

SZ_128M = 128 * SZ_1M


def crash_align(arch: str) -> int:
    """``CRASH_ALIGN``: 2 MiB generic/arm64/riscv, 16 MiB x86, 128 MiB arm32."""
    if arch == "x86":
        return 16 * SZ_1M
    if arch == "arm":
        return SZ_128M
    return 2 * SZ_1M


def size_from_ranges(ranges: Sequence[tuple[int, int | None, int]], total_ram: int,
                     version: KernelVersion) -> int:
    """``crashkernel=start-[end]:size,...``: the size of the first range with
    ``start <= total < end`` (0 when none). v6.1+ rounds the RAM total up to 128 MiB first."""
    total = align_up(total_ram, SZ_128M) if rules.crashkernel_rounds_ram(version) else total_ram
    for start, end, size in ranges:
        if start <= total and (end is None or total < end):
            return size
    return 0


def default_low_size(arch: str) -> int:
    """Low part that ``,high`` adds when no ``,low`` is given: 128 MiB generic,
    256 MiB on x86-64 (max(swiotlb + 8 MiB, 256 MiB) with the default 64 MiB swiotlb)."""
    return 256 * SZ_1M if arch == "x86" else SZ_128M


@attrs.frozen
class CrashPlacement:
    """Where the crash kernel went: the main range and the optional low range."""

    size: int
    base: int | None
    low_base: int | None = None
    low_size: int = 0
    failure: str | None = None


def place_crashkernel(mb: Memblock, *, size: int, offset: int | None, high: bool, low_size: int | None,
                      arch: str, low_max: int, lpae: bool = False) -> CrashPlacement:
    """Reserve the crash kernel on ``mb``.

    ``@offset`` is fixed (fails when any byte is reserved: "memory is in use"); it must be
    aligned to ``CRASH_ALIGN``, on arm to a section (1 MiB, 2 MiB with ``lpae``). Otherwise the
    plain form searches top-down below ``low_max`` (``CRASH_ADDR_LOW_MAX``) and, if that fails,
    in ``[low_max, end)`` plus a default low part; ``,high`` searches ``[low_max, end)`` first,
    then below ``low_max``; a high placement also reserves the low part below ``low_max``. arm
    has its own ``reserve_crashkernel()``: top-down in ``[CRASH_ALIGN, low_max)`` and nothing
    else.
    """
    align = crash_align(arch)
    if offset is not None:
        fixed_align = (2 * SZ_1M if lpae else SZ_1M) if arch == "arm" else align
        if offset % fixed_align or mb.is_reserved(offset, size) or not mb.overlaps_memory(offset, size):
            return CrashPlacement(size, None, failure="crashkernel reservation failed - memory is in use.")
        mb.reserve(offset, size)
        return CrashPlacement(size, offset)
    if arch == "arm":
        arm_base = mb.alloc(size, align, align, low_max)
        if arm_base is None:
            failure = "crashkernel reservation failed - No suitable area found."
            return CrashPlacement(size, None, failure=failure)
        return CrashPlacement(size, arm_base)
    base: int | None
    is_high = False
    if high:
        base = mb.alloc(size, align, low_max, None)
        is_high = base is not None
        if base is None:
            base = mb.alloc(size, align, 0, low_max)
    else:
        base = mb.alloc(size, align, 0, low_max)
        if base is None:
            base = mb.alloc(size, align, low_max, None)
            is_high = base is not None
    if base is None:
        return CrashPlacement(size, None, failure=f"cannot allocate crashkernel (size:{size:#x})")
    low_b: int | None = None
    low_s = 0
    if is_high:
        low_s = low_size if low_size is not None else default_low_size(arch)
        if low_s:
            low_b = mb.alloc(low_s, align, 0, low_max)
    return CrashPlacement(size, base, low_b, low_s if low_b is not None else 0)
