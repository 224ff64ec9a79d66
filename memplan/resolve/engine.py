"""The resolution pipeline: inputs → memblock → reservations → global CMA → crashkernel → Plan.

The order of the steps per architecture follows kernel-semantics §2.3 (verified call order):
arm64 scans the DT, (era C/D: initialises static regions at ``unflatten_device_tree()``), then
``dma_contiguous_reserve()`` and crashkernel (≤ v5.10: crashkernel first); arm32 and riscv call
``dma_contiguous_reserve()`` before the late static initialisation; x86 has no DT normally.
"""

from __future__ import annotations

import attrs

from memplan.argnames import argument
from memplan.model import GlobalCma, MemoryBank, Origin
from memplan.plan import Plan
from memplan.resolve import arm32
from memplan.resolve.alignment import cma_min_alignment, default_hugetlb
from memplan.resolve.cma import CmaRequest, cma_slots, declare_contiguous
from memplan.resolve.crashkernel import place_crashkernel, size_from_ranges
from memplan.resolve.devices import bind_devices
from memplan.resolve.e820 import E820_RAM, E820Entry, MemmapOp, apply_memmap, log_type_name, ram_of
from memplan.resolve.inputs import Inputs
from memplan.resolve.memblock import Memblock
from memplan.resolve.memory import arm32_mem_banks, limit_by_address, limit_by_size, page_align_inward
from memplan.resolve.numa import (
    NODE_DATA_BYTES,
    NodeMap,
    node_cma_available,
    node_cma_requests,
    node_cma_stage,
    numa_nodes,
)
from memplan.resolve.precedence import Era, SizeSel, cmdline_limit, era_of, kconfig_cma_size
from memplan.resolve.reserved import init_late_statics, scan_reserved
from memplan.resolve.state import Context, State, WorkRegion, arch_block, cma_area
from memplan.source import Source
from memplan.units import SZ_4G, format_range
from memplan.units import MiB as M


def is_64bit(arch: str, lpae: bool) -> bool:
    """64-bit ``phys_addr_t``: arm64, x86-64, riscv64, and arm with LPAE."""
    return arch in ("arm64", "x86", "riscv") or (arch == "arm" and lpae)


def zone_dma_bits(dma_max_cpu_address: int | None) -> int:
    """arm64 ≥ 5.11 ``zone_dma_bits``: ``min(32, fls64(of_dma_get_max_cpu_address(NULL)))``."""
    if dma_max_cpu_address is None:
        return 32
    return min(32, dma_max_cpu_address.bit_length())


def arch_dma_limit(arch: str, version_at_least_511: bool, mb: Memblock, dma_bits: int = 32) -> int:
    """The limit ``dma_contiguous_reserve()`` gets (kernel-semantics §2.3).

    arm64 ≥ 5.11 ``arm64_dma_phys_limit`` (``max_zone_phys(zone_dma_bits)``: ``dma_bits`` comes from
    the DT ``dma-ranges``, at most 32; capped when DRAM starts below 4 GiB, else the end of DRAM);
    arm64 ≤ 5.10 the first 4 GiB window of DRAM; riscv ``dma32_phys_limit`` (4 GiB); arm
    ``arm_dma_limit`` (no limit without a DMA zone; arm32 machines with a DMA zone are not
    modelled); x86 all mapped RAM.
    """
    start, end = mb.start_of_dram(), mb.end_of_dram()
    if arch == "arm64":
        if version_at_least_511:
            mask = (1 << dma_bits) - 1
            if start > 0xFFFFFFFF:
                return end
            if start > mask:
                mask = 0xFFFFFFFF
            return min(mask, end - 1) + 1 if end else 0
        window = start & ~0xFFFFFFFF
        return min(window + SZ_4G, end)
    if arch == "riscv":
        return min(SZ_4G, end)
    if arch == "arm":
        # arch/arm/mm/init.c (all versions): without a machine DMA zone size arm_dma_limit is
        # 4 GiB - 1; the CMA code rounds it down to its granule (armmp-6.12-kconfig-4g: 0xfe800000,
        # armmp-lpae-6.12-kconfig-3g: 0xfee00000). NOT MODELLED: machines whose machine descriptor
        # sets dma_zone_size (then arm_dma_limit = PHYS_OFFSET + dma_zone_size - 1) -- memplan
        # cannot tell them from the Device Tree, so on those boards the area is predicted too high.
        return arm32.DMA_LIMIT
    return end


