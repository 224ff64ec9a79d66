"""``parse_cmdline``: tokenize a command line and parse every memory-related parameter into typed facts."""

from __future__ import annotations

import attrs

from memplan.cmdline.arch import MEM_SEMANTICS, MEMMAP_ARCHES, normalize_arch
from memplan.cmdline.cma import (
    CmaParam,
    CmaPernumaParam,
    HugetlbCmaBuilder,
    HugetlbCmaParam,
    NodeSizes,
    NodeSizesBuilder,
    parse_cma,
    parse_cma_pernuma,
)
from memplan.cmdline.common import IgnoredParam, Sink
from memplan.cmdline.crashkernel import CrashkernelParam, parse_crashkernel
from memplan.cmdline.effective import EffectiveCmdline
from memplan.cmdline.mem import MemParam, mem_size_limit, parse_mem
from memplan.cmdline.memmap import MemmapEntry, parse_memmap
from memplan.cmdline.misc import (
    CoherentPoolParam,
    HugepagesBuilder,
    HugepagesParam,
    SwiotlbParam,
    parse_coherent_pool,
    parse_swiotlb,
)
from memplan.cmdline.tokenize import OriginLookup, Token, param_key, tokenize
from memplan.diagnostics import diag
from memplan.kernel import rules
from memplan.model import Diagnostic
from memplan.source import Source, shorten
from memplan.version import KernelVersion

#: Parameter names (normalised with ``_``) this module turns into facts.
MEMORY_PARAMS = frozenset(
    {
        "cma",
        "cma_pernuma",
        "numa_cma",
        "mem",
        "memmap",
        "crashkernel",
        "hugepagesz",
        "hugepages",
        "default_hugepagesz",
        "hugetlb_cma",
        "swiotlb",
        "coherent_pool",
    }
)


