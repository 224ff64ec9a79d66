"""Compare a :class:`~memplan.plan.Plan` (the prediction) with an :class:`Observed` boot.

Regions are matched by name first (DT node name; ``reserved`` for the global area built from
``cma=``/Kconfig; ``crashkernel``; ``swiotlb``), then by base address, then — for regions
that print nothing in the boot log — by coverage in ``/proc/iomem`` or the e820 map.

Entry statuses:

* ``matched``: the kernel did what memplan predicted (placed at the same base with a
  consistent size, or rejected/bypassed/failed as predicted).
* ``moved``: same region, different base.
* ``resized``: same region and base, size not consistent with the printed size.
* ``missing``: predicted in the layout, but the kernel did not create it (or created it
  with a failure).
* ``unexpected``: the kernel created something memplan did not predict (or accepted what
  memplan predicted it would refuse).
* ``unverified``: nothing observed can confirm or refute it (e.g. a plain reserved node on a
  pre-6.3 kernel when no iomem was given). Never a mismatch.

``moved`` entries whose predicted placement is ``modelled`` are mismatches unless the
comparison was made with ``tolerate_modelled=True`` (``memplan check --tolerate-modelled``):
their address depends on early allocations memplan cannot see, so a difference there is
expected but still worth showing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from memplan.kernel import rules
from memplan.model import Region
from memplan.observe.combine import NOT_ACTIVATED_REASON, RESERVE_FAILED_REASON
from memplan.observe.model import Observed, ObservedGlobalCma, ObservedRegion
from memplan.observe.verdict import (
    INCONCLUSIVE_MESSAGE,
    MISMATCH_STATUSES,
    Comparison,
    EntryStatus,
    GlobalComparison,
    GlobalStatus,
    MatchedBy,
    RegionComparison,
    format_address,
    render_comparison_text,
)
from memplan.units import align_up, optional_size
from memplan.version import KernelVersion

if TYPE_CHECKING:
    from memplan.plan import Plan

_CMA_KINDS = ("reusable", "cma", "numa-cma", "hugetlb-cma")
_DT_KINDS = ("no-map", "reusable", "dma-pool", "restricted-dma", "reserved")
#: Observed kinds that are only compared when the plan models that kind at all.
_OPTIONAL_KINDS = ("swiotlb", "crashkernel", "hugetlb-cma", "numa-cma")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _version_note(plan_v: KernelVersion | None, obs_v: KernelVersion | None) -> str | None:
    if plan_v is None or obs_v is None:
        return None
    if rules.same_series(plan_v, obs_v):
        return None
    return f"kernel version differs: predicted for {plan_v}, observed {obs_v}"


def _is_global_area(r: Region) -> bool:
    return r.kind == "cma" and r.origin in ("cmdline", "kconfig")


def _name_keys(r: Region) -> list[str]:
    keys = [r.name]
    if r.path:
        keys.append(r.path.rsplit("/", 1)[-1])
    if _is_global_area(r):
        keys.append("reserved")
    return keys


def _find_by_name(r: Region, pool: dict[str, ObservedRegion]) -> ObservedRegion | None:
    for key in _name_keys(r):
        if key in pool:
            return pool[key]
    return None


#: Kinds of areas that print the same unnamed ``cma: Reserved`` line.
_CMA_LINE_KINDS = ("cma", "numa-cma", "hugetlb-cma")


def _find_by_address(r: Region, pool: dict[str, ObservedRegion]) -> ObservedRegion | None:
    if r.base is None or r.origin == "arch":
        return None  # the kernel's own early allocations are never named in the log
    for o in pool.values():
        if o.base == r.base and (
            o.kind == r.kind
            or (o.kind in _DT_KINDS and r.kind in _DT_KINDS)
            or (o.kind in _CMA_LINE_KINDS and r.kind in _CMA_LINE_KINDS)
        ):
            return o
    return None


def _covered_by_iomem(r: Region, observed: Observed) -> bool:
    if observed.iomem is None or observed.iomem.hidden or r.base is None or r.size is None:
        return False
    end = r.base + r.size
    names = ("reserved", "Reserved", "Crash kernel") if not r.no_map else ("reserved", "Reserved")
    spans = sorted((e.start, e.end + 1) for e in observed.iomem.walk() if e.name in names)
    pos = r.base
    for start, stop in spans:
        if start <= pos < stop:
            pos = stop
        if pos >= end:
            return True
    if r.no_map:
        ram = [(e.start, e.end + 1) for e in observed.iomem.entries if e.name == "System RAM"]
        # no-map ranges may be absent from System RAM altogether (older kernels remove them)
        return bool(ram) and not any(s < end and r.base < t for s, t in ram)
    return False


def _covered_by_e820(r: Region, observed: Observed) -> bool:
    if r.base is None or r.size is None:
        return False
    end = r.base + r.size
    return any(
        m.base <= r.base and end <= m.end and m.type not in ("usable", "System RAM") for m in observed.memory
    )


def _lists_every_cma_area(observed: Observed) -> bool:
    """True when the observation names every CMA area the kernel created: the debugfs listing,
    or a boot log from its first line (every area prints a line when it is reserved). Then a
    reserved range in /proc/iomem at a predicted CMA area's address is something else."""
    log = observed.log
    return bool(observed.debugfs) or (log is not None and log.first("linux-version") is not None)


