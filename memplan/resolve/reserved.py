"""``/reserved-memory`` and ``/memreserve/`` processing by era (kernel-semantics §3, §2.2).

Kernel files: drivers/of/fdt.c (``early_init_fdt_scan_reserved_mem``, ≤ v6.6 or so),
drivers/of/of_reserved_mem.c (``fdt_scan_reserved_mem``, ``fdt_init_reserved_mem``,
``__reserved_mem_alloc_size``, ``__reserved_mem_init_node``), kernel/dma/contiguous.c
(``rmem_cma_setup``), kernel/dma/coherent.c (``rmem_dma_setup``), kernel/dma/swiotlb.c
(``rmem_swiotlb_setup``).
"""

from __future__ import annotations

import itertools
from typing import Literal

from attrs import evolve

from memplan.argnames import argument
from memplan.dts.facts import DtFacts, RmemNode
from memplan.kernel import rules
from memplan.kernel.events import EventKind
from memplan.model import Region, RegionKind
from memplan.resolve.arm32 import lowmem_remap_hangs
from memplan.resolve.order import sorted_saved_array
from memplan.resolve.precedence import Era, dt_default_action, era_of
from memplan.resolve.state import Context, Slot, State
from memplan.units import format_range, format_size

SMP_CACHE_BYTES = 64

InitResult = Literal["ok", "enoent", "bypass", "fail"]


max_reserved_regions = rules.max_reserved_regions
nomap_marks = rules.static_nomap_marks
dynamic_nomap_marks = rules.dynamic_nomap_marks
memreserve_before_rmem = rules.memreserve_before_rmem


def _kind_for_flags(node: RmemNode) -> RegionKind:
    if node.reusable and "shared-dma-pool" in node.compatible:
        return "reusable"
    if node.no_map:
        return "no-map"
    return "reserved"


def _region_for(node: RmemNode) -> Slot:
    region = Region(
        name=node.name,
        kind=_kind_for_flags(node),
        origin="dts",
        status="ok",
        placement="static" if node.is_static else "dynamic",
        path=node.path,
        source=node.source,
        compatible=node.compatible,
        no_map=node.no_map,
        reusable=node.reusable,
        default_cma=node.default_cma,
    )
    return Slot.start(region, node)


def _requested_range(region: Region, node: RmemNode) -> Region:
    """A region the kernel skips keeps what the node asked for: its first ``reg`` entry, or its
    size (the base is then not known)."""
    if node.reg:
        return evolve(region, base=node.reg[0][0], size=node.reg[0][1])
    if node.size is not None:
        return evolve(region, size=node.size)
    return region


def _reserve_memreserves(st: State, dt: DtFacts, check_dynamic: bool) -> None:
    for i, (addr, size, src) in enumerate(dt.memreserves):
        if size == 0:
            break
        if check_dynamic:
            for r in (slot.region for slot in st.regions):
                if (
                    r.placement == "dynamic"
                    and r.base is not None
                    and r.size
                    and r.status == "ok"
                    and r.base < addr + size
                    and addr < r.base + r.size
                ):
                    st.note(
                        "rmem-memreserve-overlap",
                        f"dynamic region '{r.name}' was allocated at {r.base:#x} before /memreserve/ entry "
                        f"{addr:#x}+{size:#x} was reserved (6.13+ order); they overlap",
                        src,
                        r.name,
                    )
        st.mb.reserve(addr, size)
        region = Region(
            name=f"memreserve{i}",
            kind="memreserve",
            origin="memreserve",
            status="ok",
            placement="static",
            base=addr,
            size=size,
            source=src,
            reason="/memreserve/ entry of the DTB header (invisible to memory-region)",
        )
        st.add(Slot.start(region))


