"""Typed values for what a running (or booted) kernel reported.

Every value is a frozen attrs class carrying :class:`~memplan.source.Source` objects of kind
``observed`` (file and line of the ``/proc/iomem`` line, boot-log line, debugfs file ...).
Parsers in this package produce them; :mod:`memplan.observe.combine` merges them into one
:class:`Observed`; :mod:`memplan.observe.compare` compares that with a :class:`~memplan.plan.Plan`.

Sizes and addresses are bytes. A size read from a log line that prints truncated MiB or KiB
keeps the unit in ``size_granule``: the true size lies in ``[size, size + size_granule)``.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from memplan.diagnostics import diag
from memplan.errors import MemplanError
from memplan.jsonform import json_field, json_record, omit_empty, omit_none
from memplan.kernel import rules
from memplan.kernel.messages import LogKind
from memplan.model import Diagnostic
from memplan.schemas import SCHEMA_VERSION
from memplan.source import Source
from memplan.version import KernelVersion

ObservedStatus = Literal["ok", "rejected", "bypassed", "failed"]
#: Who provided the global CMA area according to what the kernel printed. ``cmdline-or-kconfig``
#: when the area named ``reserved`` exists but the command line is unknown.
ObservedOrigin = Literal["dts", "cmdline", "kconfig", "cmdline-or-kconfig"]


#: A source written as its one-line text (the observe model's JSON form).
_TEXT = json_field(text=True)


class _PrintedSize:
    """Base and size as the kernel printed them; a size printed in truncated MiB or KiB keeps
    the unit in ``size_granule`` (the true size lies in ``[size, size + size_granule)``)."""

    __slots__ = ()
    base: int | None
    size: int | None
    size_granule: int

    @property
    def end(self) -> int | None:
        """Exclusive end, when base and size are known."""
        if self.base is None or self.size is None:
            return None
        return self.base + self.size

    def size_matches(self, size: int) -> bool:
        """True when ``size`` bytes is consistent with the (possibly truncated) printed size."""
        if self.size is None:
            return True
        return self.size <= size < self.size + self.size_granule


# --------------------------------------------------------------------------------------------
# /proc/iomem
# --------------------------------------------------------------------------------------------
@attrs.frozen
class IomemEntry:
    """One ``/proc/iomem`` resource: ``[start, end]`` (``end`` **inclusive**, as printed)."""

    start: int
    end: int
    name: str
    depth: int = attrs.field(metadata=json_field(skip=True))
    source: Source = attrs.field(metadata=_TEXT)
    children: tuple[IomemEntry, ...] = ()

    @property
    def size(self) -> int:
        """Number of bytes covered (``end - start + 1``)."""
        return self.end - self.start + 1

    def walk(self) -> tuple[IomemEntry, ...]:
        """This entry and all its descendants, in file order (no recursion)."""
        out: list[IomemEntry] = []
        todo: list[IomemEntry] = [self]
        while todo:
            entry = todo.pop()
            out.append(entry)
            todo.extend(reversed(entry.children))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class Iomem:
    """A parsed ``/proc/iomem``. ``hidden`` is True when every address printed as zero
    (the file was read by a non-root user, so no address can be trusted)."""

    entries: tuple[IomemEntry, ...]
    hidden: bool = False
    file: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    __json_keys__ = ("file", "hidden", "entries")

    def walk(self) -> tuple[IomemEntry, ...]:
        """Every entry (all depths) in file order."""
        out: list[IomemEntry] = []
        for entry in self.entries:
            out.extend(entry.walk())
        return tuple(out)

    def named(self, name: str) -> tuple[IomemEntry, ...]:
        """Entries (any depth) whose name equals ``name``."""
        return tuple(e for e in self.walk() if e.name == name)

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


# --------------------------------------------------------------------------------------------
# /proc/meminfo
# --------------------------------------------------------------------------------------------
@attrs.frozen
class MeminfoField:
    """One ``/proc/meminfo`` line: ``value`` as printed and its unit (``kB`` or empty)."""

    name: str
    value: int
    unit: str
    source: Source = attrs.field(metadata=json_field(skip=True))

    @property
    def bytes(self) -> int:
        """The value in bytes (``kB`` means KiB); unit-less fields are returned unchanged."""
        return self.value * 1024 if self.unit == "kB" else self.value


@attrs.frozen
class Meminfo:
    """A parsed ``/proc/meminfo``."""

    fields: tuple[MeminfoField, ...] = attrs.field(metadata=json_field(by="name"))
    file: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    __json_keys__ = ("file", "fields")

    def get(self, name: str) -> MeminfoField | None:
        """The field called ``name`` (e.g. ``CmaTotal``), or ``None``."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def bytes_of(self, name: str) -> int | None:
        """The field's value in bytes, or ``None`` when absent."""
        f = self.get(name)
        return None if f is None else f.bytes

    @property
    def mem_total(self) -> int | None:
        """``MemTotal`` in bytes."""
        return self.bytes_of("MemTotal")

    @property
    def cma_total(self) -> int | None:
        """``CmaTotal`` in bytes (``None`` when the kernel has no ``CONFIG_CMA``)."""
        return self.bytes_of("CmaTotal")

    @property
    def cma_free(self) -> int | None:
        """``CmaFree`` in bytes."""
        return self.bytes_of("CmaFree")

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


