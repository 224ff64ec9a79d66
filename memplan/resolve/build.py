"""Building the resolver's inputs from the front ends' results, with the platform rules that come
with it: the Kconfig default CMA size without a ``.config``, which ``mem=`` counts (riscv takes the
smallest), which ``crashkernel=`` form counts (``,high`` only without a plain one; ``,low``), the
RAM base for a size-only ``memory=``, and QEMU's ``pc`` E820 map for x86. :mod:`memplan.api`
checks and loads the arguments and calls these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memplan.argnames import argument
from memplan.diagnostics import diag
from memplan.dts.facts import DtFacts
from memplan.kernel import arm_machines
from memplan.model import Diagnostic
from memplan.resolve.arm32 import page_offset as arm32_page_offset
from memplan.resolve.e820 import E820_RAM, E820_RESERVED, E820Entry, MemmapOp
from memplan.resolve.inputs import CmaFact, CmdlineFacts, ConfigFacts, CrashFact, MemFact
from memplan.source import Source
from memplan.units import memparse

if TYPE_CHECKING:  # the front ends are imported only when they are used
    from memplan.cmdline import Cmdline
    from memplan.kconfig import KernelConfig


def config_facts(kc: KernelConfig | None, arch: str) -> ConfigFacts:
    """The ``.config`` symbols the resolver uses; without a ``.config`` the Kconfig default
    ``CMA_SIZE_MBYTES`` (16, 0 on x86: kernel/dma/Kconfig ``default 0 if X86``)."""
    if kc is None:
        x86 = arch == "x86"
        return ConfigFacts(
            given=False,
            mbytes=0 if x86 else 16,
            size_source=Source.builtin(
                f"CONFIG_CMA_SIZE_MBYTES={0 if x86 else 16} (Kconfig default; no .config given)"
            ),
        )
    sym = {"percentage": "CMA_SIZE_PERCENTAGE"}.get(kc.cma_size_sel, "CMA_SIZE_MBYTES")
    return ConfigFacts(
        given=True,
        cma=kc.cma,
        dma_cma=kc.dma_cma,
        size_sel=kc.cma_size_sel,
        mbytes=kc.cma_size_mbytes,
        percentage=kc.cma_size_percentage,
        page_size=kc.page_size,
        max_buddy_order=kc.max_order,
        hugetlb=kc.hugetlb,
        cma_areas=kc.cma_areas,
        numa=kc.numa,
        dma_pernuma_cma=kc.dma_pernuma_cma,
        dma_numa_cma=kc.dma_numa_cma,
        lpae=kc.arm_lpae,
        page_offset=arm32_page_offset(kc.values),
        size_source=kc.source_of(sym),
        dma_cma_source=kc.source_of("DMA_CMA"),
        diagnostics=kc.diagnostics,
        arm_symbols=_arm_symbols(kc) if arch == "arm" else (),
    )


def _arm_symbols(kc: KernelConfig) -> tuple[tuple[str, str, Source | None], ...]:
    """The DMA-zone machine table's symbols as the config gives them (``""``: it does not say)."""
    out: list[tuple[str, str, Source | None]] = []
    for name in arm_machines.SYMBOLS:
        value = kc.value(name)
        out.append((name, value, kc.source_of(name) if value else None))
    return tuple(out)


def memmap_op(entry: object) -> MemmapOp | None:
    """One x86 ``memmap=`` entry as an E820 edit (``None`` for a form without a start)."""
    from memplan.cmdline import MemmapEntry

    assert isinstance(entry, MemmapEntry)
    if entry.kind == "exactmap":
        return MemmapOp("exactmap")
    if entry.kind == "cap":
        return MemmapOp("cap", base=entry.size)
    if entry.kind == "convert":
        return MemmapOp(
            "convert",
            base=entry.start or 0,
            size=entry.size,
            old_kind=entry.old_type,
            new_kind=entry.new_type,
        )
    if entry.start is None:
        return None
    return MemmapOp("add", base=entry.start, size=entry.size, kind=entry.e820_type or E820_RAM)