def split_by_node(banks: list[MemoryBank], nodes: NodeMap) -> list[MemoryBank]:
    """``banks`` cut at NUMA node boundaries, each piece tagged with its node (memblock keeps
    ranges of different nodes apart, and arm64 lists each memblock range as one ``System RAM``).
    RAM outside every node range keeps ``node=None``."""
    spans = sorted((s, e, nid) for nid, ranges in nodes.items() for s, e in ranges)
    out: list[MemoryBank] = []
    for bank in banks:
        pos = bank.base
        for s, e, nid in spans:
            lo, hi = max(pos, s), min(bank.end, e)
            if lo >= hi:
                continue
            if lo > pos:
                out.append(attrs.evolve(bank, base=pos, size=lo - pos, node=None))
            out.append(attrs.evolve(bank, base=lo, size=hi - lo, node=nid))
            pos = hi
        if pos < bank.end:
            out.append(attrs.evolve(bank, base=pos, size=bank.end - pos, node=None))
    return out


def arm32_highmem_start(mb: Memblock, lowmem: int | None) -> int | None:
    """Where arm32 highmem starts (:func:`memplan.resolve.arm32.lowmem_size`: from the memory
    split in the config and the default vmalloc size; 768 MiB for the standard 3G/1G split)."""
    if mb.phys_mem_size() == 0 or lowmem is None:
        return None
    return arm32.highmem_start(mb.start_of_dram(), mb.end_of_dram(), lowmem)


