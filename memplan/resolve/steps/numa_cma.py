"""The per-node CMA areas of ``cma_pernuma=`` / ``numa_cma=`` (kernel/dma/contiguous.c
``dma_pernuma_cma_reserve`` 5.10 – 6.5, ``dma_numa_cma_reserve`` 6.6+; :mod:`memplan.resolve.numa`)."""

from __future__ import annotations

from attrs import evolve

from memplan.kernel import rules
from memplan.resolve.cma import CmaRequest, declare_contiguous
from memplan.resolve.numa import node_cma_available, node_cma_requests
from memplan.resolve.run import Boot
from memplan.resolve.state import cma_area
from memplan.units import format_size


def node_cma(run: Boot) -> None:
    """Step ``numa-cma``: ``pernuma<nid>`` / ``numa<nid>``, each
    ``cma_declare_contiguous_nid(0, size, 0, ...)`` on exactly its node."""
    inp, st, ctx = run.inp, run.st, run.ctx
    cl, cfg, v = inp.cmdline, inp.config, inp.version
    if not cl.pernuma and not cl.numa_cma:
        return
    src = cl.pernuma_source or cl.numa_cma_source
    if not node_cma_available(v, inp.arch, cfg.dma_pernuma_cma, cfg.dma_numa_cma):
        option = "CONFIG_DMA_NUMA_CMA" if rules.numa_cma_generic(v) else "CONFIG_DMA_PERNUMA_CMA (arm64)"
        st.note(
            "numa-cma-unsupported",
            f"cma_pernuma=/numa_cma= has no effect: this kernel has no {option} "
            "(the parameter is unknown to it)",
            src,
            "numa-cma",
        )
        return
    reqs, offline = node_cma_requests(v, run.nodes, cl.pernuma, cl.numa_cma)
    for nid in offline:
        st.event("numa-cma-invalid-node", count=nid, node=nid)
        st.note(
            "numa-cma-offline",
            f"numa_cma= names node {nid}, which is not online ('invalid node {nid} specified')",
            cl.numa_cma_source,
            f"numa{nid}",
        )
    shows_request = rules.cma_reserved_line_shows_requested_size(v)
    for req in reqs:
        rsrc = cl.pernuma_source if req.kind == "pernuma" else cl.numa_cma_source
        slot = st.add(cma_area(req.name, "numa-cma", req.size, rsrc))
        if st.cma_areas >= ctx.cma_slots:
            slot.region = evolve(slot.region, status="failed", base=None, reason="no free CMA area slot")
            st.note("cma-too-many-areas", f"no CMA slot left for '{req.name}'", rsrc, req.name)
            continue
        p = declare_contiguous(
            st.mb,
            CmaRequest(req.size, name=req.name, within=run.nodes[req.nid]),
            version=v,
            min_alignment=run.cma_min,
            phys_64bit=ctx.phys_64bit,
        )
        if p.ok:
            st.cma_areas += 1
            reason = f"{req.kind} area of node {req.nid}, placed {p.strategy} inside the node"
            slot.region = evolve(slot.region, size=p.size, base=p.base, reason=reason)
            st.event("cma-reserved", base=p.base, size=req.size if shows_request else p.size, node=req.nid,
                     name=req.name)
        else:
            slot.region = evolve(slot.region, size=p.size, status="failed", reason=p.message)
            st.event("numa-cma-failed", name=req.name, count=req.nid, node=req.nid)
            st.note(
                "cma-place-failed",
                f"{req.name} ({format_size(req.size)} on node {req.nid}) was not created: {p.message}",
                rsrc,
                req.name,
            )