def _observable(r: Region, observed: Observed) -> bool:
    """Whether the observation would show this region if the kernel had created it."""
    log = observed.log
    if r.is_cma and (log is not None or observed.debugfs):
        return True
    if log is None:
        return False
    if r.kind in ("dma-pool", "restricted-dma", "crashkernel", "swiotlb"):
        return True
    if r.kind == "memmap":
        return any(m.user_defined for m in observed.memory)
    return r.origin == "dts" and observed.lists_all_reserved_nodes


def _moved_reason(r: Region, o: ObservedRegion, version_note: str | None) -> str:
    if r.placement == "modelled":
        why = "dynamic placement depends on early allocations memplan cannot see"
    elif r.placement == "dynamic":
        why = "dynamic allocation order or the free memory at allocation time differs"
    else:
        why = "the kernel reserved a different range than the inputs fix; was the same DTB booted?"
    return f"{why}{'; ' + version_note if version_note else ''}"


def _size_reason(r: Region, o: ObservedRegion, alignment: int | None) -> str:
    if r.size is not None and alignment and r.is_cma and o.size_matches(align_up(r.size, alignment)):
        return f"size rounded to CMA alignment ({optional_size(alignment)})"
    return f"size differs: predicted {optional_size(r.size)}, observed {optional_size(o.size)}"


def _compare_ok_region(
    r: Region, o: ObservedRegion, plan: Plan, by: MatchedBy, vnote: str | None, tolerate: bool
) -> RegionComparison:
    if o.status != "ok":
        why = o.reason or f"the kernel reports the region as {o.status}"
        return RegionComparison(r.name, "missing", r, o, by, f"{why}{'; ' + vnote if vnote else ''}")
    if r.base is not None and o.base is not None and r.base != o.base:
        tolerated = tolerate and r.placement == "modelled"
        return RegionComparison(r.name, "moved", r, o, by, _moved_reason(r, o, vnote), tolerated)
    if r.size is not None and not o.size_matches(r.size):
        return RegionComparison(r.name, "resized", r, o, by, _size_reason(r, o, plan.cma_alignment))
    return RegionComparison(r.name, "matched", r, o, by)


