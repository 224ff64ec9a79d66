"""The kernel's log messages: for each boot event kind and version range, the exact format.

One row per (event kind, version range, architectures): the printk format with its ``pr_fmt``
prefix, written with named fields (:data:`FIELDS`). :mod:`memplan.render.dmesg` prints events
with it and :mod:`memplan.observe.dmesg` compiles every row into the pattern it reads lines with
(:data:`FIELD_PATTERNS` says what each field matches), so printer and parser share the formats
and the kind names. ``tests/observe/test_observe_messages.py`` renders every row on both sides of
its version range and requires the parser to read each line back as that event's kind with the
same numbers. A row with an empty format means the version prints nothing. The conditions are
:mod:`memplan.kernel.rules` predicates (their docstrings name the kernel files and version
ranges): the first row of a kind whose condition holds is the one printed.

Rows whose condition is :func:`read_only` are never printed: formats of kernels or builds memplan
does not print for (other units, plural forms, distribution banners) and messages the resolver
does not model (``Linux version``, the e820 BIOS map, ``Memory:``, swiotlb ...), read by the
observer only; their kinds are :data:`ObservedKind`. A row marked ``read=False`` is printed but
not read (a free-text format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

from memplan.kernel import rules
from memplan.kernel.events import EventKind
from memplan.version import KernelVersion

#: A row's condition: kernel version and architecture → whether the row applies.
When = Callable[[KernelVersion, str], bool]

#: Fields a format may use. ``base``/``end``/``last``/``other_base``/``other_end``/``limit``/
#: ``align``: ``%pa`` (16 hex digits with 64-bit ``phys_addr_t``, 8 with 32); ``size_mib``,
#: ``size_kib``, ``total_mib``, ``base_mib``: decimal sizes; ``start32``/``end32``: ``0x%08llx``;
#: ``start64``/``end64``: ``0x%016llx``; ``name``, ``other``, ``text``, ``count``, ``node``,
#: ``map`` (``nomap``/``map``), ``reuse`` (``reusable``/``non-reusable``), ``e820_start``/
#: ``e820_last`` (``%#018Lx``).
FIELDS = (
    "base",
    "end",
    "last",
    "other_base",
    "other_end",
    "limit",
    "align",
    "size_mib",
    "size_kib",
    "total_mib",
    "base_mib",
    "start32",
    "end32",
    "start64",
    "end64",
    "name",
    "other",
    "text",
    "count",
    "node",
    "map",
    "reuse",
    "e820_start",
    "e820_last",
    "size_hex",
)

#: Kinds of messages the kernel prints that the resolver does not model (read by the observer only).
ObservedKind = Literal[
    "linux-version",
    "kernel-cmdline",
    "machine-model",
    "rmem-no-node",
    "cma-boundary",
    "cma-no-slots",
    "e820-bios-header",
    "e820-bios",
    "e820-bios-gap",
    "memmap-header",
    "memmap-gap",
    "memory-summary",
    "crashkernel-cma",
    "swiotlb",
]
#: Every kind of log message: the boot events the resolver records and the observed-only ones.
LogKind = EventKind | ObservedKind

_HEX = r"0x[0-9a-fA-F]+"
#: A field's pattern says how its text is read: an address or size in hex, a count in decimal,
#: a signed number (an errno, a node), anything else as text.
HEX_PATTERN = _HEX
DECIMAL_PATTERN = r"\d+"
SIGNED_PATTERN = r"-?\d+"
#: What each field of a format matches when a line is read (the parser compiles the formats with
#: these). Addresses are read in any width (``%pa`` prints 8 or 16 digits); ``release``/``rest``,
#: ``avail_kib``/``total_kib`` and ``parts`` appear only in read-only rows.
FIELD_PATTERNS: dict[str, str] = {
    "base": HEX_PATTERN,
    "end": HEX_PATTERN,
    "last": HEX_PATTERN,
    "other_base": HEX_PATTERN,
    "other_end": HEX_PATTERN,
    "limit": HEX_PATTERN,
    "align": HEX_PATTERN,
    "size_hex": HEX_PATTERN,
    "start32": HEX_PATTERN,
    "end32": HEX_PATTERN,
    "start64": HEX_PATTERN,
    "end64": HEX_PATTERN,
    "e820_start": HEX_PATTERN,
    "e820_last": HEX_PATTERN,
    "size_mib": DECIMAL_PATTERN,
    "size_kib": DECIMAL_PATTERN,
    "total_mib": DECIMAL_PATTERN,
    "base_mib": DECIMAL_PATTERN,
    "avail_kib": DECIMAL_PATTERN,
    "total_kib": DECIMAL_PATTERN,
    "count": SIGNED_PATTERN,
    "node": SIGNED_PATTERN,
    "name": r"[^\s']+",
    "other": r"[^\s']+",
    "text": r".+",
    "parts": r".*",
    "map": r"nomap|map",
    "reuse": r"reusable|non-reusable",
    "release": r"\d+\.\d+\S*",
    "rest": r"(?: .*)?",
}
#: Prefixes some kernels print before a message and others do not: optional when read.
OPTIONAL_PREFIXES = ("Reserved memory: ", "e820: ")
#: One ``<n>K <what>`` part of the ``Memory: ...K/...K available (...)`` line.
MEMORY_SUMMARY_PART = r"^\s*(\d+)K (.+?)\s*$"
#: Distribution banners that print the upstream version beside the release (Debian
#: ``... Debian 5.10.223-1 (date)``, Ubuntu ``(Ubuntu 5.15.0-91.101-generic 5.15.131)``).
UPSTREAM_VERSION_PATTERNS = (
    r"\sDebian (\d+\.\d+(?:\.\d+)?)-\S+ \([\d-]+\)\s*$",
    r"\(Ubuntu \S+ (\d+\.\d+(?:\.\d+)?)\)\s*$",
)

OFRM = "OF: reserved mem: "
OFDT = "OF: fdt: "


def _always(_v: KernelVersion, _arch: str) -> bool:
    return True


def read_only(_v: KernelVersion, _arch: str) -> bool:
    """The condition of a row memplan reads but never prints."""
    return False


@attrs.frozen
class Message:
    """One log format: ``kind`` printed as ``formats`` (one line each) where ``when`` holds.
    ``repeat``: ``count`` repeats the lines ``count`` times; ``hugetlb``: the row is only for
    hugetlb CMA areas."""

    kind: LogKind
    formats: tuple[str, ...]
    when: When = _always
    repeat: str | None = None
    #: False for a free-text format that is printed but cannot be read back as it is.
    read: bool = True

    @property
    def printed(self) -> bool:
        """True unless the row is only read (:func:`read_only`)."""
        return self.when is not read_only


def _m(
    kind: EventKind, *formats: str, when: When = _always, repeat: str | None = None, read: bool = True
) -> Message:
    return Message(kind, formats, when, repeat, read)


def _r(kind: LogKind, *formats: str) -> Message:
    """A row that is read but never printed."""
    return Message(kind, formats, read_only)


def _v(predicate: Callable[[KernelVersion], bool]) -> When:
    """A row condition from a version predicate."""
    return lambda v, _arch: predicate(v)


def _moved(v: KernelVersion, _arch: str) -> bool:
    return rules.of_reserved_mem_prefix(v)


MESSAGES: tuple[Message, ...] = (
    _m("cma-created", "Reserved memory: created CMA memory pool at {base}, size {size_mib} MiB"),
    _m("dma-created", "Reserved memory: created DMA memory pool at {base}, size {size_mib} MiB"),
    _m("restricted-created", "Reserved memory: created restricted DMA pool at {base}, size {size_mib} MiB"),
    _m("dma-needs-nomap", "Reserved memory: regions without no-map are not yet supported"),
    _m("rmem-initialized", OFRM + "initialized node {name}, compatible id {text}"),
    _m(
        "rmem-summary",
        OFRM + "{base}..{last} ({size_kib} KiB) {map} {reuse} {name}",
        when=_v(rules.rmem_summary_line),
    ),
    _m("rmem-summary"),
    _m("cma-bypass", "Reserved memory: bypass {name} node, using cmdline CMA params instead"),
    _m(
        "cma-skip",
        'Skipping dt linux,cma-default node in favor for "cma=" kernel param.',
        when=_v(rules.cma_skip_message_is_unprefixed),
        repeat="count",
    ),
    _m("cma-skip", OFRM + 'Skipping dt linux,cma-default for "cma=" kernel param.'),
    _m("rmem-match-fail", OFRM + "node {name} compatible matching fail"),
    _m("cma-misaligned", "Reserved memory: incorrect alignment of CMA region"),
    _m("cma-unable", "Reserved memory: unable to setup CMA region"),
    _m(
        "rmem-overlap",
        OFRM + "OVERLAP DETECTED!",
        "{name} ({base}--{end}) overlaps with {other} ({other_base}--{other_end})",
    ),
    _m(
        "rmem-alloc-failed",
        OFRM + "failed to allocate memory for node '{name}': size {size_mib} MiB",
        when=_v(rules.alloc_failed_shows_size),
    ),
    _m("rmem-alloc-failed", OFRM + "failed to allocate memory for node '{name}'"),
    _m(
        "rmem-reserve-failed",
        OFRM + "Reserved memory: failed to reserve memory for node '{name}': base {base}, "
        "size {size_mib} MiB",
        when=_moved,
    ),
    _m(
        "rmem-reserve-failed",
        OFDT + "Reserved memory: failed to reserve memory for node '{name}': base {base}, "
        "size {size_mib} MiB",
    ),
    _m("rmem-unsupported", OFRM + "Reserved memory: unsupported node format, ignoring", when=_moved),
    _m("rmem-unsupported", OFDT + "Reserved memory: unsupported node format, ignoring"),
    _m(
        "rmem-bad-reg",
        OFRM + "Reserved memory: invalid reg property in '{name}', skipping node.",
        when=_moved,
    ),
    _m("rmem-bad-reg", OFDT + "Reserved memory: invalid reg property in '{name}', skipping node."),
    _m("rmem-bad-size", OFRM + "invalid size property in '{name}' node."),
    _m("rmem-bad-alignment", OFRM + "invalid alignment property in '{name}' node."),
    _m("rmem-bad-alloc-ranges", OFRM + "invalid alloc-ranges property in '{name}', skipping node."),
    _m(
        "rmem-too-many",
        OFRM + "not enough space for all defined regions.",
        when=_v(rules.too_many_message_says_for),
    ),
    _m("rmem-too-many", OFRM + "not enough space all defined regions."),
    _m(
        "rmem-extra-reg",
        OFRM + "fdt_scan_reserved_mem_reg_nodes() ignores {count} regions in node '{name}'",
        when=_v(rules.extra_reg_message),
    ),
    _m("rmem-extra-reg"),
    _m(
        "cma-reserved",
        "cma: Reserved {size_mib} MiB in 1 range",
        when=_v(rules.hugetlb_cma_reserved_in_ranges),
        repeat="hugetlb",
    ),
    _m(
        "cma-reserved",
        "cma: Reserved {size_mib} MiB at {base} on node {node}",
        when=_v(rules.cma_line_names_node),
    ),
    _m("cma-reserved", "cma: Reserved {size_mib} MiB at {base}"),
    _m("numa-cma-invalid-node", "cma: invalid node {node} specified"),
    _m(
        "numa-cma-failed",
        "cma: dma_numa_cma_reserve: reservation failed: err -12, node {node}",
        when=_v(rules.numa_cma_generic),
    ),
    _m("numa-cma-failed", "cma: dma_pernuma_cma_reserve: reservation failed: err -12, node {node}"),
    _m("cma-not-activated", "cma: CMA area {name} could not be activated"),
    _m("hugetlb-cma-reserve", "hugetlb_cma: reserve {size_mib} MiB, up to {size_mib} MiB per node"),
    _m("hugetlb-cma-reserved", "hugetlb_cma: reserved {size_mib} MiB on node {node}"),
    _m("hugetlb-cma-failed", "hugetlb_cma: reservation failed: err {count}, node {node}"),
    _m("hugetlb-cma-multiple", "hugetlb_cma: cma area must be a multiple of {size_mib} MiB"),
    _m(
        "cma-failed",
        "cma: Failed to reserve {size_mib} MiB on node {node}",
        when=_v(rules.cma_line_names_node),
    ),
    _m("cma-failed", "cma: Failed to reserve {size_mib} MiB"),
    _m("cma-aligned-base", "cma: Region at {base} must be aligned to {align} bytes"),
    _m("cma-exceeds-limit", "cma: Size ({size_hex}) of region at {base} exceeds limit ({limit})"),
    _m("mem-limit", "Memory limited to {size_mib}MB", when=lambda _v, arch: arch in ("arm64", "riscv")),
    _m("mem-limit"),
    _m(
        "crashkernel",
        "crashkernel reserved: {start64} - {end64} ({size_mib} MB)",
        when=rules.crashkernel_generic_message,
    ),
    _m(
        "crashkernel",
        "Reserving {size_mib}MB of memory at {base_mib}MB for crashkernel (System RAM: {total_mib}MB)",
    ),
    _m("crashkernel-low", "crashkernel low memory reserved: {start32} - {end32} ({size_mib} MB)"),
    _m("crashkernel-failed", "{text}", read=False),
    Message("memmap-header", ("user-defined physical RAM map:",)),
    _m("memmap-map", "user: [mem {e820_start}-{e820_last}] {text}"),
    _m("memreserve-invalid"),
    # -- read, never printed: other units and plural forms, other kernels' wording -------------
    _r("cma-created", "Reserved memory: created CMA memory pool at {base}, size {size_kib} KiB"),
    _r("dma-created", "Reserved memory: created DMA memory pool at {base}, size {size_kib} KiB"),
    _r("restricted-created", "Reserved memory: created restricted DMA pool at {base}, size {size_kib} KiB"),
    _r("rmem-summary", "{base}..{last} ({size_kib} KB) {map} {reuse} {name}"),
    _r("rmem-summary", "{base}..{last} ( {size_kib} KB ) {map} {reuse} {name}"),
    _r("rmem-summary", "{base}..{last} ( {size_kib} KiB ) {map} {reuse} {name}"),
    _r("cma-skip", 'Skipping dt linux,cma-default node in favour of "cma=" kernel param.'),
    _r("cma-skip", 'Skipping dt linux,cma-default node in favor of "cma=" kernel param.'),
    _r("cma-skip", 'Skipping dt linux,cma-default node in favour for "cma=" kernel param.'),
    _r("rmem-extra-reg", "fdt_scan_reserved_mem_reg_nodes() ignores {count} region in node '{name}'"),
    _r("cma-reserved", "cma: Reserved {size_kib} KiB at {base} on node {node}"),
    _r("cma-reserved", "cma: Reserved {size_kib} KiB at {base}"),
    _r("cma-reserved", "cma: Reserved {size_mib} MiB in {count} ranges"),
    _r("cma-reserved", "cma: Reserved {size_mib} MiB in {count} range"),
    _r("cma-reserved", "cma: Reserved {size_kib} KiB in {count} ranges"),
    _r("cma-reserved", "cma: Reserved {size_kib} KiB in {count} range"),
    _r("cma-failed", "cma: Failed to reserve {size_kib} KiB on node {node}"),
    _r("cma-failed", "cma: Failed to reserve {size_kib} KiB"),
    _r("numa-cma-failed", "cma: dma_numa_cma_reserve: reservation failed: err {count}, node {node}"),
    _r("numa-cma-failed", "cma: dma_pernuma_cma_reserve: reservation failed: err {count}, node {node}"),
    _r("crashkernel-failed", "crashkernel reservation failed - {text}"),
    _r("crashkernel-failed", "cannot allocate crashkernel (size:{size_hex})"),
    _r(
        "crashkernel-low",
        "Reserving {size_mib}MB of low memory at {base_mib}MB for crashkernel (low RAM limit: {total_mib}MB)",
    ),
    _r("crashkernel-cma", "crashkernel CMA reserved: {size_mib} MB in {count} ranges"),
    _r("crashkernel-cma", "crashkernel CMA reserved: {size_mib} MB in {count} range"),
    _r("memmap-header", "e820: user-defined physical RAM map:"),
    _r("memmap-map", "e820: user: [mem {e820_start}-{e820_last}] {text}"),
    _r("memmap-gap", "e820: user: [gap {e820_start}-{e820_last}]"),
    # -- read, never printed: messages the resolver does not model -------------------------------
    _r("linux-version", "Linux version {release}{rest}"),
    _r("kernel-cmdline", "Kernel command line:{text}"),
    _r("kernel-cmdline", "Kernel command line:"),
    _r("machine-model", "Machine model: {text}"),
    _r("rmem-no-node", "Reserved memory: No reserved-memory node in the DT"),
    _r("cma-boundary", "cma: Region at {base} defined on low/high memory boundary ({limit})"),
    _r("cma-no-slots", "cma: Not enough slots for CMA reserved regions!"),
    _r("e820-bios-header", "e820: BIOS-provided physical RAM map:"),
    _r("e820-bios", "e820: BIOS-e820: [mem {e820_start}-{e820_last}] {text}"),
    _r("e820-bios-gap", "e820: BIOS-e820: [gap {e820_start}-{e820_last}]"),
    _r("memory-summary", "Memory: {avail_kib}K/{total_kib}K available ({parts})"),
    _r("swiotlb", "software IO TLB: mapped [mem {start64}-{end64}] ({size_mib}MB)"),
)


def message_for(kind: LogKind, version: KernelVersion, arch: str, *, hugetlb: bool = False) -> Message:
    """The row that prints ``kind`` on ``version`` and ``arch``: the first whose condition holds.
    ``hugetlb``: the event is a hugetlb CMA area (6.15+ prints those in ranges)."""
    for m in MESSAGES:
        if m.kind != kind or not m.printed or not m.when(version, arch):
            continue
        if m.repeat == "hugetlb" and not hugetlb:
            continue
        return m
    raise KeyError(f"no message for {kind} on {version} ({arch})")


#: Every kind of message, the boot events' first, in table order.
LOG_KINDS: tuple[LogKind, ...] = tuple(dict.fromkeys(m.kind for m in MESSAGES))
