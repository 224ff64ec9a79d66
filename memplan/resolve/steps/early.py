"""What arm64 allocates before the global CMA area: page tables and other early allocations,
``NODE_DATA`` per node, and the ``sparse_init()`` buffers (arch/arm64/mm/init.c, mm/sparse.c,
drivers/base/arch_numa.c). The sizes are fitted (:mod:`memplan.resolve.fitted`)."""

from __future__ import annotations

from memplan.kernel import rules
from memplan.resolve import fitted
from memplan.resolve.run import Boot
from memplan.resolve.state import arch_block


def early_allocations(run: Boot) -> None:
    """Step ``early``: arm64 (5.10+) ``paging_init()`` page tables and other early allocations,
    top-down, then one ``NODE_DATA`` per further node.

    Modelled from ``memblock=debug`` boots: the linear map at page granularity (``rodata=full``,
    the Debian default) takes one page of PTEs per 2 MiB of *mapped* RAM (RAM minus the no-map
    ranges reserved so far), plus the measured small allocations (:mod:`memplan.resolve.fitted`)."""
    inp, st = run.inp, run.st
    v = inp.version
    if inp.arch != "arm64" or not rules.arm64_early_allocations_modelled(v) or st.mb.phys_mem_size() == 0:
        return
    page = run.ctx.page_size
    # map_mem() skips the no-map ranges reserved so far: one page of PTEs per 2 MiB mapped
    mapped = st.mb.phys_mem_size() - sum(e - s for s, e in st.mb.nomap)
    other = fitted.ARM64_EARLY_OTHER[rules.arm64_early_allocations_era(v)]
    small = -(-(mapped // fitted.ARM64_PAGE_TABLE_RATIO + other) // page) * page
    base = st.mb.alloc(small, page)
    reason = "modelled early allocations (page tables, unflattened DT, ...) from recorded boots"
    if base is not None:
        what = "arm64 paging_init()/unflatten_device_tree()"
        st.add(arch_block("early-allocations", base, small, what, reason))
    _node_data(run, base)


def _node_data(run: Boot, small_base: int | None) -> None:
    """``setup_node_data()`` (drivers/base/arch_numa.c ``arch_numa_init``, arm64 5.10+): one
    ``pg_data_t`` per node, allocated top-down inside the node. The modelled early
    allocations already stand for the node at the top of RAM; every other node gets its own
    small block (it only moves that node's top below the next CMA granule)."""
    if len(run.nodes) < 2:
        return
    st = run.st
    for nid, ranges in sorted(run.nodes.items()):
        if small_base is not None and any(s <= small_base < e for s, e in ranges):
            continue
        base = st.mb.alloc_within(fitted.NODE_DATA_BYTES, run.ctx.page_size, ranges)
        if base is not None:
            what = "arch_numa_init() setup_node_data()"
            reason = f"NODE_DATA({nid}) allocated inside node {nid}"
            st.add(arch_block(f"node-data{nid}", base, fitted.NODE_DATA_BYTES, what, reason))


def present_sections(present: list[tuple[int, int]], section: int) -> int:
    """How many ``section``-sized memory sections the ``[start, end)`` ranges touch, counted
    from the sorted spans of section numbers (never one by one: a hostile Device Tree may
    describe 2^64 bytes of RAM, which is 2^37 sections of 128 MiB)."""
    count, reach = 0, -1
    for first, last in sorted((s // section, (e - 1) // section) for s, e in present if e > s):
        first = max(first, reach + 1)
        if last >= first:
            count += last - first + 1
        reach = max(reach, last)
    return count


def sparse_buffers(run: Boot) -> None:
    """Step ``sparse``: ``sparse_init()`` (mm/sparse.c, arm64 before 7.0): for each node, one
    buffer of ``struct page`` arrays (64 bytes per page of each present memory section), aligned to
    one section's share, allocated top-down inside the node (nodes in address order)."""
    inp, st, v = run.inp, run.st, run.inp.version
    if inp.arch != "arm64" or not rules.arm64_early_allocations_modelled(v) or st.mb.phys_mem_size() == 0:
        return
    page = run.ctx.page_size
    section = 1 << rules.arm64_section_size_bits(v, page)
    per_section = section // page * fitted.STRUCT_PAGE_BYTES
    several = len(run.nodes) > 1
    for nid, ranges in sorted(run.nodes.items(), key=lambda kv: kv[1][0][0] if kv[1] else 0):
        present = [
            (max(s, a), min(e, b)) for s, e in st.mb.memory for a, b in ranges if min(e, b) > max(s, a)
        ]
        sections = present_sections(present, section)
        size = sections * per_section
        if not size:
            continue
        base = st.mb.alloc_within(size, per_section, ranges if several else ())
        if base is not None:
            reason = f"struct page arrays for {sections} memory sections (sparse_init)" + (
                f" of node {nid}" if several else ""
            )
            name = f"memmap{nid}" if several else "memmap"
            st.add(arch_block(name, base, size, "arm64 sparse_init()", reason))