def _reserve_static(st: State, ctx: Context, r: Slot) -> None:
    node = r.node
    assert node is not None and node.reg is not None
    entries = node.reg
    r.region = evolve(r.region, base=entries[0][0], size=entries[0][1], extra_ranges=tuple(entries[1:]))
    v = ctx.version
    for base, size in entries:
        failed = size == 0
        # judged before the entry is applied: an old-style no-map entry removes its own range
        inside_ram = st.mb.memory.covers(base, base + size)
        if not failed and node.no_map:
            if nomap_marks(v):
                in_mem = st.mb.overlaps_memory(base, size)
                strict = rules.nomap_refuses_reserved_outside_memory(v)
                busy = st.mb.is_reserved(base, size) and (in_mem or strict)
                if busy:
                    failed = True
                else:
                    st.mb.mark_nomap(base, size)
                    r.region = evolve(r.region, nomap="marked")
            else:
                st.mb.remove_memory(base, size)
                r.region = evolve(r.region, nomap="removed")
        elif not failed:
            st.mb.reserve(base, size)
        if failed:
            why = "size is 0" if size == 0 else "the range is already reserved (no-map cannot be applied)"
            st.event("rmem-reserve-failed", name=node.name, base=base, size=size)
            st.note(
                "rmem-reserve-failed",
                f"failed to reserve memory for node '{node.name}': base {base:#x}, "
                f"size {format_size(size)} ({why})",
                node.reg_source or node.source,
                node.path,
            )
            if (base, size) == entries[0]:
                r.region = evolve(r.region, status="failed", reason=f"failed to reserve: {why}")
        # without any RAM, memory-none says it once; no warning per region
        if size and not inside_ram and ctx.arch != "x86" and st.mb.memory.total():
            st.note(
                "rmem-outside-ram",
                f"'{node.name}' {format_range(base, size)} is not entirely inside RAM",
                node.reg_source or node.source,
                node.path,
            )


def _bad_node(st: State, r: Slot, code: str, message: str, event: EventKind) -> None:
    node = r.node
    assert node is not None
    r.region = evolve(r.region, status="rejected", base=None, size=None, reason=message)
    st.event(event, name=node.name)
    st.note(code, message, node.source, node.path)


def _alloc_dynamic(st: State, ctx: Context, r: Slot) -> bool:
    """``__reserved_mem_alloc_size``: validate size/alignment/alloc-ranges and allocate."""
    node = r.node
    assert node is not None
    v = ctx.version
    if node.size is None:
        _bad_node(
            st,
            r,
            "rmem-bad-size",
            f"invalid size property in '{node.name}' node: it must be exactly #size-cells long; node skipped",
            "rmem-bad-size",
        )
        return False
    size = node.size
    if node.alignment_bad:
        _bad_node(
            st,
            r,
            "rmem-bad-alignment",
            f"invalid alignment property in '{node.name}' node: it must "
            "be exactly #address-cells long; node skipped",
            "rmem-bad-alignment",
        )
        return False
    align = node.alignment or SMP_CACHE_BYTES
    cma_bump = ctx.cma_enabled and "shared-dma-pool" in node.compatible and node.reusable and not node.no_map
    if cma_bump:
        align = max(align, ctx.cma_min_alignment)
    ranges = node.alloc_ranges
    if node.alloc_ranges_bad:
        if rules.bad_alloc_ranges_ignored(v):
            ranges = None
        else:
            _bad_node(
                st,
                r,
                "rmem-bad-alloc-ranges",
                f"invalid alloc-ranges property in '{node.name}', skipping node",
                "rmem-bad-alloc-ranges",
            )
            return False
    base: int | None = None
    direction = "top-down"
    if ranges:
        for start, rsize in ranges:
            end = start + rsize
            top_down: bool | None = None
            if rules.alloc_ranges_contiguous(v):
                up = down = False
                for other in (slot.region for slot in st.registered):
                    if not other.size or other.base is None:
                        continue
                    if other.base <= start <= other.base + other.size:
                        up = True
                    if other.base <= end <= other.base + other.size:
                        down = True
                if up != down:
                    top_down = down
            base = st.mb.alloc(size, align, start, end, top_down)
            if base is not None:
                if top_down is False:
                    direction = "bottom-up (the window starts next to a region, 6.5+)"
                break
    else:
        base = st.mb.alloc(size, align, 0, None)
    if base is None and st.mb.phys_mem_size() == 0:
        reason = f"no RAM is known (pass {argument('memory')}), so nothing can be allocated"
        r.region = evolve(r.region, status="failed", reason=reason)
        return False
    if base is None:
        reason = f"no free {size:#x}-byte range aligned to {align:#x}" + (
            " in alloc-ranges" if ranges else ""
        )
        r.region = evolve(r.region, status="failed", reason=reason)
        st.event("rmem-alloc-failed", name=node.name, size=size)
        st.note(
            "rmem-alloc-failed",
            f"failed to allocate memory for node '{node.name}': size {format_size(size)} ({reason})",
            node.size_source or node.source,
            node.path,
        )
        return False
    if node.no_map:
        if dynamic_nomap_marks(v):
            st.mb.mark_nomap(base, size)
            r.region = evolve(r.region, nomap="marked")
        else:
            st.mb.remove_memory(base, size)
            r.region = evolve(r.region, nomap="removed")
    reason = (
        f"allocated {direction}{' in alloc-ranges' if ranges else ''}, alignment {align:#x}"
        + (" (CMA minimum)" if cma_bump and align == ctx.cma_min_alignment else "")
        + "; assumes the boot loader left no DTB/initrd at the top of RAM"
    )
    r.region = evolve(r.region, base=base, size=size, reason=reason)
    return True


