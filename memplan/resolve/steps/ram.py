"""RAM as the kernel sees it: the ``/memory`` banks or the ``memory=`` map, x86 ``memmap=``,
``mem=`` and NUMA nodes (drivers/of/fdt.c ``early_init_dt_scan_memory``, arch/x86/kernel/e820.c,
mm/memblock.c ``memblock_mem_limit_remove_map``)."""

from __future__ import annotations

import attrs

from memplan.argnames import argument
from memplan.kernel import rules
from memplan.model import MemoryBank, Region
from memplan.resolve import arm32
from memplan.resolve.e820 import E820_RAM, E820Entry, MemmapOp, apply_memmap, log_type_name, ram_of
from memplan.resolve.memory import arm32_mem_banks, limit_by_address, limit_by_size, page_align_inward
from memplan.resolve.numa import NodeMap, numa_nodes
from memplan.resolve.run import Boot
from memplan.resolve.state import Slot
from memplan.source import Source
from memplan.units import format_size

Bank = tuple[int, int, Source | None]


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


def _dt_banks(run: Boot) -> list[Bank]:
    inp, st, v = run.inp, run.st, run.inp.version
    banks: list[Bank] = []
    assert inp.dt is not None
    root_only = rules.memory_nodes_root_children_only(v)
    for mnode in inp.dt.memory_nodes:
        if root_only and (mnode.depth != 1 or not mnode.enabled):
            why = "disabled" if not mnode.enabled else "not a direct child of the root (6.1+)"
            st.note("memory-ignored", f"memory node {mnode.path} ignored: {why}", mnode.source, mnode.path)
            continue
        if mnode.ranges is None:
            st.note("memory-ignored", f"memory node {mnode.path} has no usable reg", mnode.source, mnode.path)
            continue
        for base, size in mnode.ranges:
            if inp.arch == "arm" and not run.ctx.phys_64bit:
                base, size, dropped = arm32.cap_bank_32bit(base, size)
                if dropped is not None:
                    st.note("memory-above-4g", f"{dropped} (32-bit phys_addr_t: no CONFIG_ARM_LPAE)",
                            mnode.source, mnode.path)
            b, s = page_align_inward(base, size, run.ctx.page_size)
            if s:
                banks.append((b, s, mnode.source))
    return banks


def ram(run: Boot) -> None:
    """Step ``ram``: the memblock memory ranges, ``Plan.memory`` and the NUMA node map."""
    inp, st = run.inp, run.st
    banks: list[Bank] = []
    if inp.e820 is not None:
        table = list(inp.e820)
        if inp.arch == "x86" and (inp.cmdline.memmap or inp.cmdline.mem):
            table = _memmap(run, table)
        banks = [(b, s, inp.memory_source) for b, s in ram_of(table)]
    elif inp.dt is not None:
        banks = _dt_banks(run)
    banks = _mem_limit(run, banks)
    if not banks:
        nodes = inp.dt.memory_nodes if inp.dt else ()
        zero = [m.path for m in nodes if m.ranges and not any(s for _, s in m.ranges)]
        hint = f" ({', '.join(zero)} has size 0: the boot loader fills it in)" if zero else ""
        st.note(
            "memory-none",
            f"no RAM: no /memory bank with a usable reg and no {argument('memory')} map{hint}; "
            f"pass {argument('memory')} (e.g. 2G) to place anything",
            nodes[0].source if nodes else (inp.memory_source or Source.builtin("no /memory node")),
        )
    for b, s, src in sorted(banks, key=lambda t: t[0]):
        st.mb.add_memory(b, s)
        run.banks.append(MemoryBank(b, s, src))
    run.nodes = numa_nodes(inp.config.numa, inp.dt, [(m.base, m.size) for m in run.banks])
    if len(run.nodes) > 1:
        run.banks = split_by_node(run.banks, run.nodes)


def _memmap(run: Boot, table: list[E820Entry]) -> list[E820Entry]:
    st, cl = run.st, run.inp.cmdline
    ops = [op for op, _ in cl.memmap] + [MemmapOp("cap", base=m.size) for m in cl.mem]
    new = apply_memmap(table, ops)
    before = {(e.base, e.size, e.kind) for e in table}
    src = next((s for _, s in cl.memmap if s is not None), None)
    for e in new:
        st.event("memmap-map", base=e.base, size=e.size, text=log_type_name(e.kind))
        if e.kind != E820_RAM and (e.base, e.size, e.kind) not in before:
            region = Region(
                name=f"memmap@{e.base:x}",
                kind="memmap",
                origin="cmdline",
                status="ok",
                placement="static",
                base=e.base,
                size=e.size,
                source=src,
                reason=f"memmap= made it E820 type {e.kind} ({log_type_name(e.kind)})",
            )
            st.add(Slot.start(region))
            st.mb.reserve(e.base, e.size)
    if cl.memmap:
        st.note("memmap-applied", f"memmap= produced a user-defined map of {len(new)} entries", src)
    for m in cl.mem:
        st.note("mem-limit", f"mem= removes RAM at and above {m.size:#x}", m.source)
    return new


def _mem_limit(run: Boot, banks: list[Bank]) -> list[Bank]:
    inp = run.inp
    mems = inp.cmdline.mem
    if not mems or (inp.arch == "x86" and inp.e820 is not None):
        return banks
    arch = inp.arch
    plain = [(b, s) for b, s, _ in banks]
    src0 = banks[0][2] if banks else None
    if arch == "arm":
        new = arm32_mem_banks([(m.size, m.start) for m in mems], banks[0][0] if banks else 0)
        if not any(size for _, size in new):
            # armmp-6.12-mem0: the DT memory is deleted and a bank of size 0 added; the boot
            # stops after "cma: Failed to reserve"
            run.st.note("mem-zero-no-ram", "mem=0 on arm deletes all RAM (mem= replaces the Device "
                        "Tree memory with banks of the given sizes): the kernel cannot boot",
                        mems[0].source)
        new = [(b, s) for b, s in new if s]
    elif arch == "x86":
        new = plain
        for m in mems:
            new = limit_by_address(new, m.size)
    else:
        limit = mems[-1].size // run.ctx.page_size * run.ctx.page_size
        if limit == 0:
            # arm64/riscv: memblock_mem_limit_remove_map(0) / memblock_enforce_memory_limit(0)
            # return at once (arm64-6.12-mem0)
            run.st.note("mem-zero-ignored", "mem=0 is no limit: the kernel ignores a zero memory limit",
                        mems[-1].source)
            return banks
        new = limit_by_size(plain, limit)
        run.st.event("mem-limit", size=limit)
    if new != plain:
        run.st.note(
            "mem-limit",
            f"mem= leaves {format_size(sum(s for _, s in new))} of RAM "
            f"(was {format_size(sum(s for _, s in plain))})",
            mems[-1].source,
        )
    return [(b, s, src0) for b, s in new]
