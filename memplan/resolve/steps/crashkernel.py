"""``crashkernel=`` reservation (kernel/crash_reserve.c, arch/*/kernel/setup.c); placement rules
are :mod:`memplan.resolve.crashkernel`."""

from __future__ import annotations

from attrs import evolve

from memplan.model import Region
from memplan.resolve.crashkernel import place_crashkernel, size_from_ranges
from memplan.resolve.platform import arch_dma_limit, arm32_highmem_start
from memplan.resolve.run import Boot
from memplan.resolve.state import Slot
from memplan.units import SZ_4G, format_size


def crashkernel_low_max(run: Boot) -> int:
    """The top of the low crash-kernel window: the arm64 DMA zone end, the end of RAM below
    4 GiB on riscv, 4 GiB on x86; on arm :func:`arm_crash_max`."""
    arch, mb = run.inp.arch, run.st.mb
    if arch == "arm64":
        return arch_dma_limit(arch, run.inp.version, mb, run.dma_bits)
    if arch == "arm":
        return arm_crash_max(run)
    if arch == "riscv":
        return min(mb.end_of_dram(), SZ_4G)
    return SZ_4G


def arm_lowmem_end(run: Boot) -> int:
    """arm32 ``__pa(high_memory - 1) + 1``: where lowmem ends (the end of RAM without highmem)."""
    mb = run.st.mb
    start = arm32_highmem_start(mb, run.ctx.arm32_lowmem)
    return start if start is not None else mb.end_of_dram()


def arm_crash_max(run: Boot) -> int:
    """arm32 ``reserve_crashkernel()`` (arch/arm/kernel/setup.c, checked in 6.12): the area is
    searched top-down in ``[CRASH_ALIGN, crash_max)`` with ``crash_max =
    min(idmap_to_phys(0xffffffff), end of lowmem)``. ``arm_dma_limit`` plays no part; the
    identity-map alias does (keystone with RAM at its high alias adds the ``pv_fixup`` offset,
    recorded with the machine in :meth:`Boot.arm_dma_zone`)."""
    return min(0xFFFFFFFF + run.arm_dma_zone().idmap_offset, arm_lowmem_end(run))


def crashkernel(run: Boot) -> None:
    """Step ``crashkernel``: the crash-kernel area (and the low part of a high one)."""
    inp, st = run.inp, run.st
    ck = inp.cmdline.crashkernel
    if ck is None:
        return
    # arm's get_total_mem() is max_low_pfn - min_low_pfn: the span of lowmem, not all RAM
    total = arm_lowmem_end(run) - st.mb.start_of_dram() if inp.arch == "arm" else st.mb.phys_mem_size()
    size = ck.size if ck.size is not None else size_from_ranges(ck.ranges, total, inp.version)
    if not size:
        st.note("crashkernel-zero", "crashkernel size resulted in zero bytes", ck.source, "crashkernel")
        return
    low_max = crashkernel_low_max(run)
    p = place_crashkernel(st.mb, size=size, offset=ck.offset, high=ck.high, low_size=ck.low_size,
                          arch=inp.arch, low_max=low_max, lpae=run.ctx.phys_64bit)
    slot = Slot.start(
        Region(
            name="crashkernel",
            kind="crashkernel",
            origin="cmdline",
            status="ok",
            placement="static" if ck.offset is not None else "modelled",
            size=size,
            source=ck.source,
        )
    )
    if p.base is None:
        slot.region = evolve(slot.region, status="failed", reason=p.failure)
        st.event("crashkernel-failed", size=size, text=p.failure)
        st.note("crashkernel-failed", f"crashkernel= ({format_size(size)}) not reserved: {p.failure}",
                ck.source, "crashkernel")
    else:
        reason = (
            "fixed @offset"
            if ck.offset is not None
            else f"top-down below {low_max:#x}"
            if p.base < low_max
            else "high memory"
        )
        slot.region = evolve(slot.region, base=p.base, reason=reason)
        st.event("crashkernel", base=p.base, size=size, other_size=total)
        if p.low_base is not None:
            low = Region(
                name="crashkernel-low",
                kind="crashkernel",
                origin="cmdline",
                status="ok",
                placement="modelled",
                base=p.low_base,
                size=p.low_size,
                source=ck.source,
                reason="default low part for a high crash kernel",
            )
            st.add(Slot.start(low))
            st.event("crashkernel-low", base=p.low_base, size=p.low_size)
    st.add(slot)