# --------------------------------------------------------------------------------------------
# debugfs / sysfs CMA
# --------------------------------------------------------------------------------------------
@attrs.frozen
class CmaRange:
    """One physical range of a CMA area (debugfs ``ranges/<n>/``, v6.15+)."""

    index: int
    base_pfn: int
    bitmap: tuple[int, ...] = attrs.field(default=(), metadata=json_field(skip=True))


@attrs.frozen
class DebugfsCmaArea:
    """One directory of ``/sys/kernel/debug/cma/``. Counts are in pages.

    ``dirname`` is the directory as found; ``name`` the area name derived from it (the
    ``cma-`` prefix of ≤5.x kernels removed). ``name_truncated`` is True when the old
    16-byte directory-name buffer may have cut the name (``cma-`` + 11 characters).
    """

    dirname: str
    name: str
    name_truncated: bool
    base_pfn: int | None
    count: int | None
    order_per_bit: int | None
    used: int | None
    maxchunk: int | None
    bitmap: tuple[int, ...] | None
    ranges: tuple[CmaRange, ...]
    source: Source = attrs.field(metadata=_TEXT)
    page_size: int = 4096

    __json_keys__ = (
        "dirname",
        "name",
        "name_truncated",
        "base_pfn",
        "count",
        "order_per_bit",
        "used",
        "maxchunk",
        "base",
        "size",
        "ranges",
        "source",
    )

    @property
    def base(self) -> int | None:
        """First byte of the area."""
        return None if self.base_pfn is None else self.base_pfn * self.page_size

    @property
    def size(self) -> int | None:
        """Area size in bytes."""
        return None if self.count is None else self.count * self.page_size

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class SysfsCmaArea:
    """One directory of ``/sys/kernel/mm/cma/``: its counters (values in pages)."""

    name: str
    counters: tuple[tuple[str, int], ...] = attrs.field(metadata=json_field(pairs="object"))
    source: Source = attrs.field(metadata=_TEXT)

    def get(self, counter: str) -> int | None:
        """A counter such as ``alloc_pages_success``, or ``None`` when the file is absent."""
        for key, value in self.counters:
            if key == counter:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


# --------------------------------------------------------------------------------------------
# boot log
# --------------------------------------------------------------------------------------------
_OMIT_NONE = json_field(omit=omit_none)


def _exact_size(event: LogEvent, granule: int) -> bool:
    """The printed unit is written only for a size printed in a coarser unit than bytes."""
    return event.size is None or granule == 1