def _cma_setup(st: State, ctx: Context, slot: Slot) -> InitResult:
    """``rmem_cma_setup`` (kernel/dma/contiguous.c)."""
    node, r = slot.node, slot.region
    assert node is not None and r.base is not None and r.size is not None
    action = dt_default_action(ctx.precedence, era_of(ctx.version), ctx.cma_given)
    if node.default_cma and action == "bypass":
        st.event("cma-bypass", name=node.name)
        return "bypass"
    if not node.reusable or node.no_map:
        return "fail"
    if _lowmem_remap_hang(st, ctx, r):
        lowmem_end = st.mb.start_of_dram() + (ctx.arm32_lowmem or 0)
        st.note(
            "cma-lowmem-remap-hang",
            f"reusable pool '{node.name}' ({r.base:#x}, {r.size:#x}) lies in arm32 lowmem "
            f"(below {lowmem_end:#x}) and is not 2 MiB aligned: Linux {ctx.version} hangs "
            "during boot right after 'cma: Reserved'",
            node.source,
            node.path,
        )
    if (r.base | r.size) % ctx.cma_min_alignment:
        st.event("cma-misaligned", name=node.name)
        slot.region = evolve(r, reason=(
            f"base {r.base:#x} / size {r.size:#x} not aligned to the CMA granule "
            f"{ctx.cma_min_alignment:#x}: 'incorrect alignment of CMA region', released"
        ))
        st.note(
            "cma-misaligned",
            f"CMA region '{node.name}' ({format_range(r.base, r.size)}) is "
            f"not aligned to {format_size(ctx.cma_min_alignment)}; the kernel refuses it "
            "and releases the memory",
            node.source,
            node.path,
        )
        return "fail"
    if st.cma_areas >= ctx.cma_slots:
        st.event("cma-unable", name=node.name)
        slot.region = evolve(r, reason="no free CMA area slot ('unable to setup CMA region')")
        st.note(
            "cma-too-many-areas",
            f"no CMA slot left for '{node.name}' ({ctx.cma_slots} slots)",
            node.source,
            node.path,
        )
        return "fail"
    st.cma_areas += 1
    slot.region = evolve(r, kind="reusable")
    slot.is_cma_area = True
    if node.default_cma:
        st.default_area = slot
    st.event("cma-created", name=node.name, base=r.base, size=r.size)
    return "ok"


def _lowmem_remap_hang(st: State, ctx: Context, r: Region) -> bool:
    """arm32, era C/D (static regions reserved first, initialised late): a reusable static pool in
    lowmem that is not 2 MiB aligned hangs the boot (:func:`memplan.resolve.arm32.lowmem_remap_hangs`)."""
    if ctx.arch != "arm" or ctx.arm32_lowmem is None or r.placement != "static" or not ctx.dma_cma:
        return False
    if era_of(ctx.version) not in (Era.C, Era.D) or r.base is None or r.size is None:
        return False
    return lowmem_remap_hangs(r.base, r.size, st.mb.start_of_dram() + ctx.arm32_lowmem)