def _compare_inactive(
    r: Region, o: ObservedRegion | None, observed: Observed, by: MatchedBy, vnote: str | None
) -> RegionComparison:
    """A CMA area predicted as reserved at boot but never activated (it spans two zones).

    The kernel shows such an area as a ``cma: Reserved`` line followed by "could not be
    activated" (observed status ``failed`` with its base); the boot-time ``/proc/iomem`` still
    lists it as reserved, and it is not in CmaTotal."""
    suffix = f"; {vnote}" if vnote else ""
    if o is None:
        if _covered_by_iomem(r, observed) and not _lists_every_cma_area(observed):
            return RegionComparison(
                r.name, "matched", r, None, "iomem", "reserved at boot, as predicted (covered in /proc/iomem)"
            )
        if _observable(r, observed):
            why = "memplan predicted the area reserved (but not activated); the kernel did not report it"
            return RegionComparison(r.name, "missing", r, None, "none", why + suffix)
        return RegionComparison(r.name, "unverified", r, None, "none", "not visible in what was observed")
    if o.status == "ok":
        why = f"memplan predicted the area would not be activated ({r.reason}), but the kernel activated it"
        return RegionComparison(r.name, "unexpected", r, o, by, why + suffix)
    if o.base is None and o.reason == NOT_ACTIVATED_REASON:
        # 6.15+ prints "cma: Reserved N MiB in 1 range" without an address
        if r.size is not None and not o.size_matches(r.size):
            return RegionComparison(r.name, "resized", r, o, by, _size_reason(r, o, None))
        if _covered_by_iomem(r, observed):
            return RegionComparison(r.name, "matched", r, o, "iomem", "reserved, not activated, as predicted")
        why = "reserved, not activated, as predicted (no address logged)"
        return RegionComparison(r.name, "matched", r, o, by, why)
    if o.base is None:
        why = f"the kernel did not reserve the area ({o.reason or o.status}); memplan predicted it reserved"
        return RegionComparison(r.name, "missing", r, o, by, why + suffix)
    if r.base is not None and o.base != r.base:
        why = _moved_reason(r, o, vnote) + " (reserved, not activated)"
        return RegionComparison(r.name, "moved", r, o, by, why)
    if r.size is not None and not o.size_matches(r.size):
        return RegionComparison(r.name, "resized", r, o, by, _size_reason(r, o, None))
    return RegionComparison(r.name, "matched", r, o, by, "reserved, not activated, as predicted")


def _compare_region(
    r: Region,
    plan: Plan,
    observed: Observed,
    pool: dict[str, ObservedRegion],
    vnote: str | None,
    tolerate: bool,
    inactive: frozenset[str] = frozenset(),
) -> RegionComparison:
    o = _find_by_name(r, pool)
    by: MatchedBy = "name"
    if (
        o is not None
        and r.kind in _CMA_LINE_KINDS
        and o.base is not None
        and r.base is not None
        and o.base != r.base
    ):
        # the log does not name the areas behind "cma: Reserved" lines (their names are
        # attributed): an area at the predicted address is the better match
        at = _find_by_address(r, pool)
        if at is not None:
            o, by = at, "address"
    if o is None and (r.status == "ok" or r.name in inactive):
        # only a region the kernel placed can be recognised by its address (a bypassed or
        # rejected one would take the row of another node at the same base)
        o = _find_by_address(r, pool)
        by = "address"
    if o is not None and o.name is not None:
        pool.pop(o.name, None)
    if r.name in inactive:
        return _compare_inactive(r, o, observed, by, vnote)
    if r.status == "ok":
        if o is not None:
            return _compare_ok_region(r, o, plan, by, vnote, tolerate)
        if r.kind == "memmap" and _covered_by_e820(r, observed):
            return RegionComparison(r.name, "matched", r, None, "e820")
        if _covered_by_iomem(r, observed) and not (r.is_cma and _lists_every_cma_area(observed)):
            return RegionComparison(
                r.name, "matched", r, None, "iomem", "covered by reserved ranges in /proc/iomem"
            )
        if _observable(r, observed):
            why = "the kernel did not report this region"
            if r.default_cma and observed.global_cma.dt_default_dropped:
                why = "the kernel dropped the DT default CMA node because cma= was given"
            return RegionComparison(
                r.name, "missing", r, None, "none", f"{why}{'; ' + vnote if vnote else ''}"
            )
        return RegionComparison(r.name, "unverified", r, None, "none", "not visible in what was observed")
    # predicted not to be in the layout
    if o is not None and o.status == "ok" and r.status == "failed" and o.reason == RESERVE_FAILED_REASON:
        # "failed to reserve memory for node": the kernel still registers the node
        why = "its reservation failed and the kernel registered the node anyway, as predicted"
        return RegionComparison(r.name, "matched", r, o, by, why)
    if o is not None and o.status == "ok":
        why = f"memplan predicted {r.status}"
        if r.reason:
            why += f" ({r.reason})"
        why += ", but the kernel created it"
        if r.default_cma and r.status == "bypassed" and observed.kernel_version is not None:
            if not rules.cmdline_beats_dt_default(observed.kernel_version):
                why += f"; kernel {observed.kernel_version} predates 5.6, where the DT default wins over cma="
        elif vnote:
            why += f"; {vnote}"
        return RegionComparison(r.name, "unexpected", r, o, by, why)
    if o is not None:
        note = None if o.status == r.status else f"predicted {r.status}, kernel reports {o.status}"
        return RegionComparison(r.name, "matched", r, o, by, note)
    if r.status == "disabled" or _observable(r, observed):
        return RegionComparison(r.name, "matched", r, None, "none", f"absent, as predicted ({r.status})")
    return RegionComparison(r.name, "unverified", r, None, "none", "not visible in what was observed")


