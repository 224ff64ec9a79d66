"""Merge parsed observations (boot log, iomem, meminfo, debugfs, sysfs, DTB) into one :class:`Observed`.

The boot log gives names and (truncated) sizes; debugfs gives exact CMA bases and sizes; the
DTB at ``/sys/firmware/fdt`` says which node carries ``linux,cma-default``. How the global
area is recognised:

* an area called ``reserved`` (debugfs) or the first ``cma: Reserved ... at`` line that does not
  belong to ``hugetlb_cma`` is the command-line / Kconfig area; ``Kernel command line:``
  containing ``cma=`` says which of the two;
* a DT CMA pool (``Reserved memory: created CMA memory pool`` + ``initialized node``) is the
  default when the DTB marks it ``linux,cma-default``; without a DTB, when it is the only DT
  CMA pool (or is named ``linux,cma...``) and no ``reserved`` area was created before it;
* ``bypass`` / ``Skipping dt linux,cma-default`` lines mark the DT default as dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from memplan.dts import Tree
from memplan.dts.facts import extract
from memplan.model import Diagnostic
from memplan.observe._common import diag
from memplan.observe.cmalines import attribute_cma_lines
from memplan.observe.model import (
    BootLog,
    DebugfsCmaArea,
    Iomem,
    LogEvent,
    Meminfo,
    MemoryRange,
    Observed,
    ObservedCma,
    ObservedGlobalCma,
    ObservedOrigin,
    ObservedRegion,
    ObservedStatus,
    SysfsCmaArea,
)
from memplan.source import Source
from memplan.version import KernelVersion

_POOL_KIND = {"cma-created": "reusable", "dma-created": "dma-pool", "restricted-created": "restricted-dma"}
_CMA_PARAM_RE = re.compile(r"(?:^|\s)cma=")
_CMA_ERRORS = {
    "cma-aligned-base": "fixed base not aligned to the CMA alignment",
    "cma-boundary": "region straddles the low/high memory boundary",
    "cma-exceeds-limit": "base + size exceeds the limit",
    "cma-no-slots": "no free CMA area slot",
}
#: The reserved-memory messages about an invalid property, and the property each names.
_BAD_PROPERTY = {
    "rmem-bad-reg": "reg",
    "rmem-bad-size": "size",
    "rmem-bad-alignment": "alignment",
    "rmem-bad-alloc-ranges": "alloc-ranges",
}
_NUMA_NAME_RE = re.compile(r"^(?:pernuma|numa)\d+$")


@attrs.define
class _Reg:
    """A region being assembled from the log: the value so far, its evidence, its first line."""

    value: ObservedRegion
    order: int
    evidence: list[Source] = attrs.field(factory=list)

    def update(self, **changes: Any) -> None:
        self.value = attrs.evolve(self.value, **changes)

    def place(self, base: int | None, size: int | None, granule: int) -> None:
        if base is not None:
            self.update(base=base)
        if size is not None and (self.value.size is None or granule <= self.value.size_granule):
            self.update(size=size, size_granule=granule)

    def freeze(self) -> ObservedRegion:
        return attrs.evolve(self.value, evidence=tuple(self.evidence))


@attrs.define
class _LogFacts:
    regions: dict[str, _Reg] = attrs.field(factory=dict)
    global_event: LogEvent | None = None
    global_index: int | None = None
    global_ambiguous: bool = False
    #: Bases of the ``cma: Reserved`` lines the log alone cannot attribute (same sizes).
    ambiguous_bases: list[int] = attrs.field(factory=list)
    global_failed: LogEvent | None = None
    dropped: list[LogEvent] = attrs.field(factory=list)
    bypassed_names: list[str] = attrs.field(factory=list)
    created_index: dict[str, int] = attrs.field(factory=dict)
    diagnostics: list[Diagnostic] = attrs.field(factory=list)
    memory: list[MemoryRange] = attrs.field(factory=list)
    memory_limit: int | None = None
    cma_reserved_log: int | None = None


def _region(facts: _LogFacts, name: str, kind: str, order: int) -> _Reg:
    reg = facts.regions.get(name)
    if reg is None:
        reg = _Reg(ObservedRegion(name, kind, "ok"), order)
        facts.regions[name] = reg
    return reg


def _from_log(log: BootLog) -> _LogFacts:
    facts = _LogFacts()
    events = log.events
    pending_pool: LogEvent | None = None
    pending_reason: tuple[str, LogEvent] | None = None
    cma_lines = attribute_cma_lines(events, log.cmdline, log.kernel_version)
    cma_error: LogEvent | None = None
    user_map = any(e.kind == "memmap-map" for e in events)
    for index, e in enumerate(events):
        k = e.kind
        if k in _POOL_KIND:
            pending_pool = e
        elif k in ("cma-bypass", "cma-misaligned", "cma-unable", "dma-needs-nomap"):
            reason = {
                "cma-bypass": "bypassed: the command line's cma= takes precedence over the DT default",
                "cma-misaligned": "incorrect alignment of CMA region",
                "cma-unable": "unable to set up the CMA region",
                "dma-needs-nomap": "DMA pool without no-map is not supported on this architecture",
            }[k]
            pending_reason = (reason, e)
            if k == "cma-bypass" and e.name is not None:
                facts.dropped.append(e)
                facts.bypassed_names.append(e.name)
        elif k == "rmem-initialized" and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            reg.update(status="ok", compatible=e.text)
            reg.evidence.append(e.source)
            if pending_pool is not None:
                reg.update(kind=_POOL_KIND[pending_pool.kind])
                reg.place(pending_pool.base, pending_pool.size, pending_pool.size_granule)
                reg.evidence.insert(len(reg.evidence) - 1, pending_pool.source)
                if reg.value.kind == "reusable":
                    reg.update(reusable=True)
                    facts.created_index[e.name] = index
            pending_pool = None
            pending_reason = None
        elif k == "rmem-match-fail" and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            if pending_reason is not None:
                reg.evidence.append(pending_reason[1].source)
                status: ObservedStatus = "bypassed" if pending_reason[1].kind == "cma-bypass" else "rejected"
                reg.update(reason=pending_reason[0], status=status)
                if pending_reason[1].kind in ("cma-bypass", "cma-misaligned"):
                    reg.update(kind="reusable", reusable=True)
            else:
                reg.update(
                    status="rejected", reason="no init function accepted the node (compatible matching fail)"
                )
            reg.evidence.append(e.source)
            pending_pool = None
            pending_reason = None
        elif k == "rmem-summary" and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            flags = (e.text or "").split()
            reg.update(nomap="nomap" in flags, reusable="reusable" in flags)
            if reg.value.kind == "reserved":
                nomap, reusable = reg.value.nomap, reg.value.reusable
                reg.update(kind="no-map" if nomap else "reusable" if reusable else "reserved")
            reg.place(e.base, e.size, 1)
            if reg.value.status == "failed":
                # registered (the kernel saves the node even when its reservation failed: the
                # reason then stays RESERVE_FAILED_REASON)
                reg.update(status="ok")
            reg.evidence.append(e.source)
        elif k == "rmem-alloc-failed" and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            reg.update(status="failed", reason="dynamic allocation failed")
            reg.place(None, e.size, e.size_granule)
            reg.evidence.append(e.source)
        elif k == "rmem-reserve-failed" and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            reg.update(status="failed", reason=RESERVE_FAILED_REASON)
            reg.place(e.base, e.size, e.size_granule)
            reg.evidence.append(e.source)
        elif k in _BAD_PROPERTY and e.name is not None:
            reg = _region(facts, e.name, "reserved", index)
            reg.update(status="rejected", reason=f"invalid {_BAD_PROPERTY[k]} property")
            reg.evidence.append(e.source)
        elif k == "cma-skip":
            facts.dropped.append(e)
        elif k == "rmem-overlap" and e.name is not None:
            for name, base, end in ((e.name, e.base, e.end), (e.other_name, e.other_base, e.other_end)):
                if name is None or base is None or end is None:
                    continue
                reg = _region(facts, name, "reserved", index)
                if reg.value.base is None:
                    reg.place(base, end - base, 1)
                reg.evidence.append(e.source)
            facts.diagnostics.append(
                diag(
                    "warning",
                    "observed-overlap",
                    f"the kernel reported that {e.name} overlaps {e.other_name}",
                    e.source,
                    subject=e.name,
                )
            )
        elif k == "cma-reserved":
            line = cma_lines.get(index)
            if line is None:
                continue
            reg = _region(facts, line.name, line.kind, index)
            if line.is_global and facts.global_event is None:
                facts.global_event, facts.global_index = e, index
                facts.global_ambiguous = line.ambiguous
            if line.ambiguous and e.base is not None:
                facts.ambiguous_bases.append(e.base)
            reg.update(status="ok")
            reg.place(e.base, e.size, e.size_granule)
            reg.evidence.append(e.source)
        elif k in _CMA_ERRORS:
            cma_error = e
        elif k == "cma-failed":
            line = cma_lines.get(index)
            if line is None:
                continue
            reg = _region(facts, line.name, line.kind, index)
            if line.is_global and facts.global_event is None:
                facts.global_failed = e
            reason = "cma: Failed to reserve"
            if cma_error is not None:
                reason += f" ({_CMA_ERRORS[cma_error.kind]})"
                reg.evidence.append(cma_error.source)
                cma_error = None
            reg.update(status="failed", reason=reason)
            reg.place(None, e.size, e.size_granule)
            reg.evidence.append(e.source)
        elif k == "cma-not-activated" and e.name is not None:
            reg = _region(facts, e.name, "reusable", index)
            reg.update(
                status="failed",
                reason=NOT_ACTIVATED_REASON,
            )
            reg.evidence.append(e.source)
        elif k in ("crashkernel", "crashkernel-low"):
            reg = _region(facts, k, "crashkernel", index)
            reg.place(e.base, e.size, e.size_granule)
            reg.evidence.append(e.source)
        elif k == "swiotlb":
            reg = _region(facts, "swiotlb", "swiotlb", index)
            reg.place(e.base, e.size, 1)
            reg.evidence.append(e.source)
        elif k in ("e820-bios", "memmap-map") and e.base is not None and e.end is not None:
            if (k == "memmap-map") == user_map:
                facts.memory.append(MemoryRange(e.base, e.end, e.text or "", e.source, k == "memmap-map"))
        elif k == "mem-limit":
            facts.memory_limit = e.size
        elif k == "memory-summary" and e.size is not None:
            facts.cma_reserved_log = e.size
    return facts


def _attach_debugfs(facts: _LogFacts, areas: Iterable[DebugfsCmaArea]) -> list[ObservedCma]:
    out: list[ObservedCma] = []
    for area in areas:
        name = area.name
        if area.name_truncated:
            longer = [n for n in facts.regions if n.startswith(name)]
            if len(longer) == 1:
                name = longer[0]
        page = area.page_size
        used = None if area.used is None else area.used * page
        out.append(ObservedCma(name, area.base, area.size, 1, area.source, used))
        if name in facts.regions:
            reg = facts.regions[name]
        else:
            if name == "reserved":
                kind = "cma"
            elif name.startswith("hugetlb"):
                kind = "hugetlb-cma"
            elif _NUMA_NAME_RE.match(name):
                kind = "numa-cma"
            else:
                kind = "reusable"
            reg = _region(facts, name, kind, 1 << 30)
        reg.place(area.base, area.size, 1)
        reg.update(status="ok")
        reg.evidence.append(area.source)
    return out


def _cma_from_log(regions: Iterable[ObservedRegion]) -> list[ObservedCma]:
    return [
        ObservedCma(r.name, r.base, r.size, r.size_granule, r.source)
        for r in regions
        if r.name is not None
        and r.status == "ok"
        and r.kind in ("reusable", "cma", "numa-cma", "hugetlb-cma")
    ]


def _global(
    facts: _LogFacts,
    regions: dict[str, ObservedRegion],
    log: BootLog | None,
    cmdline: str | None,
    dt_default: tuple[str, ...],
    have_debugfs: bool,
    cma_total: int | None,
) -> ObservedGlobalCma:
    dropped = bool(facts.dropped)
    dropped_src = tuple(e.source for e in facts.dropped)
    reserved = regions.get("reserved")
    reserved_ok = reserved is not None and reserved.status == "ok"
    # DT default candidates that really became CMA areas.
    dt_cands = [
        r for r in regions.values() if r.kind == "reusable" and r.status == "ok" and r.name is not None
    ]
    chosen: ObservedRegion | None = None
    assumption = ""
    if dt_default:
        marked = [r for r in dt_cands if r.name in dt_default]
        if marked:
            chosen = max(marked, key=lambda r: facts.created_index.get(r.name or "", 0))
            assumption = "the DTB marks it linux,cma-default"
    else:
        named = [r for r in dt_cands if (r.name or "").startswith("linux,cma")]
        if named:
            chosen = named[-1]
            assumption = "named linux,cma (assumed to carry linux,cma-default; no DTB was read)"
        elif len(dt_cands) == 1 and not reserved_ok:
            chosen = dt_cands[0]
            assumption = "the only DT CMA pool (assumed to carry linux,cma-default; no DTB was read)"
    if chosen is not None and reserved_ok and facts.global_index is not None and not facts.global_ambiguous:
        created = facts.created_index.get(chosen.name or "")
        if created is None or created < facts.global_index:
            chosen = None  # the area from cma=/Kconfig was set up after it, so it is the default
    if chosen is not None:
        return ObservedGlobalCma(
            guessed_default=assumption.startswith("the only DT CMA pool"),
            known=True,
            origin="dts",
            name=chosen.name,
            base=chosen.base,
            size=chosen.size,
            size_granule=chosen.size_granule,
            dt_default_dropped=dropped,
            reason=f"DT CMA pool {chosen.name}: {assumption}",
            evidence=chosen.evidence,
        )
    if reserved is not None and reserved_ok:
        origin: ObservedOrigin
        if cmdline is None:
            origin, why = "cmdline-or-kconfig", "area 'reserved' exists; the command line is unknown"
        elif _CMA_PARAM_RE.search(cmdline):
            origin, why = "cmdline", "area 'reserved' exists and the command line has cma="
        else:
            origin, why = "kconfig", "area 'reserved' exists and the command line has no cma="
        return ObservedGlobalCma(
            known=True,
            origin=origin,
            name="reserved",
            base=reserved.base,
            size=reserved.size,
            size_granule=reserved.size_granule,
            dt_default_dropped=dropped,
            reason=why,
            evidence=reserved.evidence + dropped_src,
        )
    complete_log = log is not None and (
        log.first("linux-version") is not None or log.first("memory-summary") is not None
    )
    if complete_log or have_debugfs or cma_total == 0 or facts.global_failed is not None:
        why = "no global CMA area was created"
        if facts.global_failed is not None:
            why = "cma: Failed to reserve the global area"
        elif dropped:
            why = "the DT default was dropped for cma= and no area was built from it (cma=0?)"
        return ObservedGlobalCma(
            known=True,
            origin=None,
            dt_default_dropped=dropped,
            reason=why,
            evidence=dropped_src + ((facts.global_failed.source,) if facts.global_failed else ()),
        )
    return ObservedGlobalCma(
        known=False, dt_default_dropped=dropped, reason="nothing observed tells", evidence=dropped_src
    )


def _memory_from_iomem(iomem: Iomem) -> list[MemoryRange]:
    if iomem.hidden:
        return []
    out: list[MemoryRange] = []
    for e in iomem.entries:
        if e.name == "System RAM" or (e.name in ("reserved", "Reserved") and e.children == ()):
            out.append(MemoryRange(e.start, e.end + 1, e.name, e.source))
    return out


def dt_default_cma_nodes(tree: Tree) -> tuple[str, ...]:
    """Names of the enabled ``/reserved-memory`` children with ``linux,cma-default`` (read with
    the resolver's own :func:`memplan.dts.facts.extract`)."""
    return tuple(n.name for n in extract(tree).rmem_nodes if n.default_cma and n.enabled)


def dt_bootargs(tree: Tree) -> str | None:
    """``/chosen/bootargs`` of a DTB, if any (as :func:`memplan.dts.facts.extract` reads it)."""
    return extract(tree).bootargs


#: The reason of a region whose static reservation failed.
RESERVE_FAILED_REASON = "reservation failed (range already reserved or outside memory)"
#: The reason of an observed CMA area that was reserved at boot but not activated.
NOT_ACTIVATED_REASON = "reserved, but the CMA area could not be activated (e.g. it spans two zones)"


def build_observed(
    *,
    log: BootLog | None = None,
    iomem: Iomem | None = None,
    meminfo: Meminfo | None = None,
    debugfs: Sequence[DebugfsCmaArea] = (),
    sysfs: Sequence[SysfsCmaArea] = (),
    fdt: Tree | None = None,
    page_size: int = 4096,
    sources: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
) -> Observed:
    """Combine whatever was observed into one :class:`Observed` (every argument optional)."""
    facts = _from_log(log) if log is not None else _LogFacts()
    cma_areas = _attach_debugfs(facts, debugfs)
    all_diags: list[Diagnostic] = list(diagnostics)
    for part in (log, iomem, meminfo):
        if part is not None:
            all_diags.extend(part.diagnostics)
    all_diags.extend(facts.diagnostics)

    dt_default = dt_default_cma_nodes(fdt) if fdt is not None else ()
    for name in facts.regions:
        reg = facts.regions[name]
        if name in dt_default and reg.value.status == "ok":
            reg.update(reason=reg.value.reason or "linux,cma-default (from the DTB)")
    # A skip line (6.19+) does not name the node: use the DTB when we have it.
    if any(e.kind == "cma-skip" for e in facts.dropped):
        skip = next(e for e in facts.dropped if e.kind == "cma-skip")
        for name in dt_default:
            if name not in facts.regions:
                reg = _region(facts, name, "reusable", 0)
                reg.update(
                    status="bypassed",
                    reusable=True,
                    reason="skipped: the command line's cma= takes precedence "
                    '("Skipping dt linux,cma-default")',
                )
                reg.evidence.append(skip.source)

    ordered = sorted(facts.regions.values(), key=lambda r: r.order)
    regions = {r.value.name: r.freeze() for r in ordered if r.value.name is not None}
    if not cma_areas:
        cma_areas = _cma_from_log(regions.values())
        known = {c.name for c in cma_areas}
        for area in sysfs:
            if area.name not in known:
                cma_areas.append(ObservedCma(area.name, None, None, 1, area.source))

    kernel_version: KernelVersion | None = log.kernel_version if log is not None else None
    version_problem = log.kernel_version_problem() if log is not None else None
    if version_problem is not None:
        all_diags.append(version_problem)
    cmdline = log.cmdline if log is not None else None
    if cmdline is None and fdt is not None:
        cmdline = dt_bootargs(fdt)
    cma_total = meminfo.cma_total if meminfo is not None else None
    global_cma = _global(facts, regions, log, cmdline, dt_default, bool(debugfs), cma_total)
    if facts.ambiguous_bases:
        global_cma = attrs.evolve(global_cma, ambiguous_bases=tuple(facts.ambiguous_bases))

    memory = facts.memory or (_memory_from_iomem(iomem) if iomem is not None else [])
    machine_event = log.first("machine-model") if log is not None else None
    cma_field = meminfo.get("CmaTotal") if meminfo is not None else None
    if (
        cma_total is not None
        and cma_areas
        and all(c.size is not None and c.size_granule == 1 for c in cma_areas)
    ):
        total = sum(c.size or 0 for c in cma_areas)
        if total != cma_total:
            all_diags.append(
                diag(
                    "info",
                    "observed-cmatotal-differs",
                    f"CmaTotal is {cma_total} bytes but the CMA areas found add up to {total} bytes "
                    "(an area may be missing from the observation)",
                    cma_field.source if cma_field is not None else None,
                )
            )
    return Observed(
        kernel_version=kernel_version,
        cmdline=cmdline,
        machine=machine_event.text if machine_event is not None else None,
        kernel_release=log.kernel_release if log is not None else None,
        regions=tuple(regions.values()),
        cma_areas=tuple(cma_areas),
        global_cma=global_cma,
        cma_total=cma_total,
        cma_free=meminfo.cma_free if meminfo is not None else None,
        mem_total=meminfo.mem_total if meminfo is not None else None,
        cma_reserved_log=facts.cma_reserved_log,
        memory=tuple(memory),
        memory_limit=facts.memory_limit,
        dt_default_cma=dt_default,
        page_size=page_size,
        iomem=iomem,
        meminfo=meminfo,
        log=log,
        debugfs=tuple(debugfs),
        sysfs=tuple(sysfs),
        fdt=fdt,
        sources=tuple(sources),
        diagnostics=tuple(all_diags),
    )
