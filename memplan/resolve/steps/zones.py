"""``cma_init_reserved_areas()`` → ``cma_activate_area()`` (mm/cma.c): an area whose pages are not
all in one zone is not activated ("CMA area %s could not be activated")."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from memplan.kernel import rules
from memplan.model import Region
from memplan.resolve.platform import zone_boundaries
from memplan.resolve.run import Boot
from memplan.units import format_range


def cma_total(regions: Iterable[Region]) -> int:
    """``totalcma_pages`` (``CmaTotal`` in ``/proc/meminfo``), in bytes: every CMA area that is in
    the layout after activation (mm/cma.c counts an area when it is reserved and takes it back
    when ``cma_activate_area()`` fails; 177 recorded boots, 5.10 – 7.2, agree)."""
    return sum(r.size or 0 for r in regions if r.is_cma and r.status == "ok" and r.activated is not False)


def activate_cma_areas(run: Boot) -> None:
    """Step ``activate``: decide, for every CMA area that was reserved, whether it is activated
    (``Region.activated``)."""
    st, v = run.st, run.inp.version
    bounds = zone_boundaries(run.inp.arch, v, st.mb, run.dma_bits, run.ctx.arm32_lowmem)
    for slot in st.regions:
        r = slot.region
        if not slot.is_cma_area or r.status != "ok" or r.base is None or not r.size:
            continue
        cut = next((b for b in bounds if r.base < b < r.base + r.size), None)
        if cut is None:
            slot.region = attrs.evolve(r, activated=True)
            continue
        # The range stays where memblock put it (the boot-time /proc/iomem lists it as
        # reserved), but it never becomes CMA. From 5.9 the kernel hands the pages to the
        # page allocator (plain RAM); before, they stayed reserved.
        fate = (
            "its pages are released to the page allocator"
            if rules.inactive_cma_pages_released(v)
            else "its pages stay reserved"
        )
        reason = (
            f"could not be activated: spans zones (boundary at {cut:#x}); reserved at boot, "
            f"then not a CMA area (not in CmaTotal), {fate}"
        )
        slot.region = attrs.evolve(r, status="failed", activated=False, reason=reason)
        st.event("cma-not-activated", name=r.name)
        st.note(
            "cma-not-activated",
            f"CMA area '{r.name}' ({format_range(r.base, r.size)}) crosses the "
            f"zone boundary at {cut:#x}; the kernel does not activate it",
            r.source,
            r.path or r.name,
        )