@attrs.frozen
class LogEvent:
    """One recognised boot-log line.

    ``kind`` names the message (a :data:`memplan.kernel.messages.LogKind`, the printer's name); the other
    fields are filled where the message carries them: ``name`` (node or area name),
    ``base``/``size`` (bytes; ``size_granule`` is the printed unit), ``end`` (exclusive),
    ``node`` (NUMA node), ``text`` (free text: compatible, command line, e820 type ...),
    ``numbers`` (other integers in the order printed).
    """

    kind: LogKind
    source: Source = attrs.field(metadata=_TEXT)
    name: str | None = attrs.field(default=None, metadata=_OMIT_NONE)
    base: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    size: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    size_granule: int = attrs.field(default=1, metadata=json_field(omit=_exact_size))
    end: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    node: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    text: str | None = attrs.field(default=None, metadata=_OMIT_NONE)
    numbers: tuple[int, ...] = attrs.field(default=(), metadata=json_field(omit=omit_empty))
    other_name: str | None = attrs.field(default=None, metadata=_OMIT_NONE)
    other_base: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    other_end: int | None = attrs.field(default=None, metadata=_OMIT_NONE)
    prefix: str = ""

    #: The JSON record: what the line carried (unknown fields left out), the printed unit and
    #: the other numbers last.
    __json_keys__ = (
        "kind",
        "source",
        "name",
        "base",
        "size",
        "end",
        "node",
        "text",
        "other_name",
        "other_base",
        "other_end",
        "size_granule",
        "numbers",
    )

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class BootLog:
    """A parsed boot log: the recognised events in log order, plus diagnostics for known
    messages whose text did not match the expected format."""

    events: tuple[LogEvent, ...]
    file: str | None = None
    lines: int = 0
    diagnostics: tuple[Diagnostic, ...] = ()

    __json_keys__ = ("file", "lines", "events")

    def of_kind(self, *kinds: LogKind) -> tuple[LogEvent, ...]:
        """Events whose kind is one of ``kinds``, in log order."""
        return tuple(e for e in self.events if e.kind in kinds)

    def first(self, kind: LogKind) -> LogEvent | None:
        """The first event of ``kind``."""
        for e in self.events:
            if e.kind == kind:
                return e
        return None

    @property
    def kernel_version(self) -> KernelVersion | None:
        """From ``Linux version X.Y.Z ...``: the upstream version when the distribution prints
        it (``Debian 6.1.176-1``), else the release string."""
        e = self.first("linux-version")
        if e is None or e.text is None:
            return None
        try:
            version = KernelVersion.parse(e.name or e.text, e.source)
        except MemplanError:
            return None
        return None if version.implausible() else version

    def kernel_version_problem(self) -> Diagnostic | None:
        """A warning at the ``Linux version`` line when it names no plausible release (the
        version is then not used), else ``None``."""
        e = self.first("linux-version")
        if e is None or e.text is None:
            return None
        try:
            problem = KernelVersion.parse(e.name or e.text, e.source).implausible()
        except MemplanError as err:
            problem = err.message
        if problem is None:
            return None
        return diag("observe-malformed-line", f"boot log kernel version: {problem}; not used", e.source)

    @property
    def kernel_release(self) -> str | None:
        """The release string as ``uname -r`` prints it (``6.1.0-13-arm64``)."""
        e = self.first("linux-version")
        return None if e is None else e.text

    @property
    def cmdline(self) -> str | None:
        """From ``Kernel command line: ...``."""
        e = self.first("kernel-cmdline")
        return None if e is None else e.text

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


# --------------------------------------------------------------------------------------------
# combined view
# --------------------------------------------------------------------------------------------
@attrs.frozen
class ObservedRegion(_PrintedSize):
    """A reserved range (or a reservation attempt) the kernel reported.

    ``name`` is the DT node name (``linux,cma``, ``cma@80000000``), ``reserved`` for the global
    CMA area, ``crashkernel``, ``swiotlb``, ``hugetlb<N>``; ``None`` when only an address is
    known. ``kind`` is a guess from :data:`memplan.model.REGION_KINDS` (or ``unknown``).
    ``evidence`` lists every line/file that contributed.
    """

    name: str | None
    kind: str
    status: ObservedStatus
    base: int | None = None
    size: int | None = None
    size_granule: int = 1
    nomap: bool | None = None
    reusable: bool | None = None
    compatible: str | None = None
    reason: str | None = None
    evidence: tuple[Source, ...] = attrs.field(default=(), metadata=_TEXT)

    @property
    def source(self) -> Source | None:
        """The first piece of evidence."""
        return self.evidence[0] if self.evidence else None

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class ObservedCma:
    """A CMA area that exists in the running kernel (exact when read from debugfs)."""

    name: str
    base: int | None
    size: int | None
    size_granule: int = 1
    source: Source | None = attrs.field(default=None, metadata=_TEXT)
    used: int | None = None

    __json_keys__ = ("name", "base", "size", "size_granule", ("used_bytes", "used"), "source")

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class ObservedGlobalCma(_PrintedSize):
    """Which global (default) CMA area the kernel ended up with.

    ``known`` is False when nothing observed could tell (no boot log, no debugfs); then
    ``origin`` is ``None`` without meaning "no area". ``dt_default_dropped`` is True when the
    log shows a DT ``linux,cma-default`` node being bypassed or skipped for ``cma=``.
    """

    known: bool
    origin: ObservedOrigin | None = None
    name: str | None = None
    base: int | None = None
    size: int | None = None
    size_granule: int = 1
    dt_default_dropped: bool = False
    reason: str = ""
    evidence: tuple[Source, ...] = attrs.field(default=(), metadata=_TEXT)
    #: True when ``name`` was taken as the DT default only because it is the one DT CMA pool and
    #: no DTB was read (a comparison whose Device Tree says otherwise drops the guess).
    guessed_default: bool = attrs.field(default=False, eq=False)
    #: Bases of ``cma: Reserved`` lines that the log alone cannot tell apart (the global area and
    #: per-node areas of the same size; the log does not name areas): a comparison may take the
    #: global area to be any of them.
    ambiguous_bases: tuple[int, ...] = attrs.field(default=(), eq=False)

    __json_keys__ = (
        "known",
        "origin",
        "name",
        "base",
        "base_hex",
        "size",
        "size_granule",
        "dt_default_dropped",
        "reason",
        "evidence",
    )

    @property
    def base_hex(self) -> str | None:
        """The base in hex (``0x...``), for reading the JSON record."""
        return None if self.base is None else f"0x{self.base:x}"

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class MemoryRange:
    """A range of the physical memory map (``end`` exclusive): ``type`` is ``System RAM``,
    an e820 type name (``usable``, ``reserved`` ...) or an iomem name."""

    base: int
    end: int
    type: str
    source: Source | None = attrs.field(default=None, metadata=_TEXT)
    user_defined: bool = False

    __json_keys__ = ("base", "end", "type", "user_defined", "source")

    @property
    def size(self) -> int:
        return self.end - self.base

    def to_dict(self) -> dict[str, Any]:
        return json_record(self)