def _dma_setup(st: State, ctx: Context, slot: Slot) -> InitResult:
    """``rmem_dma_setup`` (kernel/dma/coherent.c): non-reusable; arm32 also needs no-map."""
    node, r = slot.node, slot.region
    assert node is not None
    if node.reusable:
        return "fail"
    if ctx.arch == "arm" and not node.no_map:
        st.event("dma-needs-nomap", name=node.name)
        slot.region = evolve(
            r, reason="arm32 coherent pools must be no-map ('regions without no-map are not yet supported')"
        )
        return "fail"
    slot.region = evolve(r, kind="dma-pool")
    st.event("dma-created", name=node.name, base=r.base, size=r.size)
    return "ok"


def _swiotlb_setup(st: State, slot: Slot) -> InitResult:
    """``rmem_swiotlb_setup`` (kernel/dma/swiotlb.c, v5.15+)."""
    node, r = slot.node, slot.region
    assert node is not None
    if node.reusable or node.default_cma or node.dma_default or node.no_map:
        slot.region = evolve(r, reason=(
            "restricted-dma-pool must have none of reusable, linux,cma-default, linux,dma-default, no-map"
        ))
        return "fail"
    slot.region = evolve(r, kind="restricted-dma")
    st.event("restricted-created", name=node.name, base=r.base, size=r.size)
    return "ok"


def init_node(st: State, ctx: Context, slot: Slot) -> None:
    """``__reserved_mem_init_node`` + the release on failure (``fdt_init_reserved_mem``)."""
    node, r = slot.node, slot.region
    assert node is not None and r.base is not None and r.size is not None
    result: InitResult = "enoent"
    compat = ""
    bypassed = False
    if "shared-dma-pool" in node.compatible:
        compat = "shared-dma-pool"
        if ctx.dma_cma:
            result = _cma_setup(st, ctx, slot)
            bypassed = result == "bypass"
        if result != "ok":
            result = _dma_setup(st, ctx, slot)
    elif "restricted-dma-pool" in node.compatible and rules.restricted_dma_pool(ctx.version):
        compat = "restricted-dma-pool"
        result = _swiotlb_setup(st, slot)
    if result == "ok":
        st.event("rmem-initialized", name=node.name, text=compat)
    if result in ("ok", "enoent"):
        st.event(
            "rmem-summary",
            name=node.name,
            base=r.base,
            size=r.size,
            no_map=node.no_map,
            reusable=node.reusable,
        )
        return
    st.event("rmem-match-fail", name=node.name)
    if node.no_map:
        st.mb.clear_nomap(r.base, r.size)
    else:
        st.mb.free(r.base, r.size)
    if bypassed:
        slot.region = evolve(
            slot.region,
            status="bypassed",
            reason="cma= on the command line wins (5.6+): node bypassed and its memory released",
        )
        st.note(
            "cma-dt-bypassed",
            f"'{node.name}' (linux,cma-default) is bypassed because "
            "cma= is on the command line; its memory is released",
            node.source,
            node.path,
        )
        return
    reason = slot.region.reason
    if node.no_map and node.reusable and "shared-dma-pool" in node.compatible:
        reason = "no-map together with reusable: refused by both handlers, released"
        st.note(
            "cma-nomap-reusable",
            f"'{node.name}' has both no-map and reusable; no handler accepts it and its memory is released",
            node.source,
            node.path,
        )
    elif not reason:
        reason = "refused by the handler of its compatible, released"
    if node.reusable and not ctx.dma_cma and "shared-dma-pool" in node.compatible:
        reason = "CONFIG_DMA_CMA is off: no CMA handler, the coherent handler refuses reusable; released"
    slot.region = evolve(slot.region, status="rejected", reason=reason)
    specific = ("cma-misaligned", "cma-nomap-reusable", "cma-too-many-areas")
    if not any(d.subject == node.path and d.code in specific for d in st.diagnostics):
        st.note("rmem-init-failed", f"'{node.name}': {reason}", node.source, node.path)


