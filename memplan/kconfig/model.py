"""``KernelConfig``: the resolved kernel configuration facts memplan needs, with provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from memplan.jsonform import json_record
from memplan.model import Diagnostic
from memplan.source import Source
from memplan.version import KernelVersion

CmaSizeSel = Literal["mbytes", "percentage", "min", "max"]
CmdlineMode = Literal["bootloader", "extend", "force", "fallback", "none", "prepend", "override"]


def _strip_prefix(symbol: str) -> str:
    return symbol[7:] if symbol.startswith("CONFIG_") else symbol


def _copy_map(value: Mapping[str, object]) -> Mapping[str, object]:
    from memplan.kconfig.dotconfig import WrittenSources, WrittenValues

    if isinstance(value, WrittenValues | WrittenSources):
        return value  # immutable views of the config's own columns (picklable; no copy per line)
    return dict(value)  # a private copy (a plain dict keeps the value picklable)


@attrs.frozen
class KernelConfig:
    """A kernel ``.config`` resolved against the Kconfig rules (as ``make olddefconfig`` would).

    Fields (``None`` where the symbol is undefined in this configuration, which the kernel
    treats as 0):

    * ``arch`` (``arm``, ``arm64``, ``riscv``, ``x86``), ``kernel_version`` (``None`` when
      neither given nor in the header; the newest modelled release was assumed).
    * ``cma`` (``CONFIG_CMA``), ``dma_cma`` (``CONFIG_DMA_CMA``): the global area needs both.
    * ``cma_size_sel``: which ``CMA_SIZE_SEL_*`` choice member is set (``"mbytes"`` when
      ``DMA_CMA`` is off, as the kernel code then falls back to the MiB value, which is 0).
    * ``cma_size_mbytes``, ``cma_size_percentage``: ``None`` when undefined.
    * ``cma_alignment`` (``CONFIG_CMA_ALIGNMENT``, an order), ``cma_areas``.
    * ``dma_numa_cma`` (6.6+), ``dma_pernuma_cma`` (5.10–6.5), ``numa``.
    * ``cmdline``: ``CONFIG_CMDLINE`` (``""`` when unset); ``cmdline_mode``: on DT
      architectures ``"bootloader"`` / ``"extend"`` / ``"force"`` / ``"fallback"`` (riscv's
      name for bootloader-first), on x86 ``"none"`` (no ``CMDLINE_BOOL``), ``"prepend"``
      or ``"override"``.
    * ``page_size`` in bytes; ``max_order``: the largest buddy-allocator order (inclusive:
      ``MAX_ORDER - 1`` before 6.4, ``MAX_PAGE_ORDER`` after), 10 when the architecture
      does not force one; ``page_block_max_order`` (``CONFIG_PAGE_BLOCK_MAX_ORDER``, 6.16+).
    * ``hugetlb`` (``CONFIG_HUGETLB_PAGE``), ``transparent_hugepage``, ``highmem``,
      ``arm_lpae``.
    * ``diagnostics``: what was dropped, clamped, malformed or assumed, each with its line.

    ``value(symbol)`` gives any symbol's value as a string (resolved for modelled symbols,
    as written for the others, ``""`` when undefined); ``source_of(symbol)`` says where it
    came from: the config line, or a ``builtin`` source naming the Kconfig default.
    """

    arch: str
    kernel_version: KernelVersion | None
    cma: bool
    dma_cma: bool
    cma_size_sel: CmaSizeSel
    cma_size_mbytes: int | None
    cma_size_percentage: int | None
    cma_alignment: int | None
    cma_areas: int | None
    dma_numa_cma: bool
    dma_pernuma_cma: bool
    numa: bool
    cmdline: str
    cmdline_mode: CmdlineMode
    page_size: int
    max_order: int
    hugetlb: bool
    transparent_hugepage: bool = False
    highmem: bool = False
    arm_lpae: bool = False
    page_block_max_order: int | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    name: str = "<config>"
    #: Values of every symbol (resolved or raw), without the ``CONFIG_`` prefix.
    values: Mapping[str, str] = attrs.field(factory=dict, converter=_copy_map, repr=False, eq=False)
    #: Where each symbol's value came from, for the symbols that have a recorded origin.
    sources: Mapping[str, Source] = attrs.field(factory=dict, converter=_copy_map, repr=False, eq=False)

    def value(self, symbol: str) -> str:
        """The value of ``symbol`` (``CONFIG_`` prefix optional): ``"y"``, ``"n"``, ``"16"``,
        a string without quotes; ``""`` when the symbol is undefined."""
        return self.values.get(_strip_prefix(symbol), "")

    def is_set(self, symbol: str) -> bool:
        """True when a bool/tristate symbol is ``y`` or ``m``."""
        return self.value(symbol) in ("y", "m")

    def source_of(self, symbol: str) -> Source:
        """Where the value of ``symbol`` came from: its config line when the user's value was
        kept, else ``Source.builtin("Kconfig default ...")`` (or what selected it)."""
        name = _strip_prefix(symbol)
        src = self.sources.get(name)
        if src is not None:
            return src
        return Source.builtin(f"Kconfig default of CONFIG_{name} (not set in {self.name})")

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Diagnostics of severity ``error``."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    #: The JSON summary's keys: the memory-relevant facts, in this order (see memplan.jsonform).
    __json_keys__ = (
        "arch",
        "kernel_version",
        "cma",
        "dma_cma",
        "cma_size_sel",
        "cma_size_mbytes",
        "cma_size_percentage",
        "cma_alignment",
        "cma_areas",
        "dma_numa_cma",
        "dma_pernuma_cma",
        "numa",
        "cmdline",
        "cmdline_mode",
        "page_size",
        "max_order",
        "page_block_max_order",
        "hugetlb",
        "transparent_hugepage",
        "diagnostics",
    )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary of the memory-relevant facts."""
        return json_record(self)