def _unexpected(o: ObservedRegion, plan_kinds: set[str], vnote: str | None) -> RegionComparison:
    name = o.name or format_address(o.base)
    if o.kind in _OPTIONAL_KINDS and o.kind not in plan_kinds:
        return RegionComparison(
            name,
            "unverified",
            None,
            o,
            "none",
            f"the plan has no {o.kind} regions (not modelled for these inputs)",
        )
    if o.status != "ok":
        why = f"the kernel reports {o.status} for a region memplan did not predict"
    else:
        why = (
            "not in the prediction: a different DTB or command line was booted, or a kernel/firmware addition"
        )
    return RegionComparison(name, "unexpected", None, o, "none", f"{why}{'; ' + vnote if vnote else ''}")


def _origin_agrees(pred: str | None, obs: str | None) -> bool:
    if obs == "cmdline-or-kconfig":
        return pred in ("cmdline", "kconfig")
    return pred == obs


def _settle_ambiguous(plan: Plan, observed: Observed, o: ObservedGlobalCma) -> ObservedGlobalCma:
    """When the log cannot tell the global area's ``cma: Reserved`` line from per-node lines of the
    same size, take the one the prediction places the global area at (or none, when the
    prediction has no global area from ``cma=``/Kconfig there)."""
    amb = o.ambiguous_bases
    if not amb or o.origin == "dts":
        return o
    g = plan.global_cma
    why = "the log does not tell the global area from per-node areas of the same size"
    if g.origin in ("cmdline", "kconfig") and g.base in amb:
        line = next((x for x in observed.regions if x.base == g.base), None)
        if line is not None:
            return attrs.evolve(
                o,
                known=True,
                origin=g.origin,
                name="reserved",
                base=line.base,
                size=line.size,
                size_granule=line.size_granule,
                ambiguous_bases=(),
                reason=f"{why}; the line at {format_address(g.base)} is taken as the global area",
            )
    if o.base in amb and not (g.origin in ("cmdline", "kconfig") and g.base == o.base):
        return attrs.evolve(
            o,
            origin=None,
            name=None,
            base=None,
            size=None,
            ambiguous_bases=(),
            reason=f"{why}; none of them is taken as the global area",
        )
    return o