def _overlap_check(st: State, ctx: Context, entries: list[Slot], with_index: bool) -> None:
    """``__rmem_check_for_overlap``: sort, compare neighbours; report only."""
    v = ctx.version
    keyed = sorted(
        entries,
        key=lambda s: (
            (s.region.base or 0, s.region.size or 0, s.node.index if s.node else 0)
            if with_index or rules.rmem_sort_key_width(v) == 3
            else (s.region.base or 0, s.region.size or 0)
        ),
    )
    for this, nxt in itertools.pairwise(s.region for s in keyed):
        tb, ts, nb, ns = this.base or 0, this.size or 0, nxt.base or 0, nxt.size or 0
        if rules.overlap_check_skips_zero_base(v) and not (tb and nb):
            continue
        if tb + ts > nb:
            st.event(
                "rmem-overlap", name=this.name, base=tb, size=ts, other=nxt.name, other_base=nb, other_size=ns
            )
            st.note(
                "rmem-overlap",
                f"OVERLAP DETECTED: {this.name} ({format_range(tb, ts)}) "
                f"overlaps with {nxt.name} ({format_range(nb, ns)})",
                this.source,
                this.path,
            )


def _register(st: State, r: Slot) -> None:
    r.registered = True
    st.registered.append(r)


def scan_reserved(st: State, ctx: Context, dt: DtFacts) -> None:
    """The early scan of ``/memreserve/`` and ``/reserved-memory``; in era C/D the static
    regions are only reserved here and initialised later by :func:`init_late_statics`."""
    v = ctx.version
    era = era_of(v)
    if not dt.rmem_present:
        _reserve_memreserves(st, dt, check_dynamic=False)
        return
    if not dt.rmem_format_ok:
        st.event("rmem-unsupported")
        st.note(
            "rmem-unsupported-format",
            f"{dt.rmem_format_problem}: the kernel ignores the whole /reserved-memory node",
            dt.rmem_source,
            "/reserved-memory",
        )
        for node in dt.rmem_nodes:
            r = st.add(_region_for(node))
            base, size = node.reg[0] if node.reg else (None, None)
            r.region = evolve(
                r.region,
                status="rejected",
                reason="/reserved-memory ignored (unsupported node format)",
                base=base,
                size=size,
            )
        _reserve_memreserves(st, dt, check_dynamic=False)
        return
    early_memreserve = memreserve_before_rmem(v)
    if early_memreserve and era in (Era.A, Era.B):
        _reserve_memreserves(st, dt, check_dynamic=False)
    limit = max_reserved_regions(v)
    saved: list[Slot] = []
    dynamics: list[Slot] = []
    action = dt_default_action(ctx.precedence, era, ctx.cma_given)
    for node in dt.rmem_nodes:
        r = st.add(_region_for(node))
        if not node.enabled:
            r.region = evolve(r.region, status="disabled", reason="status is not okay: skipped")
            r.region = _requested_range(r.region, node)
            st.note("rmem-disabled", f"'{node.name}' is disabled and skipped", node.source, node.path)
            continue
        if node.default_cma and action == "skip":
            reason = "cma= on the command line: skipped before reservation (6.19+)"
            r.region = _requested_range(evolve(r.region, status="bypassed", reason=reason), node)
            st.event("cma-skip", name=node.name, count=2 if node.is_static else 1)
            st.note(
                "cma-dt-skipped",
                f"'{node.name}' (linux,cma-default) is skipped because cma= is on the command line",
                node.source,
                node.path,
            )
            continue
        static = node.is_static and not (node.reg_bad and rules.bad_reg_falls_back_to_dynamic(v))
        if static:
            if node.reg_bad:
                _bad_node(
                    st,
                    r,
                    "rmem-bad-reg",
                    f"invalid reg property in '{node.name}': its length is not a "
                    f"multiple of {dt.addr_cells}+{dt.size_cells} cells; skipping node",
                    "rmem-bad-reg",
                )
                continue
            _reserve_static(st, ctx, r)
            if era in (Era.A, Era.B):
                saved.append(r)
            else:
                st.pending_statics.append(r)
        elif node.has_size:
            r.region = evolve(r.region, placement="dynamic")
            if era in (Era.A, Era.B):
                saved.append(r)
            else:
                dynamics.append(r)
        else:
            r.region = evolve(r.region, status="rejected", reason="neither reg nor size: ignored")
            st.note(
                "rmem-no-reg-or-size",
                f"'{node.name}' has neither reg nor size; the kernel ignores it",
                node.source,
                node.path,
            )
    if era in (Era.A, Era.B):
        if not early_memreserve:
            _reserve_memreserves(st, dt, check_dynamic=False)
        if limit is not None and len(saved) > limit:
            st.event("rmem-too-many")
            for slot in saved[limit:]:
                reg = slot.region
                st.note(
                    "rmem-too-many",
                    f"'{reg.name}' is beyond the {limit} regions the kernel can register",
                    reg.source,
                    reg.path,
                )
                if reg.placement == "dynamic":
                    reason = f"not registered (more than {limit} regions): never allocated"
                    slot.region = evolve(reg, status="failed", reason=reason)
                else:
                    reason = f"reserved but not registered (more than {limit} regions)"
                    slot.region = evolve(reg, reason=reason)
            saved = saved[:limit]
        for slot in saved:
            if slot.node is not None and slot.node.reg is not None and len(slot.node.reg) > 1:
                st.note(
                    "rmem-extra-reg",
                    f"'{slot.region.name}' has {len(slot.node.reg)} reg entries; all "
                    "are reserved but only the first is registered",
                    slot.region.source,
                    slot.region.path,
                )
        keys = [
            ((s.region.base or 0, s.region.size or 0, i) if s.region.placement == "static" else (0, 0, i))
            for i, s in enumerate(saved)
        ]
        ordered = [saved[i] for i in sorted_saved_array(keys, v)]
        for slot in ordered:
            _register(st, slot)
        statics = [s for s in ordered if s.region.placement == "static"]
        _overlap_check(st, ctx, statics, with_index=False)
        for slot in ordered:
            if slot.region.placement == "dynamic" and not _alloc_dynamic(st, ctx, slot):
                continue
            init_node(st, ctx, slot)
        return
    # era C / D: dynamics in DT order, immediately initialised; then /memreserve/
    if len(dynamics) > 64:
        st.note(
            "rmem-too-many",
            f"{len(dynamics)} dynamic regions: the kernel collects them in a "
            "64-entry array without a bound check (memory corruption)",
            dt.rmem_source,
            "/reserved-memory",
        )
    for r in dynamics:
        if _alloc_dynamic(st, ctx, r):
            _register(st, r)
            init_node(st, ctx, r)
    _reserve_memreserves(st, dt, check_dynamic=True)


