"""The global CMA area from ``cma=`` or Kconfig (kernel/dma/contiguous.c ``dma_contiguous_reserve``,
mm/cma.c ``cma_declare_contiguous_nid``); who provides it is :mod:`memplan.resolve.precedence`."""

from __future__ import annotations

from attrs import evolve

from memplan.argnames import argument
from memplan.kernel import rules
from memplan.model import Origin
from memplan.resolve.cma import CmaRequest, declare_contiguous
from memplan.resolve.platform import arch_dma_limit, arm32_highmem_start
from memplan.resolve.precedence import SizeSel, cmdline_limit, kconfig_cma_size, kconfig_size_wraps
from memplan.resolve.run import Boot
from memplan.resolve.state import cma_area
from memplan.units import format_size

_WHERE = {
    "fixed": "at the fixed cma= base",
    "bottom-up-4g": "bottom-up from 4 GiB (5.12+ 64-bit rule)",
    "highmem": "in highmem first (32-bit)",
    "top-down": "top-down below {limit:#x}",
}


def global_cma(run: Boot) -> None:
    """Step ``global-cma``: size (``cma=`` or Kconfig), limit, placement and its log events."""
    inp, st, ctx = run.inp, run.st, run.ctx
    cfg = inp.config
    if not ctx.dma_cma:
        return
    sel: SizeSel = "mbytes"
    for known in ("percentage", "min", "max"):
        if cfg.size_sel == known:
            sel = known
    phys_bits, long_bits = (64 if ctx.phys_64bit else 32), (32 if inp.arch == "arm" else 64)
    run.kconfig_size = kconfig_cma_size(sel, cfg.mbytes, cfg.percentage, st.mb.phys_mem_size(), ctx.page_size,
                                        phys_bits, long_bits)
    cmd = inp.cmdline.cma if ctx.cma_given else None
    if st.default_area is not None:
        return
    size = cmd.size if cmd is not None else run.kconfig_size
    wrapped = None if cmd is not None else kconfig_size_wraps(
        sel, cfg.mbytes, cfg.percentage, st.mb.phys_mem_size(), ctx.page_size, phys_bits, long_bits)
    if wrapped is not None:
        st.note("kconfig-cma-size-wraps", f"{wrapped}: the kernel's global CMA size is "
                f"{size:#x} bytes ({format_size(size)})", cfg.size_source, "reserved")
    if size == 0:
        return
    if st.mb.phys_mem_size() == 0:
        run.global_failure = f"no RAM is known (pass {argument('memory')})"
        return
    v = inp.version
    arm_limit = run.arm_dma_zone().limit if inp.arch == "arm" else None
    arch_limit = arch_dma_limit(inp.arch, v, st.mb, run.dma_bits, arm_limit)
    base = cmd.base if cmd is not None else 0
    limit = cmdline_limit(v, cmd.limit, arch_limit) if cmd is not None else arch_limit
    if cmd is not None and cmd.limit and limit < cmd.limit and inp.arch == "arm64":
        st.note(
            "cma-limit-clipped",
            f"the cma= limit {cmd.limit:#x} is lowered to the DMA zone end {limit:#x} "
            "(min_not_zero before 6.16)",
            cmd.source,
            "reserved",
        )
    fixed = cmd.fixed if cmd is not None else False
    highmem = arm32_highmem_start(st.mb, ctx.arm32_lowmem) if inp.arch == "arm" else None
    origin: Origin = "cmdline" if cmd is not None else "kconfig"
    src = cmd.source if cmd is not None else cfg.size_source
    if st.cma_areas >= ctx.cma_slots:
        run.global_failure = "no free CMA area slot"
        st.note("cma-too-many-areas", "no CMA slot left for the global area", src, "reserved")
        return
    p = declare_contiguous(
        st.mb,
        CmaRequest(size, base, limit, 0, fixed),
        version=v,
        min_alignment=run.cma_min,
        phys_64bit=ctx.phys_64bit,
        highmem_start=highmem,
    )
    shown = size if rules.cma_reserved_line_shows_requested_size(v) else p.size
    slot = cma_area("reserved", "cma", p.size, src, origin)
    if fixed and p.ok:
        slot.region = evolve(slot.region, placement="static")
    if not p.ok:
        slot.region = evolve(slot.region, status="failed", base=None, reason=p.message)
        run.global_failure = p.message
        if p.failure == "misaligned-fixed":
            st.event("cma-aligned-base", base=base, other_base=p.alignment)
        elif p.failure == "exceeds-limit":
            st.event("cma-exceeds-limit", base=base, size=p.size, other_base=p.limit)
        st.event("cma-failed", size=shown, name="reserved")
        code = "cma-fixed-misaligned" if p.failure == "misaligned-fixed" else "cma-place-failed"
        st.note(
            code,
            f"the global CMA area ({format_size(size)} from {origin}) was not created: {p.message}",
            src,
            "reserved",
        )
    else:
        st.cma_areas += 1
        reason = "placed " + _WHERE[p.strategy].format(limit=p.limit)
        if inp.arch == "arm" and p.strategy == "bottom-up-4g" and p.base == st.mb.start_of_dram():
            # arm32 with RAM only above 4 GiB (keystone): the kernel image, its page tables, the DTB
            # and the initrd sit at the start of RAM, reserved before dma_contiguous_reserve()
            reason += (
                "; on a real board the kernel image occupies the start of RAM (memplan does not model "
                "it): the area starts at the first free CMA granule above it"
            )
        elif slot.region.placement == "modelled":
            reason += (
                "; the exact address depends on early allocations (page tables, the unflattened DT, "
                "initrd, struct pages ...), which are modelled"
            )
        slot.region = evolve(slot.region, base=p.base, reason=reason)
        st.event("cma-reserved", base=p.base, size=shown, name="reserved")
        if st.default_area is None:
            st.default_area = slot
    run.global_region = st.add(slot)