@attrs.frozen
class Cmdline:
    """A parsed kernel command line.

    ``tokens``: the kernel parameters up to a bare ``--`` (``init_args`` after it). Typed
    facts: ``cma`` (``None`` = no ``cma=`` at all), ``mem``, ``memmap`` (accepted elements in
    order), ``crashkernel``, ``numa_cma``, ``cma_pernuma``, ``hugepages``, ``hugetlb_cma``,
    ``swiotlb``, ``coherent_pool``. ``ignored``: parameters the architecture (or kernel version)
    does not act on; ``diagnostics``: everything worth saying about the input.

    ``cma=`` only exists with ``CONFIG_DMA_CMA=y``; the parser cannot know that and always
    records it, the resolver decides.
    """

    text: str
    arch: str | None
    tokens: tuple[Token, ...]
    init_args: tuple[Token, ...] = ()
    cma: CmaParam | None = None
    mem: tuple[MemParam, ...] = ()
    memmap: tuple[MemmapEntry, ...] = ()
    crashkernel: CrashkernelParam | None = None
    numa_cma: NodeSizes | None = None
    cma_pernuma: CmaPernumaParam | None = None
    hugepages: HugepagesParam | None = None
    hugetlb_cma: HugetlbCmaParam | None = None
    swiotlb: SwiotlbParam | None = None
    coherent_pool: CoherentPoolParam | None = None
    ignored: tuple[IgnoredParam, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    origin: str | None = None
    kernel_version: KernelVersion | None = None

    def find(self, name: str) -> tuple[Token, ...]:
        """All kernel parameters called ``name`` (``-`` and ``_`` equal), in order."""
        key = param_key(name)
        return tuple(t for t in self.tokens if t.key == key)

    def get(self, name: str) -> Token | None:
        """The last parameter called ``name``, or ``None``."""
        found = self.find(name)
        return found[-1] if found else None

    def has(self, name: str) -> bool:
        """True when ``name`` appears as a kernel parameter."""
        return bool(self.find(name))

    @property
    def mem_limit(self) -> int | None:
        """The ``mem=`` size limit on size-cap architectures (``None`` = none)."""
        return mem_size_limit(self.mem, self.arch)

    @property
    def memmap_user_defined(self) -> bool:
        """x86: any accepted ``memmap=`` element or ``mem=`` switches to a user-defined E820 map."""
        return bool(self.memmap) or any(m.kind == "address-cap" for m in self.mem)


def parse_cmdline(
    text: str | EffectiveCmdline,
    arch: str | None = None,
    origin: str | None = None,
    kernel_version: KernelVersion | str | None = None,
) -> Cmdline:
    """Parse a kernel command line (a string, or an :class:`EffectiveCmdline` whose part origins
    are then attached to every token) for ``arch`` (``None`` = unknown: nothing is ignored).

    Raises :class:`~memplan.errors.CmdlineError` only for values memplan cannot interpret at all
    (64-bit overflow); everything the kernel would reject or ignore becomes a diagnostic.
    """
    version = KernelVersion.coerce(kernel_version)
    extra: tuple[Diagnostic, ...] = ()
    lookup: OriginLookup
    if isinstance(text, EffectiveCmdline):
        arch = arch if arch is not None else text.arch
        lookup = text.lookup()
        origin = origin or text.origin
        extra = text.diagnostics
        raw = text.text
    else:
        lookup = OriginLookup((), origin)
        raw = text
    arch = normalize_arch(arch)
    sink = Sink()
    sink.diagnostics.extend(extra)
    split = tokenize(raw, lookup)
    if split.length < len(raw):
        sink.diagnostics.append(
            diag(
                "cmdline-nul",
                f"the command line contains a NUL character at {split.length}; "
                "the kernel stops reading there",
                Source.token(raw[split.length :], split.length, len(raw), lookup(split.length)),
            )
        )
    if split.unbalanced_quote is not None:
        sink.diagnostics.append(
            diag(
                "cmdline-unbalanced-quote",
                f"the quote at {split.unbalanced_quote} is never closed; the kernel reads the rest of the "
                "line as one parameter",
                Source.token(
                    raw[split.unbalanced_quote : split.length],
                    split.unbalanced_quote,
                    split.length,
                    lookup(split.unbalanced_quote),
                ),
            )
        )
    cma: CmaParam | None = None
    cma_sources: list[Source] = []
    numa = NodeSizesBuilder()
    pernuma: CmaPernumaParam | None = None
    htcma = HugetlbCmaBuilder()
    swiotlb: SwiotlbParam | None = None
    pool: CoherentPoolParam | None = None
    mem: list[MemParam] = []
    memmap: list[MemmapEntry] = []
    huge = HugepagesBuilder()

    for token in split.tokens:
        key = token.key
        if key not in MEMORY_PARAMS or key == "crashkernel":
            continue
        if key == "cma":
            applied = parse_cma(token, cma, sink, version)
            if applied is not cma:
                cma_sources.append(token.source)
            cma = applied
        elif key == "cma_pernuma":
            unused = _per_node_unused("cma_pernuma=", arch, version, (5, 10))
            if unused:
                sink.ignore(token, unused, "warning")
                continue
            pernuma = parse_cma_pernuma(token, sink) or pernuma
        elif key == "numa_cma":
            unused = _per_node_unused("numa_cma=", arch, version, (6, 6))
            if unused:
                sink.ignore(token, unused, "warning")
                continue
            numa.feed(token, sink)
        elif key == "memmap":
            if arch is not None and arch not in MEMMAP_ARCHES:
                sink.ignore(token, f"{arch} has no memmap= parameter (x86, MIPS and Xtensa only)", "warning")
                continue
            memmap.extend(parse_memmap(token, arch, sink))
        elif key == "mem":
            if arch is not None and arch not in MEM_SEMANTICS:
                sink.ignore(token, f"memplan does not model mem= on {arch}", "warning")
                continue
            parsed = parse_mem(token, arch, sink)
            if parsed is not None:
                mem.append(parsed)
        elif key in ("hugepagesz", "hugepages", "default_hugepagesz"):
            huge.feed(token, sink)
        elif key == "hugetlb_cma":
            htcma.feed(token, sink)
        elif key == "swiotlb":
            swiotlb = parse_swiotlb(token, sink) or swiotlb
        elif key == "coherent_pool":
            pool = parse_coherent_pool(token, sink) or pool

    if cma is not None:
        cma = attrs.evolve(cma, sources=tuple(cma_sources))
    _check_exactmap(memmap, sink)
    for token in split.init_args:
        if token.key in MEMORY_PARAMS and token.key != "crashkernel":
            sink.add(
                "warning",
                "cmdline-after-terminator",
                f"{token.shown} comes after '--': it is passed to init, the kernel does not use it",
                token,
            )
    terminator = split.terminator.start if split.terminator is not None else None
    crash = parse_crashkernel(raw, sink, lookup, version, terminator)
    return Cmdline(
        text=raw,
        arch=arch,
        tokens=split.tokens,
        init_args=split.init_args,
        cma=cma,
        mem=tuple(mem),
        memmap=tuple(memmap),
        crashkernel=crash,
        numa_cma=numa.build(),
        cma_pernuma=pernuma,
        hugepages=huge.build(),
        hugetlb_cma=htcma.build(),
        swiotlb=swiotlb,
        coherent_pool=pool,
        ignored=tuple(sink.ignored),
        diagnostics=tuple(sink.diagnostics),
        origin=origin,
        kernel_version=version,
    )


def _per_node_unused(
    what: str, arch: str | None, version: KernelVersion | None, since: tuple[int, int]
) -> str | None:
    """Why a per-node CMA parameter reserves nothing here (kernel-semantics.md §1.7), or ``None``."""
    if version is not None and not rules.reached(version, *since):
        return f"{what} does not exist before v{since[0]}.{since[1]} (kernel {version})"
    if arch == "arm":
        return f"32-bit arm has no NUMA, so {what} reserves nothing"
    if arch not in (None, "arm64") and version is not None and not rules.numa_cma_generic(version):
        return f"before v6.6 only arm64 reserves per-node CMA areas (kernel {version}, {arch})"
    return None


#: How many lost ``memmap=`` elements a diagnostic names before it says "and N more".
_LISTED = 8


def _check_exactmap(entries: list[MemmapEntry], sink: Sink) -> None:
    """x86 ``memmap=exactmap`` empties the E820 table: entries before it are lost, and without a
    later ``nn@ss`` no usable RAM is left."""
    last_ram = max((i for i, e in enumerate(entries) if e.kind == "ram"), default=-1)
    earlier: list[str] = []  # the elements before the current one that an exactmap empties
    reported = 0
    for i, entry in enumerate(entries):
        if entry.kind != "exactmap":
            earlier.append(entry.text)
            continue
        if len(earlier) > reported:
            shown = ", ".join(shorten(e) for e in earlier[reported:][:_LISTED])
            more = len(earlier) - reported - _LISTED
            sink.diagnostics.append(
                diag(
                    "cmdline-memmap-exactmap-order",
                    f"memmap=exactmap (at {entry.span[0]}) empties the memory map after "
                    f"{shown}{f' and {more} more' if more > 0 else ''} were applied: they are lost",
                    entry.source,
                )
            )
            reported = len(earlier)
        if last_ram < i:
            sink.diagnostics.append(
                diag(
                    "cmdline-memmap-exactmap-no-ram",
                    f"memmap=exactmap (at {entry.span[0]}) is not followed by any 'nn@ss' element: "
                    "no usable RAM is left",
                    entry.source,
                )
            )
