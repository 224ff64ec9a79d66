"""The typed inputs of the resolver, independent of the front ends' own classes.

:mod:`memplan.api` converts the parsed command line, ``.config`` and Device Tree into these.
"""

from __future__ import annotations

import attrs

from memplan.arch import Arch, normalise_arch
from memplan.dts.facts import DtFacts
from memplan.model import Diagnostic, Precedence, PrecedenceRequest
from memplan.resolve.e820 import E820Entry, MemmapOp
from memplan.source import Source
from memplan.version import KernelVersion


@attrs.frozen
class CmaFact:
    """``cma=`` as the kernel accumulated it: size, base, limit (0 = not given)."""

    size: int
    base: int = 0
    limit: int = 0
    source: Source | None = None

    @property
    def fixed(self) -> bool:
        """``base + size == limit`` with a non-zero base (kernel-semantics §1.4)."""
        return self.base != 0 and self.base + self.size == self.limit


@attrs.frozen
class CrashFact:
    """The ``crashkernel=`` that counts: a size (or ranges), ``@offset``, ``,high`` and ``,low``."""

    size: int | None
    ranges: tuple[tuple[int, int | None, int], ...] = ()
    offset: int | None = None
    high: bool = False
    low_size: int | None = None
    source: Source | None = None


@attrs.frozen
class MemFact:
    """One ``mem=``: ``size`` (x86: an address cap) and arm32's ``@start``."""

    size: int
    start: int | None = None
    source: Source | None = None


@attrs.frozen
class CmdlineFacts:
    """The effective command line and the parameters the resolver uses."""

    text: str = ""
    origin: str = "none"
    cma: CmaFact | None = None
    mem: tuple[MemFact, ...] = ()
    memmap: tuple[tuple[MemmapOp, Source | None], ...] = ()
    crashkernel: CrashFact | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    #: ``hugetlb_cma=`` size for node 0 (bytes) and its token.
    hugetlb_cma: int | None = None
    hugetlb_cma_source: Source | None = None
    #: ``cma_pernuma=`` size (bytes) and its token.
    pernuma: int | None = None
    pernuma_source: Source | None = None
    #: ``numa_cma=`` sizes by node id, and the last token.
    numa_cma: tuple[tuple[int, int], ...] = ()
    numa_cma_source: Source | None = None
    #: arm ``vmalloc=`` (bytes, as memparse reads it) and its token.
    vmalloc: int | None = None
    vmalloc_source: Source | None = None


@attrs.frozen
class ConfigFacts:
    """The ``.config`` symbols the resolver uses (kernel defaults when no config was given)."""

    given: bool = False
    cma: bool = True
    dma_cma: bool = True
    size_sel: str = "mbytes"
    mbytes: int | None = 16
    percentage: int | None = None
    page_size: int = 4096
    max_buddy_order: int | None = None
    hugetlb: bool | None = None
    cma_areas: int | None = None
    numa: bool = False
    #: ``CONFIG_DMA_PERNUMA_CMA`` (5.10 - 6.5) / ``CONFIG_DMA_NUMA_CMA`` (6.6+).
    dma_pernuma_cma: bool = False
    dma_numa_cma: bool = False
    lpae: bool = False
    #: arm32 ``CONFIG_PAGE_OFFSET`` (the memory split; 3G/1G when no config names it).
    page_offset: int = 0xC0000000
    size_source: Source | None = None
    dma_cma_source: Source | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    #: arm32: the symbols of the DMA-zone machine table (:data:`memplan.kernel.arm_machines.SYMBOLS`)
    #: as ``(name, value, source)``; value ``""`` when the config does not say (no config, or
    #: memplan's bundled Kconfig model and a config that does not write the symbol).
    arm_symbols: tuple[tuple[str, str, Source | None], ...] = ()


def _canonical_arch(name: str) -> Arch:
    """The kernel ``SRCARCH`` spelling (:func:`memplan.arch.normalise_arch`)."""
    arch = normalise_arch(name)
    if arch is None:
        raise ValueError(f"unknown architecture {name!r}")
    return arch


@attrs.frozen
class Inputs:
    """Everything one resolution needs (``arch`` is stored in its ``SRCARCH`` spelling)."""

    arch: Arch = attrs.field(converter=_canonical_arch)
    version: KernelVersion
    version_known: bool
    precedence: Precedence
    precedence_requested: PrecedenceRequest
    dt: DtFacts | None
    cmdline: CmdlineFacts
    config: ConfigFacts
    e820: tuple[E820Entry, ...] | None = None
    memory_source: Source | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


def kernel_rule_inputs(
    arch: str,
    version: KernelVersion,
    dt: DtFacts | None,
    cmdline: CmdlineFacts | None = None,
    config: ConfigFacts | None = None,
) -> Inputs:
    """Inputs for a known kernel version under the kernel's own precedence rule, for callers
    that build facts directly (benchmarks, tests) instead of going through :func:`memplan.resolve`."""
    return Inputs(
        arch=arch,
        version=version,
        version_known=True,
        precedence="kernel",
        precedence_requested="kernel",
        dt=dt,
        cmdline=cmdline if cmdline is not None else CmdlineFacts(),
        config=config if config is not None else ConfigFacts(),
    )
