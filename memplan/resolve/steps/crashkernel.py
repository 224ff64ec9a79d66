"""``crashkernel=`` reservation (kernel/crash_reserve.c, arch/*/kernel/setup.c); placement rules
are :mod:`memplan.resolve.crashkernel`."""

from __future__ import annotations

from attrs import evolve

from memplan.model import Region
from memplan.resolve.crashkernel import place_crashkernel, size_from_ranges
from memplan.resolve.platform import arch_dma_limit
from memplan.resolve.run import Boot
from memplan.resolve.state import Slot
from memplan.units import SZ_4G, format_size


def crashkernel_low_max(run: Boot) -> int:
    """The top of the low crash-kernel window: the arm64 DMA zone end, the end of RAM below
    4 GiB on arm and riscv, 4 GiB on x86."""
    arch, mb = run.inp.arch, run.st.mb
    if arch == "arm64":
        return arch_dma_limit(arch, run.inp.version, mb, run.dma_bits)
    if arch in ("arm", "riscv"):
        return min(mb.end_of_dram(), SZ_4G)
    return SZ_4G


def crashkernel(run: Boot) -> None:
    """Step ``crashkernel``: the crash-kernel area (and the low part of a high one)."""
    inp, st = run.inp, run.st
    ck = inp.cmdline.crashkernel
    if ck is None:
        return
    total = st.mb.phys_mem_size()
    size = ck.size if ck.size is not None else size_from_ranges(ck.ranges, total, inp.version)
    if not size:
        st.note("crashkernel-zero", "crashkernel size resulted in zero bytes", ck.source, "crashkernel")
        return
    low_max = crashkernel_low_max(run)
    p = place_crashkernel(
        st.mb, size=size, offset=ck.offset, high=ck.high, low_size=ck.low_size, arch=inp.arch, low_max=low_max
    )
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
