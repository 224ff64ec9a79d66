"""The facade: :func:`resolve` turns a Device Tree, a command line and a ``.config`` into a :class:`Plan`.

Inputs may be paths or text. A string is taken as text when it contains a newline or ``{``
(DTS) / ``=`` with a newline (config); otherwise it must name an existing file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from memplan.arch import ARCH_SYMBOLS, ARCHES, normalise_arch
from memplan.cmdline import Cmdline, effective_cmdline, parse_cmdline
from memplan.dts import Tree, read_dtb
from memplan.errors import MemplanError, ResolveError
from memplan.kconfig import KernelConfig, load_config
from memplan.model import Diagnostic
from memplan.plan import Plan
from memplan.resolve.codes import diag
from memplan.resolve.e820 import E820_RAM, E820_RESERVED, E820Entry, MemmapOp
from memplan.resolve.engine import resolve_inputs
from memplan.resolve.facts import DtFacts, extract
from memplan.resolve.inputs import CmaFact, CmdlineFacts, ConfigFacts, CrashFact, Inputs, MemFact
from memplan.resolve.precedence import DEFAULT_MODEL_VERSION, resolve_policy
from memplan.source import Source
from memplan.units import parse_size
from memplan.version import KernelVersion

PathOrText = str | os.PathLike[str]

#: Cores that only exist as 64-bit (ARMv8+) implementations in practice.
_ARM64_CORES = (
    "cortex-a35",
    "cortex-a53",
    "cortex-a55",
    "cortex-a57",
    "cortex-a65",
    "cortex-a72",
    "cortex-a73",
    "cortex-a75",
    "cortex-a76",
    "cortex-a77",
    "cortex-a78",
    "cortex-x",
    "neoverse",
    "armv8",
    "denver",
    "carmel",
    "kryo",
    "thunder",
    "xgene",
    "falkor",
)
_ARM32_CORES = (
    "cortex-a5",
    "cortex-a7",
    "cortex-a8",
    "cortex-a9",
    "cortex-a12",
    "cortex-a15",
    "cortex-a17",
    "arm9",
    "arm11",
    "arm926",
    "arm1176",
    "pj4",
    "scorpion",
    "krait",
    "marvell,sheeva",
    "xscale",
)


def _looks_like_text(value: str, markers: Sequence[str]) -> bool:
    return any(m in value for m in markers)


def _as_path(value: PathOrText, what: str, markers: Sequence[str]) -> Path | None:
    """``Path`` for a path argument, ``None`` for inline text; error for a missing file."""
    if isinstance(value, os.PathLike):
        path = Path(value)
    elif _looks_like_text(value, markers):
        return None
    else:
        path = Path(value)
    if not path.is_file():
        raise ResolveError(f"{what}: no such file: {os.fspath(path)!r}", Source("file", file=os.fspath(path)))
    return path


def _load_tree(
    dts: PathOrText | Tree | None, dtb: PathOrText | bytes | Tree | None, include_dirs: Sequence[PathOrText]
) -> Tree | None:
    from memplan.dts import parse_dts

    if dts is not None and dtb is not None:
        raise ResolveError("give either dts= or dtb=, not both")
    if isinstance(dts, Tree):
        return dts
    if isinstance(dtb, Tree):
        return dtb
    dirs = [os.fspath(d) for d in include_dirs]
    if dts is not None:
        path = _as_path(dts, "dts", ("\n", "{"))
        if path is None:
            assert isinstance(dts, str)
            tree: Tree = parse_dts(text=dts, filename="<dts>", include_dirs=dirs)
            return tree
        tree = parse_dts(os.fspath(path), include_dirs=dirs)
        return tree
    if dtb is not None:
        if isinstance(dtb, bytes):
            return read_dtb(dtb)
        path = _as_path(dtb, "dtb", ())
        assert path is not None
        return read_dtb(os.fspath(path))
    return None


def infer_arch(dt: DtFacts | None, tree: Tree | None) -> str | None:
    """The architecture from the Device Tree: CPU compatibles (ARMv8 cores → arm64, older ARM cores
    → arm, ``riscv`` → riscv), else ``None``."""
    if tree is None:
        return None
    cpus = tree.root.children.get("cpus")
    compats: list[str] = []
    if cpus is not None:
        for cpu in cpus.children.values():
            prop = cpu.get("compatible")
            if prop is not None:
                try:
                    compats.extend(prop.as_strings())
                except MemplanError:
                    continue
            isa = cpu.get("riscv,isa")
            if isa is not None:
                return "riscv"
    text = " ".join(c.lower() for c in compats)
    if "riscv" in text:
        return "riscv"
    if any(core in text for core in _ARM64_CORES):
        return "arm64"
    if any(core in text for core in _ARM32_CORES):
        return "arm"
    return None


def _config(
    config: PathOrText | KernelConfig | None, arch: str | None, version: KernelVersion | None
) -> KernelConfig | None:
    if config is None or isinstance(config, KernelConfig):
        return config
    path = _as_path(config, "config", ("\n", "="))
    if path is None:
        assert isinstance(config, str)
        return load_config(text=config, arch=arch, kernel_version=version)
    return load_config(os.fspath(path), arch=arch, kernel_version=version)


def _config_facts(kc: KernelConfig | None, arch: str) -> ConfigFacts:
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
        size_source=kc.source_of(sym),
        dma_cma_source=kc.source_of("DMA_CMA"),
        diagnostics=kc.diagnostics,
    )


def _memmap_op(entry: object) -> MemmapOp | None:
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


def _cmdline_facts(cl: Cmdline, origin: str, arch: str) -> CmdlineFacts:
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
        op = _memmap_op(entry)
        if op is not None:
            memmap.append((op, entry.source))
    crash: CrashFact | None = None
    ck = cl.crashkernel
    if ck is not None:
        main = ck.plain if ck.plain is not None and ck.plain.valid else None
        high = main is None and ck.high is not None and ck.high.valid
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
        diagnostics=cl.diagnostics,
        hugetlb_cma=ht_size,
        hugetlb_cma_source=ht.source if ht is not None else None,
        pernuma=cl.cma_pernuma.size if cl.cma_pernuma is not None else None,
        pernuma_source=cl.cma_pernuma.source if cl.cma_pernuma is not None else None,
        numa_cma=cl.numa_cma.sizes if cl.numa_cma is not None else (),
        numa_cma_source=cl.numa_cma.source if cl.numa_cma is not None else None,
    )


def _memory_map(
    memory: str | int | Sequence[tuple[int, int]] | None, dt: DtFacts | None, arch: str
) -> tuple[E820Entry, ...] | None:
    if memory is None:
        return None
    if isinstance(memory, int | str):
        size = memory if isinstance(memory, int) else parse_size(memory)
        if arch == "x86":
            return pc_firmware_map(size)
        base = 0
        if dt is not None:
            firsts = [r[0][0] for r in (m.ranges for m in dt.memory_nodes) if r and r[0][0]]
            for m in dt.memory_nodes:
                unit = m.path.rpartition("@")[2] if "@" in m.path.rpartition("/")[2] else ""
                if unit and all(c in "0123456789abcdefABCDEF" for c in unit):
                    firsts.append(int(unit, 16))
            if not firsts:
                # No /memory base at all: start RAM at the 256 MiB boundary below the lowest
                # reserved-memory address the DT mentions (static reg or alloc-ranges).
                hints = [b for n in dt.rmem_nodes for b, _ in (*(n.reg or ()), *(n.alloc_ranges or ()))]
                firsts = [min(hints) // (256 << 20) * (256 << 20)] if hints else []
            base = min(firsts) if firsts else 0
        return (E820Entry(base, size, E820_RAM),)
    return tuple(E820Entry(int(b), int(s), E820_RAM) for b, s in memory)


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


def _arch_guessed(arch: str, kc: KernelConfig | None, tree: Tree | None, config_label: str) -> Diagnostic:
    """The ``arch-guessed`` note, pointing at the .config symbol or the DT ``/cpus`` node."""
    if kc is not None:
        symbol = next((sym for sym, name in ARCH_SYMBOLS if name == arch), None)
        src = kc.source_of(symbol) if symbol is not None else None
        if src is None or src.kind != "config":
            src = Source("config", file=config_label, text="the .config header")
        return diag("arch-guessed", f"architecture {arch} inferred from the .config", src)
    cpus = tree.root.children.get("cpus") if tree is not None else None
    src = cpus.source if cpus is not None else (tree.root.source if tree is not None else None)
    return diag("arch-guessed", f"architecture {arch} inferred from the Device Tree CPU compatibles", src)


def _version_unknown(assumed: KernelVersion, with_config: bool) -> Diagnostic:
    """The single note that says which release is assumed when none is known (layout, .config
    reading and command-line parsing all use it)."""
    what = "the layout and the .config reading follow" if with_config else "the layout follows"
    return diag(
        "version-unknown",
        f"kernel version unknown: {what} the {assumed.major}.{assumed.minor} rules and the global CMA pool "
        "the documented DTS > CMDLINE > DEFCONFIG rule; kernels 5.6 and later let cma= win over the "
        "Device Tree default pool",
        Source.builtin(f"Linux {assumed.major}.{assumed.minor} assumed: no version given or in a header"),
    )


def resolve(
    dts: PathOrText | Tree | None = None,
    dtb: PathOrText | bytes | Tree | None = None,
    cmdline: str | None = None,
    config: PathOrText | KernelConfig | None = None,
    arch: str | None = None,
    kernel_version: KernelVersion | str | tuple[int, ...] | None = None,
    precedence: str = "auto",
    include_dirs: Sequence[PathOrText] = (),
    memory: str | int | Sequence[tuple[int, int]] | None = None,
    bootloader_cmdline: str | None = None,
) -> Plan:
    """Resolve the physical memory layout a kernel builds from these inputs.

    ``dts``/``dtb``: a path, DTS text (or blob bytes) or a parsed :class:`~memplan.dts.Tree`;
    ``cmdline``: the command line the boot loader passes (it replaces ``/chosen/bootargs`` when
    non-empty; ``CONFIG_CMDLINE`` rules still apply; ``bootloader_cmdline`` is a synonym);
    ``config``: a ``.config``/defconfig path, text or :class:`~memplan.kconfig.KernelConfig`;
    ``kernel_version``: the version whose rules apply (else the ``.config`` header); ``precedence``:
    ``auto`` (the kernel's rule when the version is known, else the documented seed rule),
    ``seed`` or ``kernel``; ``memory``: RAM size (``"2G"``) or ``[(base, size), ...]`` — required
    on x86, replaces ``/memory`` elsewhere. Raises :class:`~memplan.errors.MemplanError` for
    unusable input.
    """
    if cmdline is not None and bootloader_cmdline is not None and cmdline != bootloader_cmdline:
        raise ResolveError("give the boot loader command line once (cmdline= or bootloader_cmdline=)")
    loader = bootloader_cmdline if bootloader_cmdline is not None else cmdline
    version = KernelVersion.coerce(kernel_version)
    tree = _load_tree(dts, dtb, include_dirs)
    dt = extract(tree) if tree is not None else None
    notes: list[Diagnostic] = list(tree.warnings) if tree is not None else []
    wanted = normalise_arch(arch)
    if arch is not None and wanted is None:
        raise ResolveError(
            f"unknown architecture {arch!r} (expected one of {', '.join(ARCHES)})",
            Source.builtin("arch argument"),
        )
    guessed = infer_arch(dt, tree)
    kc: KernelConfig | None
    try:
        kc = _config(config, wanted, version)
    except MemplanError:
        if wanted is not None or guessed is None:
            raise
        kc = _config(config, guessed, version)
    the_arch = wanted or (kc.arch if kc is not None else None) or guessed
    if the_arch is None:
        raise ResolveError(
            "cannot tell the architecture: pass arch= (e.g. arm64) or a .config",
            tree.root.source if tree is not None else Source.builtin("arch argument"),
        )
    if wanted is None:
        label = "<config>"
        if isinstance(config, str | os.PathLike) and "\n" not in os.fspath(config):
            label = os.fspath(config)
        notes.append(_arch_guessed(the_arch, kc, tree, label))
    if version is None and kc is not None:
        version = kc.kernel_version
    known = version is not None
    policy = resolve_policy(precedence, known)
    if version is None:
        version = DEFAULT_MODEL_VERSION
        if kc is not None and not isinstance(config, KernelConfig):
            # The .config front end assumed a release of its own; read it again under the one
            # assumption this resolution makes, so that the layout and Kconfig agree.
            kc = _config(config, the_arch, version)
        notes.append(_version_unknown(version, kc is not None))
    if dt is None and memory is None:
        raise ResolveError(
            "no Device Tree and no memory= map: nothing to lay out (x86 needs memory=, e.g. '4G')"
        )
    eff = effective_cmdline(
        arch=the_arch,
        bootloader=loader,
        dt_bootargs=dt.bootargs if dt else None,
        dt_bootargs_source=dt.bootargs_source if dt else None,
        config=kc,
        kernel_version=version,
        has_chosen=dt.has_chosen if dt else None,
    )
    cl = parse_cmdline(eff, arch=the_arch, kernel_version=version)
    facts = _cmdline_facts(cl, eff.origin, the_arch)
    inputs = Inputs(
        arch=the_arch,
        version=version,
        version_known=known,
        precedence=policy,
        precedence_requested=precedence,
        dt=dt,
        cmdline=facts,
        config=_config_facts(kc, the_arch),
        e820=_memory_map(memory, dt, the_arch),
        memory_source=Source.builtin("memory= argument") if memory is not None else None,
        diagnostics=tuple(notes),
    )
    return resolve_inputs(inputs)
