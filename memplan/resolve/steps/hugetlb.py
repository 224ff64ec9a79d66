"""``hugetlb_cma=`` (mm/hugetlb.c, later mm/hugetlb_cma.c): a CMA area ``hugetlb0`` for gigantic
pages. arm64 reserves it in ``bootmem_init()`` before ``sparse_init()`` and the global area
(before 7.0; after it in 7.x); x86 after the global area (:mod:`memplan.kernel.boot_order`)."""

from __future__ import annotations

from attrs import evolve

from memplan.kernel import rules
from memplan.resolve import fitted
from memplan.resolve.cma import CmaRequest, declare_contiguous
from memplan.resolve.run import Boot
from memplan.resolve.state import cma_area
from memplan.units import format_size


def hugetlb_cma(run: Boot) -> None:
    """Step ``hugetlb``: the size must be a multiple of the gigantic page (1 GiB; 7.x refuses
    others, older kernels round up); the alignment is the PMD huge page before 7.0 and the
    gigantic page on 7.x (:mod:`memplan.resolve.fitted`)."""
    inp, st = run.inp, run.st
    size = inp.cmdline.hugetlb_cma
    if not size or not inp.config.cma or inp.arch not in ("arm64", "x86"):
        return
    if not rules.hugetlb_cma_exists(inp.version):
        st.note(
            "hugetlb-cma-unsupported",
            f"hugetlb_cma= has no effect: it exists from 5.7 (kernel {inp.version})",
            inp.cmdline.hugetlb_cma_source,
            "hugetlb0",
        )
        return
    gig = fitted.GIGANTIC_PAGE
    src = inp.cmdline.hugetlb_cma_source
    v = inp.version
    gigantic_only = rules.hugetlb_cma_gigantic_only(v)
    if size % gig:
        if gigantic_only:
            st.event("hugetlb-cma-multiple", size=gig)
            st.note(
                "cma-place-failed",
                f"hugetlb_cma= {format_size(size)} is not a multiple of {format_size(gig)}; "
                "no hugetlb CMA area",
                src,
                "hugetlb0",
            )
            return
        size = -(-size // gig) * gig
    st.event("hugetlb-cma-reserve", size=size)
    p = declare_contiguous(
        st.mb,
        CmaRequest(size, 0, 0, gig if gigantic_only else fitted.HUGETLB_CMA_ALIGN_OLD, False, "hugetlb0"),
        version=v,
        min_alignment=run.cma_min,
        phys_64bit=True,
    )
    slot = cma_area("hugetlb0", "hugetlb-cma", p.size, src)
    if p.ok:
        st.cma_areas += 1
        slot.region = evolve(
            slot.region, base=p.base, reason=f"hugetlb_cma= area for gigantic pages ({p.strategy})"
        )
        st.event("cma-reserved", base=p.base, size=p.size, node=0, name="hugetlb0", hugetlb=True)
        st.event("hugetlb-cma-reserved", size=p.size, node=0)
    else:
        slot.region = evolve(slot.region, status="failed", reason=p.message)
        st.event("cma-failed", size=p.size, name="hugetlb0", hugetlb=True)
        st.event("hugetlb-cma-failed", node=0, count=-12)
        st.note("cma-place-failed", f"hugetlb_cma= area not created: {p.message}", src, "hugetlb0")
    st.add(slot)