def _compare_global(
    plan: Plan, observed: Observed, tolerate: bool, vnote: str | None, modelled: bool
) -> GlobalComparison:
    g = plan.global_cma
    o = observed.global_cma
    guessed = next((r for r in plan.regions if r.name == o.name), None) if o.guessed_default else None
    if guessed is not None and guessed.path is not None and not guessed.default_cma:
        # the log alone cannot tell a default pool from another one; the Device Tree the
        # prediction was made from says this one is not linux,cma-default
        o = attrs.evolve(
            o,
            origin=None,
            name=None,
            base=None,
            size=None,
            guessed_default=False,
            reason=f"no global CMA area: {guessed.name} is not linux,cma-default in the Device Tree",
        )
    o = _settle_ambiguous(plan, observed, o)
    args: dict[str, Any] = {
        "predicted_origin": g.area_origin,
        "predicted_size": g.size,
        "predicted_base": g.base,
        "predicted_region": g.region,
        "observed": o,
    }
    if not o.known:
        return GlobalComparison("unknown", reasons=("nothing observed shows the global CMA area",), **args)
    reasons: list[str] = []
    only_base = True
    if not _origin_agrees(g.area_origin, o.origin):
        only_base = False
        reasons.append(f"origin differs: predicted {g.area_origin or 'none'}, observed {o.origin or 'none'}")
        ov = observed.kernel_version
        if g.origin == "dts" and o.origin in ("cmdline", "cmdline-or-kconfig") and ov is not None:
            if rules.cmdline_beats_dt_default(ov):
                reasons.append(f"kernel version differs: {ov} bypasses the DT default when cma= is present")
        elif (
            g.origin in ("cmdline",)
            and o.origin == "dts"
            and ov is not None
            and not rules.cmdline_beats_dt_default(ov)
        ):
            reasons.append(f"kernel version differs: {ov} predates 5.6, where the DT default wins over cma=")
        elif vnote:
            reasons.append(vnote)
        if observed.cmdline is not None and observed.cmdline.split() != plan.cmdline.split():
            reasons.append(f"the booted command line differs: {observed.cmdline!r}")
    elif g.area_origin is not None:
        if g.size is not None and not o.size_matches(g.size):
            only_base = False
            size_why = f"size differs: predicted {optional_size(g.size)}, observed {optional_size(o.size)}"
            if plan.cma_alignment and o.size_matches(align_up(g.size, plan.cma_alignment)):
                size_why = f"size rounded to CMA alignment ({optional_size(plan.cma_alignment)})"
            reasons.append(size_why)
        if g.base is not None and o.base is not None and g.base != o.base:
            base_why = f"base differs: predicted {format_address(g.base)}, observed {format_address(o.base)}"
            if modelled:
                base_why += " (dynamic placement depends on early allocations memplan cannot see)"
            reasons.append(base_why)
        elif g.base is None and o.base is not None and g.size is not None:
            only_base = False
            reasons.append("memplan could not place the area, but the kernel did")
    if not reasons:
        return GlobalComparison("matched", **args)
    tolerated = tolerate and modelled and only_base
    return GlobalComparison("differs", reasons=tuple(reasons), tolerated=tolerated, **args)


def compare(plan: Plan, observed: Observed, tolerate_modelled: bool = False) -> Comparison:
    """Compare ``plan`` with ``observed`` region by region, plus the global CMA verdict."""
    vnote = _version_note(plan.kernel_version, observed.kernel_version)
    pool = {r.name: r for r in observed.regions if r.name is not None}
    inactive = plan.not_activated
    entries = [
        _compare_region(r, plan, observed, pool, vnote, tolerate_modelled, inactive) for r in plan.regions
    ]
    plan_kinds: set[str] = {r.kind for r in plan.regions}
    entries.extend(_unexpected(o, plan_kinds, vnote) for o in pool.values())
    global_region: Region | None = None
    if plan.global_cma.region is not None:
        global_region = next((r for r in plan.regions if r.name == plan.global_cma.region), None)
    modelled = global_region is not None and global_region.placement == "modelled"
    # A prediction for an architecture memplan does not model is only a rough guide: said first.
    notes: list[str] = [str(d) for d in plan.diagnostics if d.code == "arch-unmodelled"]
    if vnote:
        notes.append(vnote)
    if observed.cmdline is not None and observed.cmdline.split() != plan.cmdline.split():
        notes.append(f"command line differs: predicted {plan.cmdline!r}, observed {observed.cmdline!r}")
    if observed.cma_total is not None and plan.cma_total is not None:
        predicted_total = plan.cma_total
        if predicted_total != observed.cma_total:
            notes.append(
                f"CmaTotal: predicted {optional_size(predicted_total)}, "
                f"observed {optional_size(observed.cma_total)}"
            )
    notes.extend(str(d) for d in observed.diagnostics if d.severity != "info")
    return Comparison(
        entries=tuple(entries),
        global_cma=_compare_global(plan, observed, tolerate_modelled, vnote, modelled),
        predicted_version=plan.kernel_version,
        observed_version=observed.kernel_version,
        notes=tuple(notes),
        tolerate_modelled=tolerate_modelled,
    )


__all__ = [
    "INCONCLUSIVE_MESSAGE",
    "MISMATCH_STATUSES",
    "Comparison",
    "EntryStatus",
    "GlobalComparison",
    "GlobalStatus",
    "RegionComparison",
    "compare",
    "render_comparison_text",
]