@attrs.frozen
class Observed:
    """Everything observed about one boot, combined.

    ``sources`` lists what was read (file paths or ``/proc/iomem`` ...); ``diagnostics`` holds
    malformed-line findings and notes about missing or unreadable pieces.
    """

    kernel_version: KernelVersion | None = None
    cmdline: str | None = None
    machine: str | None = None
    kernel_release: str | None = None
    regions: tuple[ObservedRegion, ...] = ()
    cma_areas: tuple[ObservedCma, ...] = ()
    global_cma: ObservedGlobalCma = ObservedGlobalCma(known=False)
    cma_total: int | None = None
    cma_free: int | None = None
    mem_total: int | None = None
    cma_reserved_log: int | None = None
    memory: tuple[MemoryRange, ...] = ()
    memory_limit: int | None = None
    dt_default_cma: tuple[str, ...] = ()
    page_size: int = 4096
    iomem: Iomem | None = attrs.field(default=None, eq=False)
    meminfo: Meminfo | None = attrs.field(default=None, eq=False)
    log: BootLog | None = attrs.field(default=None, eq=False)
    debugfs: tuple[DebugfsCmaArea, ...] = attrs.field(default=(), eq=False)
    sysfs: tuple[SysfsCmaArea, ...] = attrs.field(default=(), eq=False)
    fdt: object | None = attrs.field(default=None, eq=False)
    sources: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    #: The JSON record: its keys in order (the raw pieces are written through their parsed
    #: values; the iomem tree, meminfo and the DTB are not part of it).
    __json_keys__ = (
        "schema_version",
        "kernel_version",
        "kernel_release",
        "cmdline",
        "machine",
        "page_size",
        "global_cma",
        "cma_total",
        "cma_free",
        "mem_total",
        "cma_reserved_log",
        "memory_limit",
        "dt_default_cma",
        "regions",
        "cma_areas",
        "memory",
        "debugfs",
        "sysfs",
        "sources",
        "log",
        "diagnostics",
    )
    #: The version of the JSON format (:mod:`memplan.schemas`).
    schema_version = SCHEMA_VERSION

    def region(self, name: str) -> ObservedRegion:
        """The observed region called ``name``; raises ``KeyError``."""
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def lists_all_reserved_nodes(self) -> bool:
        """True when the log prints one summary line per registered reserved-memory node
        (v6.3+), so a node without a line was not registered."""
        if self.log is None:
            return False
        if self.log.of_kind("rmem-summary"):
            return True
        v = self.kernel_version
        return v is not None and rules.rmem_summary_line(v)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``__json_keys__``; :func:`memplan.jsonform.json_record`)."""
        return json_record(self)
