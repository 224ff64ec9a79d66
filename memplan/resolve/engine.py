"""The resolution pipeline: run the boot steps in the order of :mod:`memplan.kernel.boot_order`,
then bind devices, explain the global CMA area and freeze the result into a :class:`Plan`."""

from __future__ import annotations

from collections.abc import Callable

from memplan.kernel.boot_order import Step, boot_steps
from memplan.model import GlobalCma
from memplan.plan import ArchModel, Plan
from memplan.resolve.candidates import build_candidates
from memplan.resolve.checks import outside_ram
from memplan.resolve.devices import bind_devices
from memplan.resolve.inputs import Inputs
from memplan.resolve.run import Boot
from memplan.resolve.steps import crashkernel, early, global_cma, hugetlb, numa_cma, ram, reserved, zones
from memplan.resolve.steps.zones import cma_total

#: What each boot step of the order table runs.
STEPS: dict[Step, Callable[[Boot], None]] = {
    "ram": ram.ram,
    "scan-reserved": reserved.scan,
    "late-statics": reserved.late_statics,
    "early": early.early_allocations,
    "sparse": early.sparse_buffers,
    "numa-cma": numa_cma.node_cma,
    "hugetlb": hugetlb.hugetlb_cma,
    "global-cma": global_cma.global_cma,
    "crashkernel": crashkernel.crashkernel,
    "activate": zones.activate_cma_areas,
}


def run_boot(inp: Inputs) -> Boot:
    """Run every boot step of ``inp``'s architecture and version, in order."""
    run = Boot.start(inp)
    for step in boot_steps(inp.arch, inp.version):
        if step not in run.done:
            run.done.add(step)
            STEPS[step](run)
    return run


def resolve_inputs(inp: Inputs) -> Plan:
    """Resolve typed inputs into a :class:`Plan`."""
    run = run_boot(inp)
    st, ctx = run.st, run.ctx
    dma_zone = run.arm_dma_zone() if inp.arch == "arm" and st.mb.phys_mem_size() else None
    devices = bind_devices(st, inp.dt) if inp.dt is not None else ()
    cands, origin, size, base, name, status = build_candidates(run)
    global_cma = GlobalCma(
        origin=origin, size=size, base=base, region=name, candidates=tuple(cands), status=status
    )
    regions = sorted((s.region for s in st.regions), key=lambda r: (r.base is None, r.base or 0, r.name))
    diags = (*inp.diagnostics, *inp.config.diagnostics, *inp.cmdline.diagnostics, *st.diagnostics)
    diags = (*diags, *outside_ram(regions, run.banks, st.diagnostics))
    return Plan(
        arch=inp.arch,
        kernel_version=inp.version if inp.version_known else None,
        precedence=inp.precedence,
        precedence_requested=inp.precedence_requested,
        cmdline=inp.cmdline.text,
        cmdline_origin=inp.cmdline.origin,
        memory=tuple(run.banks),
        regions=tuple(regions),
        devices=tuple(devices),
        global_cma=global_cma,
        diagnostics=tuple(diags),
        page_size=ctx.page_size,
        cma_alignment=run.cma_min,
        events=tuple(st.events),
        model_version=inp.version,
        arch_model=ArchModel(
            phys_addr_bits=64 if ctx.phys_64bit else 32,
            boot_steps=tuple(boot_steps(inp.arch, inp.version)),
            dma_zone=dma_zone,
        ),
        cma_total=cma_total(regions) if ctx.cma_enabled else None,
    )


__all__ = ["STEPS", "resolve_inputs", "run_boot"]