class _Run:
    """One resolution (a thin object so that the steps can share state)."""

    def __init__(self, inp: Inputs) -> None:
        self.inp = inp
        cfg = inp.config
        v = inp.version
        self.era = era_of(v)
        hugetlb = cfg.hugetlb if cfg.hugetlb is not None else default_hugetlb(inp.arch, cfg.lpae)
        self.cma_min = cma_min_alignment(v, cfg.page_size, cfg.max_buddy_order, hugetlb)
        dma_cma = cfg.cma and cfg.dma_cma
        self.ctx = Context(
            arch=inp.arch,
            version=v,
            precedence=inp.precedence,
            cma_given=dma_cma and inp.cmdline.cma is not None,
            cma_enabled=cfg.cma,
            dma_cma=dma_cma,
            cma_min_alignment=self.cma_min,
            cma_slots=cma_slots(v, cfg.cma_areas, cfg.numa),
            page_size=cfg.page_size,
            phys_64bit=is_64bit(inp.arch, cfg.lpae),
            arm32_lowmem=arm32.lowmem_size(cfg.page_offset) if inp.arch == "arm" else None,
        )
        self.st = State(Memblock(cfg.page_size))
        self.banks: list[MemoryBank] = []
        self.global_region: WorkRegion | None = None
        self.global_failure: str | None = None
        self.kconfig_size = 0
        self.hugetlb_done = False
        self.node_cma_done = False
        self.nodes: NodeMap = {}
        self.dma_bits = zone_dma_bits(inp.dt.dma_max_cpu_address if inp.dt is not None else None)

    # -- RAM -----------------------------------------------------------------------------
    def ram(self) -> None:
        inp, st, v = self.inp, self.st, self.inp.version
        banks: list[tuple[int, int, Source | None]] = []
        if inp.e820 is not None:
            table = list(inp.e820)
            if inp.arch == "x86" and (inp.cmdline.memmap or inp.cmdline.mem):
                table = self._memmap(table)
            banks = [(b, s, inp.memory_source) for b, s in ram_of(table)]
        elif inp.dt is not None:
            new_rules = v.at_least(6, 1)
            for mnode in inp.dt.memory_nodes:
                if new_rules and (mnode.depth != 1 or not mnode.enabled):
                    why = "disabled" if not mnode.enabled else "not a direct child of the root (6.1+)"
                    st.note(
                        "memory-ignored", f"memory node {mnode.path} ignored: {why}", mnode.source, mnode.path
                    )
                    continue
                if mnode.ranges is None:
                    st.note(
                        "memory-ignored",
                        f"memory node {mnode.path} has no usable reg",
                        mnode.source,
                        mnode.path,
                    )
                    continue
                for base, size in mnode.ranges:
                    if inp.arch == "arm" and not self.ctx.phys_64bit:
                        base, size, dropped = arm32.cap_bank_32bit(base, size)
                        if dropped is not None:
                            st.note("memory-above-4g", f"{dropped} (32-bit phys_addr_t: no CONFIG_ARM_LPAE)",
                                    mnode.source, mnode.path)
                    b, s = page_align_inward(base, size, self.ctx.page_size)
                    if s:
                        banks.append((b, s, mnode.source))
        banks = self._mem_limit(banks)
        if not banks:
            zero = [
                m.path
                for m in (inp.dt.memory_nodes if inp.dt else ())
                if m.ranges and not any(s for _, s in m.ranges)
            ]
            hint = f" ({', '.join(zero)} has size 0: the boot loader fills it in)" if zero else ""
            nodes = inp.dt.memory_nodes if inp.dt else ()
            st.note(
                "memory-none",
                f"no RAM: no /memory bank with a usable reg and no {argument('memory')} map{hint}; "
                f"pass {argument('memory')} (e.g. 2G) to place anything",
                nodes[0].source if nodes else (inp.memory_source or Source.builtin("no /memory node")),
            )
        for b, s, src in sorted(banks, key=lambda t: t[0]):
            st.mb.add_memory(b, s)
            self.banks.append(MemoryBank(b, s, src))
        self.nodes = numa_nodes(inp.config.numa, inp.dt, [(m.base, m.size) for m in self.banks])
        if len(self.nodes) > 1:
            self.banks = split_by_node(self.banks, self.nodes)

    def _memmap(self, table: list[E820Entry]) -> list[E820Entry]:
        st = self.st
        ops = [op for op, _ in self.inp.cmdline.memmap] + [
            MemmapOp("cap", base=m.size) for m in self.inp.cmdline.mem
        ]
        new = apply_memmap(table, ops)
        before = {(e.base, e.size, e.kind) for e in table}
        src = next((s for _, s in self.inp.cmdline.memmap if s is not None), None)
        for e in new:
            st.event("memmap-map", base=e.base, size=e.size, text=log_type_name(e.kind))
            if e.kind != E820_RAM and (e.base, e.size, e.kind) not in before:
                st.add(
                    WorkRegion(
                        name=f"memmap@{e.base:x}",
                        kind="memmap",
                        origin="cmdline",
                        base=e.base,
                        size=e.size,
                        source=src,
                        reason=f"memmap= made it E820 type {e.kind} ({log_type_name(e.kind)})",
                    )
                )
                st.mb.reserve(e.base, e.size)
        if self.inp.cmdline.memmap:
            st.note("memmap-applied", f"memmap= produced a user-defined map of {len(new)} entries", src)
        for m in self.inp.cmdline.mem:
            st.note("mem-limit", f"mem= removes RAM at and above {m.size:#x}", m.source)
        return new

    def _mem_limit(self, banks: list[tuple[int, int, Source | None]]) -> list[tuple[int, int, Source | None]]:
        mems = self.inp.cmdline.mem
        if not mems or (self.inp.arch == "x86" and self.inp.e820 is not None):
            return banks
        arch = self.inp.arch
        plain = [(b, s) for b, s, _ in banks]
        src0 = banks[0][2] if banks else None
        if arch == "arm":
            new = arm32_mem_banks([(m.size, m.start) for m in mems], banks[0][0] if banks else 0)
            if not any(size for _, size in new):
                # armmp-6.12-mem0: the DT memory is deleted and a bank of size 0 added; the boot
                # stops after "cma: Failed to reserve"
                self.st.note("mem-zero-no-ram", "mem=0 on arm deletes all RAM (mem= replaces the Device "
                             "Tree memory with banks of the given sizes): the kernel cannot boot",
                             mems[0].source)
            new = [(b, s) for b, s in new if s]
        elif arch == "x86":
            new = plain
            for m in mems:
                new = limit_by_address(new, m.size)
        else:
            limit = mems[-1].size // self.ctx.page_size * self.ctx.page_size
            if limit == 0:
                # arm64/riscv: memblock_mem_limit_remove_map(0) / memblock_enforce_memory_limit(0)
                # return at once (arm64-6.12-mem0)
                self.st.note("mem-zero-ignored", "mem=0 is no limit: the kernel ignores a zero memory limit",
                             mems[-1].source)
                return banks
            new = limit_by_size(plain, limit)
            self.st.event("mem-limit", size=limit)
        if new != plain:
            self.st.note(
                "mem-limit",
                f"mem= leaves {sum(s for _, s in new) // M} MiB of RAM "
                f"(was {sum(s for _, s in plain) // M} MiB)",
                mems[-1].source,
            )
        return [(b, s, src0) for b, s in new]

    # -- what the kernel allocates before the global CMA area -----------------------------------
    def early_allocations(self) -> None:
        """arm64 (5.10+): ``paging_init()`` page tables and other early allocations, then the
        ``sparse_init()`` buffer of ``struct page`` arrays (before v7.0), both top-down, before
        ``dma_contiguous_reserve()`` in ``bootmem_init()``.

        Modelled from ``memblock=debug`` boots (arm64-{6.1,6.12,7.2}-{kconfig,nomap-pools-cma}):
        the linear map at page granularity (``rodata=full``, the Debian default) takes one page
        of PTEs per 2 MiB of *mapped* RAM -- RAM minus the no-map ranges reserved so far, which
        ``map_mem()`` skips -- i.e. mapped/512, and the rest (unflattened DT ~40-48 KiB, the
        128 KiB ``mem_section`` root, NUMA distance table, cpumask ...) is small: measured
        0x32000-0x33800 on 6.1, 0x24040-0x25b80 on 6.12, 0x11640-0x13200 on 7.2, taken here
        rounded up. (An earlier constant of 1.3 MiB, fitted to the global area's address, put the
        area one 2 MiB step too low below five no-map pools.) 5.10: 3.2 MiB, fitted, not measured.
        The sparse buffer is 64 bytes of ``struct page`` per page of each present memory section,
        aligned to one section's share.
        """
        inp, st = self.inp, self.st
        v = inp.version
        if inp.arch != "arm64" or not v.at_least(5, 10) or st.mb.phys_mem_size() == 0:
            return
        page = self.ctx.page_size
        mapped = st.mb.phys_mem_size() - sum(e - s for s, e in st.mb.nomap)
        if v.at_least(7, 0):
            other = 0x14000
        elif v.at_least(6, 12):
            other = 0x26000
        elif v.at_least(6, 1):
            other = 0x34000
        else:
            other = 0x337000
        small = -(-(mapped // 512 + other) // page) * page
        base = st.mb.alloc(small, page)
        reason = "modelled early allocations (page tables, unflattened DT, ...) from recorded boots"
        if base is not None:
            what = "arm64 paging_init()/unflatten_device_tree()"
            st.add(arch_block("early-allocations", base, small, what, reason))
        self.node_data(base)
        if v.at_least(7, 0):
            return
        self.hugetlb_cma()
        if node_cma_stage(v) == "bootmem":
            self.node_cma()
        self.sparse_buffers()

    def node_data(self, small_base: int | None) -> None:
        """``setup_node_data()`` (drivers/base/arch_numa.c ``arch_numa_init``, arm64 5.10+): one
        ``pg_data_t`` per node, allocated top-down inside the node. The modelled early
        allocations already stand for the node at the top of RAM; every other node gets its own
        small block (it only moves that node's top below the next CMA granule)."""
        if len(self.nodes) < 2:
            return
        st = self.st
        for nid, ranges in sorted(self.nodes.items()):
            if small_base is not None and any(s <= small_base < e for s, e in ranges):
                continue
            base = st.mb.alloc_within(NODE_DATA_BYTES, self.ctx.page_size, ranges)
            if base is not None:
                what = "arch_numa_init() setup_node_data()"
                reason = f"NODE_DATA({nid}) allocated inside node {nid}"
                st.add(arch_block(f"node-data{nid}", base, NODE_DATA_BYTES, what, reason))

    def sparse_buffers(self) -> None:
        """``sparse_init()`` (mm/sparse.c, arm64 before v7.0): for each node, one buffer of
        ``struct page`` arrays (64 bytes per page of each present memory section), aligned to one
        section's share, allocated top-down inside the node (nodes in address order)."""
        st, v = self.st, self.inp.version
        page = self.ctx.page_size
        # SECTION_SIZE_BITS: 30 before v5.12 ("arm64/sparsemem: reduce SECTION_SIZE_BITS"), then
        # 27 (4 KiB / 16 KiB pages) or 29 (64 KiB pages).
        bits = {4096: 27, 16384: 27, 65536: 29}.get(page, 27) if v.at_least(5, 12) else 30
        section = 1 << bits
        per_section = section // page * 64
        several = len(self.nodes) > 1
        for nid, ranges in sorted(self.nodes.items(), key=lambda kv: kv[1][0][0] if kv[1] else 0):
            present = [
                (max(s, a), min(e, b)) for s, e in st.mb.memory for a, b in ranges if min(e, b) > max(s, a)
            ]
            sections = {x // section for s, e in present for x in range(s - s % section, e, section)}
            size = len(sections) * per_section
            if not size:
                continue
            base = st.mb.alloc_within(size, per_section, ranges if several else ())
            if base is not None:
                reason = f"struct page arrays for {len(sections)} memory sections (sparse_init)" + (
                    f" of node {nid}" if several else ""
                )
                name = f"memmap{nid}" if several else "memmap"
                st.add(arch_block(name, base, size, "arm64 sparse_init()", reason))

    # -- cma_pernuma= / numa_cma= -------------------------------------------------------------
    def node_cma(self) -> None:
        """The per-node CMA areas (:mod:`memplan.resolve.numa`): ``pernuma<nid>`` / ``numa<nid>``,
        each ``cma_declare_contiguous_nid(0, size, 0, ...)`` on exactly its node."""
        inp, st, ctx = self.inp, self.st, self.ctx
        cl, cfg, v = inp.cmdline, inp.config, inp.version
        if self.node_cma_done or (not cl.pernuma and not cl.numa_cma):
            return
        self.node_cma_done = True
        src = cl.pernuma_source or cl.numa_cma_source
        if not node_cma_available(v, inp.arch, cfg.dma_pernuma_cma, cfg.dma_numa_cma):
            option = "CONFIG_DMA_NUMA_CMA" if v.at_least(6, 6) else "CONFIG_DMA_PERNUMA_CMA (arm64)"
            st.note(
                "numa-cma-unsupported",
                f"cma_pernuma=/numa_cma= has no effect: this kernel has no {option} "
                "(the parameter is unknown to it)",
                src,
                "numa-cma",
            )
            return
        reqs, offline = node_cma_requests(v, self.nodes, cl.pernuma, cl.numa_cma)
        for nid in offline:
            st.event("numa-cma-invalid-node", count=nid)
            st.note(
                "numa-cma-offline",
                f"numa_cma= names node {nid}, which is not online ('invalid node {nid} specified')",
                cl.numa_cma_source,
                f"numa{nid}",
            )
        for req in reqs:
            rsrc = cl.pernuma_source if req.kind == "pernuma" else cl.numa_cma_source
            region = st.add(cma_area(req.name, "numa-cma", req.size, rsrc))
            if st.cma_areas >= ctx.cma_slots:
                region.status, region.base = "failed", None
                region.reason = "no free CMA area slot"
                st.note("cma-too-many-areas", f"no CMA slot left for '{req.name}'", rsrc, req.name)
                continue
            p = declare_contiguous(
                st.mb,
                CmaRequest(req.size, name=req.name, within=self.nodes[req.nid]),
                version=v,
                min_alignment=self.cma_min,
                phys_64bit=ctx.phys_64bit,
            )
            region.size = p.size
            if p.ok:
                st.cma_areas += 1
                region.base = p.base
                region.reason = f"{req.kind} area of node {req.nid}, placed {p.strategy} inside the node"
                st.event("cma-reserved", base=p.base, size=req.size if v.at_least(6, 15) else p.size,
                         text=f"node{req.nid}")
            else:
                region.status = "failed"
                region.reason = p.message
                st.event("numa-cma-failed", name=req.name, count=req.nid)
                st.note(
                    "cma-place-failed",
                    f"{req.name} ({req.size // M} MiB on node {req.nid}) was not created: {p.message}",
                    rsrc,
                    req.name,
                )

    # -- cma_init_reserved_areas(): activation ------------------------------------------------
    def zone_boundaries(self) -> list[int]:
        """Physical addresses where one memory zone ends and the next begins (inside RAM).

        arm64: the end of ZONE_DMA (``arm64_dma_phys_limit``) and 4 GiB (ZONE_DMA32); riscv and
        x86-64: 4 GiB (and 16 MiB on x86, ZONE_DMA); arm32: the start of highmem."""
        inp, mb = self.inp, self.st.mb
        arch = inp.arch
        if arch == "arm64":
            marks = {arch_dma_limit(arch, inp.version.at_least(5, 11), mb, self.dma_bits), SZ_4G}
        elif arch == "riscv":
            marks = {SZ_4G}
        elif arch == "x86":
            marks = {16 * M, SZ_4G}
        elif arch == "arm":
            hs = arm32_highmem_start(mb, self.ctx.arm32_lowmem)
            marks = {hs} if hs is not None else set()
        else:
            marks = set()
        start, end = mb.start_of_dram(), mb.end_of_dram()
        return sorted(m for m in marks if start < m < end)

    def activate_cma_areas(self) -> None:
        """``cma_activate_area()`` (mm/cma.c): an area whose pages are not all in one zone is not
        activated ("CMA area %s could not be activated")."""
        st = self.st
        bounds = self.zone_boundaries()
        for r in st.regions:
            if not r.is_cma_area or r.status != "ok" or r.base is None or not r.size:
                continue
            cut = next((b for b in bounds if r.base < b < r.base + r.size), None)
            if cut is None:
                continue
            # The range stays where memblock put it (the boot-time /proc/iomem lists it as
            # reserved), but it never becomes CMA. From v5.9 the kernel hands the pages to the
            # page allocator (plain RAM); before, they stayed reserved.
            fate = (
                "its pages are released to the page allocator"
                if self.inp.version.at_least(5, 9)
                else "its pages stay reserved"
            )
            r.status = "failed"
            r.reason = (
                f"could not be activated: spans zones (boundary at {cut:#x}); reserved at boot, "
                f"then not a CMA area (not in CmaTotal), {fate}"
            )
            st.event("cma-not-activated", name=r.name)
            st.note(
                "cma-not-activated",
                f"CMA area '{r.name}' ({format_range(r.base, r.size)}) crosses the "
                f"zone boundary at {cut:#x}; the kernel does not activate it",
                r.source,
                r.path or r.name,
            )

    # -- hugetlb_cma= ------------------------------------------------------------------------
    def hugetlb_cma(self) -> None:
        """``hugetlb_cma=`` (mm/hugetlb.c, later mm/hugetlb_cma.c): a CMA area ``hugetlb0`` for
        gigantic pages. arm64 reserves it in ``bootmem_init()`` before ``sparse_init()`` and the
        global area (before v7.0; after it in 7.x); x86 after the global area. The size must be a
        multiple of the gigantic page (1 GiB; 7.x refuses others, older kernels round up); the
        alignment is the PMD huge page on 6.1 (2 MiB: the recorded boot put it at 0xff600000) and
        the gigantic page on 7.x (the recorded 7.2 /proc/iomem shows it at 0x80000000)."""
        inp, st = self.inp, self.st
        size = inp.cmdline.hugetlb_cma
        if not size or not inp.config.cma or inp.arch not in ("arm64", "x86"):
            return
        if self.hugetlb_done:
            return
        self.hugetlb_done = True
        gig = 1 << 30
        src = inp.cmdline.hugetlb_cma_source
        v = inp.version
        if size % gig:
            if v.at_least(7, 0):
                st.event("hugetlb-cma-multiple", size=gig)
                st.note(
                    "cma-place-failed",
                    f"hugetlb_cma= {size // M} MiB is not a multiple of 1024 MiB; no hugetlb CMA area",
                    src,
                    "hugetlb0",
                )
                return
            size = -(-size // gig) * gig
        st.event("hugetlb-cma-reserve", size=size)
        p = declare_contiguous(
            st.mb,
            CmaRequest(size, 0, 0, gig if v.at_least(7, 0) else 2 * M, False, "hugetlb0"),
            version=v,
            min_alignment=self.cma_min,
            phys_64bit=True,
        )
        region = cma_area("hugetlb0", "hugetlb-cma", p.size, src)
        if p.ok:
            st.cma_areas += 1
            region.base = p.base
            region.reason = f"hugetlb_cma= area for gigantic pages ({p.strategy})"
            st.event("cma-reserved", base=p.base, size=p.size, text="node0", other="hugetlb")
            st.event("hugetlb-cma-reserved", size=p.size)
        else:
            region.status = "failed"
            region.reason = p.message
            st.event("cma-failed", size=p.size)
            st.note("cma-place-failed", f"hugetlb_cma= area not created: {p.message}", src, "hugetlb0")
        st.add(region)

    # -- the global CMA area -----------------------------------------------------------------
    def global_cma(self) -> None:
        inp, st, ctx = self.inp, self.st, self.ctx
        cfg = inp.config
        if not ctx.dma_cma:
            return
        sel: SizeSel = "mbytes"
        for known in ("percentage", "min", "max"):
            if cfg.size_sel == known:
                sel = known
        self.kconfig_size = kconfig_cma_size(
            sel,
            cfg.mbytes,
            cfg.percentage,
            st.mb.phys_mem_size(),
            ctx.page_size,
        )
        cmd = inp.cmdline.cma if ctx.cma_given else None
        if st.default_area is not None:
            return
        size = cmd.size if cmd is not None else self.kconfig_size
        if size == 0:
            return
        if st.mb.phys_mem_size() == 0:
            self.global_failure = f"no RAM is known (pass {argument('memory')})"
            return
        v = inp.version
        arch_limit = arch_dma_limit(inp.arch, v.at_least(5, 11), st.mb, self.dma_bits)
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
            self.global_failure = "no free CMA area slot"
            st.note("cma-too-many-areas", "no CMA slot left for the global area", src, "reserved")
            return
        p = declare_contiguous(
            st.mb,
            CmaRequest(size, base, limit, 0, fixed),
            version=v,
            min_alignment=self.cma_min,
            phys_64bit=ctx.phys_64bit,
            highmem_start=highmem,
        )
        shown = size if v.at_least(6, 15) else p.size
        region = cma_area("reserved", "cma", p.size, src, origin)
        if fixed and p.ok:
            region.placement = "static"
        if not p.ok:
            region.status = "failed"
            region.base = None
            region.reason = p.message
            self.global_failure = p.message
            if p.failure == "misaligned-fixed":
                st.event("cma-aligned-base", base=base, other_base=p.alignment)
            elif p.failure == "exceeds-limit":
                st.event("cma-exceeds-limit", base=base, size=p.size, other_base=p.limit)
            st.event("cma-failed", size=shown)
            code = "cma-fixed-misaligned" if p.failure == "misaligned-fixed" else "cma-place-failed"
            st.note(
                code,
                f"the global CMA area ({size // M} MiB from {origin}) was not created: {p.message}",
                src,
                "reserved",
            )
        else:
            st.cma_areas += 1
            region.base = p.base
            where = {
                "fixed": "at the fixed cma= base",
                "bottom-up-4g": "bottom-up from 4 GiB (5.12+ 64-bit rule)",
                "highmem": "in highmem first (32-bit)",
                "top-down": f"top-down below {p.limit:#x}",
            }[p.strategy]
            region.reason = f"placed {where}"
            if region.placement == "modelled":
                region.reason += (
                    "; the exact address depends on early allocations (page tables, the unflattened DT, "
                    "initrd, struct pages ...), which are modelled"
                )
            st.event("cma-reserved", base=p.base, size=shown)
            if st.default_area is None:
                st.default_area = region
        self.global_region = st.add(region)

    # -- crashkernel ---------------------------------------------------------------------------
    def crashkernel(self) -> None:
        inp, st = self.inp, self.st
        ck = inp.cmdline.crashkernel
        if ck is None:
            return
        total = st.mb.phys_mem_size()
        size = ck.size if ck.size is not None else size_from_ranges(ck.ranges, total, inp.version)
        if not size:
            st.note("crashkernel-zero", "crashkernel size resulted in zero bytes", ck.source, "crashkernel")
            return
        arch = inp.arch
        if arch == "arm64":
            low_max = arch_dma_limit(arch, inp.version.at_least(5, 11), st.mb, self.dma_bits)
        elif arch == "arm":
            low_max = min(st.mb.end_of_dram(), SZ_4G)
        else:
            low_max = min(SZ_4G, st.mb.end_of_dram()) if arch == "riscv" else SZ_4G
        p = place_crashkernel(
            st.mb, size=size, offset=ck.offset, high=ck.high, low_size=ck.low_size, arch=arch, low_max=low_max
        )
        region = WorkRegion(
            name="crashkernel",
            kind="crashkernel",
            origin="cmdline",
            size=size,
            source=ck.source,
            placement="static" if ck.offset is not None else "modelled",
        )
        if p.base is None:
            region.status = "failed"
            region.reason = p.failure
            st.event("crashkernel-failed", size=size, text=p.failure)
            st.note(
                "crashkernel-failed",
                f"crashkernel= ({size // M} MiB) not reserved: {p.failure}",
                ck.source,
                "crashkernel",
            )
        else:
            region.base = p.base
            region.reason = (
                "fixed @offset"
                if ck.offset is not None
                else f"top-down below {low_max:#x}"
                if p.base < low_max
                else "high memory"
            )
            st.event("crashkernel", base=p.base, size=size, other_size=total)
            if p.low_base is not None:
                st.add(
                    WorkRegion(
                        name="crashkernel-low",
                        kind="crashkernel",
                        origin="cmdline",
                        base=p.low_base,
                        size=p.low_size,
                        source=ck.source,
                        placement="modelled",
                        reason="default low part for a high crash kernel",
                    )
                )
                st.event("crashkernel-low", base=p.low_base, size=p.low_size)
        st.add(region)

    # -- the whole thing -------------------------------------------------------------------------
    def run(self) -> Plan:
        inp, st, ctx = self.inp, self.st, self.ctx
        self.ram()
        late = self.era in (Era.C, Era.D)
        if inp.dt is not None:
            scan_reserved(st, ctx, inp.dt)
        cma_first_arch = inp.arch in ("arm", "riscv")
        if late and not cma_first_arch:
            init_late_statics(st, ctx)
        crash_first = inp.arch == "arm64" and not inp.version.at_least(5, 10)
        if crash_first:
            self.crashkernel()
        self.early_allocations()
        if node_cma_stage(inp.version) != "after-global":
            self.node_cma()
        self.global_cma()
        self.node_cma()
        self.hugetlb_cma()
        if late and cma_first_arch:
            init_late_statics(st, ctx)
        if not crash_first:
            self.crashkernel()
        self.activate_cma_areas()
        devices = bind_devices(st, inp.dt) if inp.dt is not None else ()
        global_cma = self.candidates()
        regions = sorted(
            (r.freeze() for r in st.regions), key=lambda r: (r.base is None, r.base or 0, r.name)
        )
        diags = (*inp.diagnostics, *inp.config.diagnostics, *inp.cmdline.diagnostics, *st.diagnostics)
        from memplan.resolve.checks import outside_ram

        diags = (*diags, *outside_ram(regions, self.banks, st.diagnostics))
        return Plan(
            arch=inp.arch,
            kernel_version=inp.version if inp.version_known else None,
            precedence=inp.precedence,
            precedence_requested=inp.precedence_requested,
            cmdline=inp.cmdline.text,
            cmdline_origin=inp.cmdline.origin,
            memory=tuple(self.banks),
            regions=tuple(regions),
            devices=tuple(devices),
            global_cma=global_cma,
            diagnostics=tuple(diags),
            page_size=ctx.page_size,
            cma_alignment=self.cma_min,
            events=tuple(st.events),
            model_version=inp.version,
        )

    # -- explain: every candidate for the global pool --------------------------------------------
    def candidates(self) -> GlobalCma:
        from memplan.resolve.candidates import build_candidates

        cands, origin, size, base, name, status = build_candidates(self)
        return GlobalCma(origin=origin, size=size, base=base, region=name, candidates=tuple(cands),
                         status=status)


def resolve_inputs(inp: Inputs) -> Plan:
    """Resolve typed inputs into a :class:`Plan`."""
    return _Run(inp).run()


__all__ = ["resolve_inputs"]