def cmdline_facts(cl: Cmdline, origin: str, arch: str) -> CmdlineFacts:
    """The resolver's view of the parsed command line (``cl.diagnostics`` already carries the
    effective-command-line findings: they are not added a second time)."""
    cma = CmaFact(cl.cma.size, cl.cma.base, cl.cma.limit, cl.cma.source) if cl.cma is not None else None
    mems: list[MemFact] = []
    size_caps = [m for m in cl.mem if m.kind == "size-cap"]
    if size_caps:
        pick = min(size_caps, key=lambda m: m.value) if arch == "riscv" else size_caps[-1]
        mems.append(MemFact(pick.value, None, pick.source))
    mems.extend(MemFact(m.value, m.start, m.source) for m in cl.mem if m.kind in ("bank", "address-cap"))
    memmap: list[tuple[MemmapOp, Source | None]] = []
    for entry in cl.memmap:
        op = memmap_op(entry)
        if op is not None:
            memmap.append((op, entry.source))
    crash: CrashFact | None = None
    notes: list[Diagnostic] = []
    ck = cl.crashkernel
    if ck is not None:
        main = ck.plain if ck.plain is not None and ck.plain.valid else None
        high = main is None and ck.high is not None and ck.high.valid
        if high and arch == "arm" and ck.high is not None:
            # arm's reserve_crashkernel() passes no 'high' to parse_crashkernel(): only the plain form
            token = ck.high.source.text if ck.high.source is not None else None
            notes.append(diag(
                "crashkernel-high-ignored",
                f"{token or 'crashkernel=,high'}: 32-bit ARM reads only crashkernel=SIZE[@OFFSET]; "
                "no crash kernel is reserved",
                ck.high.source,
                "crashkernel",
            ))
            high = False
        spec = main if main is not None else (ck.high if high else None)
        if spec is not None:
            low = ck.low.size if ck.low is not None and ck.low.valid else None
            crash = CrashFact(
                spec.size if not spec.is_range_form else None,
                tuple((r.start, r.end, r.size) for r in spec.ranges),
                spec.offset,
                high,
                low,
                spec.source,
            )
    vmalloc = cl.get("vmalloc") if arch == "arm" else None
    ht = cl.hugetlb_cma
    ht_size = None
    if ht is not None:
        nodes = dict(ht.per_node)
        ht_size = nodes.get(0, 0) if nodes else ht.size
    return CmdlineFacts(
        text=cl.text,
        origin=origin,
        cma=cma,
        mem=tuple(mems),
        memmap=tuple(memmap),
        crashkernel=crash,
        diagnostics=(*cl.diagnostics, *notes),
        hugetlb_cma=ht_size,
        hugetlb_cma_source=ht.source if ht is not None else None,
        pernuma=cl.cma_pernuma.size if cl.cma_pernuma is not None else None,
        pernuma_source=cl.cma_pernuma.source if cl.cma_pernuma is not None else None,
        numa_cma=cl.numa_cma.sizes if cl.numa_cma is not None else (),
        numa_cma_source=cl.numa_cma.source if cl.numa_cma is not None else None,
        vmalloc=memparse(vmalloc.value or "", source=vmalloc.source)[0] if vmalloc is not None else None,
        vmalloc_source=vmalloc.source if vmalloc is not None else None,
    )


def guessed_base(dt: DtFacts | None) -> tuple[int, Diagnostic | None]:
    """The RAM base for a size-only ``memory=``: the lowest /memory base (a non-empty ``reg``
    bank, base 0 included, or a unit address) when the Device Tree has one, else a guess
    reported as ``memory-base-guessed``."""
    if dt is None:
        return 0, None
    # A bank of size 0 (``reg = <0 0 0 0>``, left for the boot loader to fill in) names no base.
    firsts = [base for m in dt.memory_nodes for base, size in (m.ranges or ()) if size > 0]
    for m in dt.memory_nodes:
        unit = m.path.rpartition("@")[2] if "@" in m.path.rpartition("/")[2] else ""
        if unit and all(c in "0123456789abcdefABCDEF" for c in unit):
            firsts.append(int(unit, 16))
    if firsts:
        return min(firsts), None
    # No /memory base at all: start RAM at the 256 MiB boundary below the lowest reserved-memory
    # address the DT mentions (static reg or alloc-ranges), else at 0.
    hints = [b for n in dt.rmem_nodes for b, _ in (*(n.reg or ()), *(n.alloc_ranges or ()))]
    base = min(hints) // (256 << 20) * (256 << 20) if hints else 0
    why = (
        f"the 256 MiB boundary below the lowest reserved-memory address {min(hints):#x}"
        if hints
        else "the Device Tree gives no address to start from"
    )
    note = diag(
        "memory-base-guessed",
        f"{argument('memory')} gives only a size and the Device Tree has no /memory base: "
        f"RAM assumed to start at {base:#x} ({why})",
        Source.builtin("memory argument"),
    )
    return base, note


def pc_firmware_map(size: int) -> tuple[E820Entry, ...]:
    """A PC firmware E820 map for ``size`` bytes of RAM, as QEMU's ``pc`` machine builds it: RAM
    below 640 KiB, the BIOS areas, RAM from 1 MiB up to the low-memory top minus 128 KiB, and
    RAM above 4 GiB for what does not fit below 3 GiB (low memory is 3 GiB from 3.5 GiB of RAM)."""
    lowmem = size if size < 0xE0000000 else 0xC0000000
    table = [
        E820Entry(0, 0x9FC00, E820_RAM),
        E820Entry(0x9FC00, 0x400, E820_RESERVED),
        E820Entry(0xF0000, 0x10000, E820_RESERVED),
        E820Entry(0x100000, lowmem - 0x20000 - 0x100000, E820_RAM),
        E820Entry(lowmem - 0x20000, 0x20000, E820_RESERVED),
        E820Entry(0xFFFC0000, 0x40000, E820_RESERVED),
    ]
    if size > lowmem:
        table.append(E820Entry(1 << 32, size - lowmem, E820_RAM))
    return tuple(table)