def init_late_statics(st: State, ctx: Context) -> None:
    """Era C/D ``unflatten_device_tree()`` → ``fdt_scan_reserved_mem_reg_nodes()``: register the
    static regions (first ``reg`` entry) in DT order, initialise them, check overlaps."""
    v = ctx.version
    for slot in st.pending_statics:
        node, r = slot.node, slot.region
        assert node is not None and node.reg is not None
        if len(node.reg) > 1:
            if not rules.extra_reg_entries_registered(v):
                reason = (r.reason or "") + "several reg entries: reserved but not registered (6.19+)"
                slot.region = evolve(r, reason=reason)
                st.note(
                    "rmem-extra-reg",
                    f"'{r.name}' has {len(node.reg)} reg entries; 6.19+ "
                    "reserves them but does not register the node",
                    r.source,
                    r.path,
                )
                continue
            st.event("rmem-extra-reg", name=r.name, count=len(node.reg) - 1)
            st.note(
                "rmem-extra-reg",
                f"'{r.name}' has {len(node.reg)} reg entries; only the first is registered",
                r.source,
                r.path,
            )
        if not r.size:
            continue
        _register(st, slot)
        init_node(st, ctx, slot)
    st.pending_statics = []
    _overlap_check(st, ctx, [s for s in st.registered if s.region.size], with_index=True)
