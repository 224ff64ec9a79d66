"""The kernel's log messages: for each boot event kind and version range, the exact format.

One row per (event kind, version range, architectures): the printk format with its ``pr_fmt``
prefix, written with named fields (:data:`FIELDS`). :mod:`memplan.render.dmesg` prints events
with it; ``tests/observe/test_observe_messages.py`` renders every row on both sides of its
version range and requires :mod:`memplan.observe.dmesg` to read each line back as that event's
kind with the same numbers. A row with an empty format means the version prints nothing. The
conditions are :mod:`memplan.kernel.rules` predicates (their docstrings name the kernel files and
version ranges): the first row of a kind whose condition holds is the one printed.
"""

from __future__ import annotations

from collections.abc import Callable

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

OFRM = "OF: reserved mem: "
OFDT = "OF: fdt: "


def _always(_v: KernelVersion, _arch: str) -> bool:
    return True


@attrs.frozen
class Message:
    """One log format: ``kind`` printed as ``formats`` (one line each) where ``when`` holds.
    ``repeat``: ``count`` repeats the lines ``count`` times; ``hugetlb``: the row is only for
    hugetlb CMA areas."""

    kind: EventKind
    formats: tuple[str, ...]
    when: When = _always
    repeat: str | None = None
    #: The observer's kind for this row when it differs from :data:`PARSED_AS`.
    parsed: str | None = None


def _m(
    kind: EventKind, *formats: str, when: When = _always, repeat: str | None = None, parsed: str | None = None
) -> Message:
    return Message(kind, formats, when, repeat, parsed)


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
        parsed="cma-reserved-ranges",
    ),
    _m(
        "cma-reserved",
        "cma: Reserved {size_mib} MiB at {base} on node {node}",
        when=_v(rules.cma_line_names_node),
    ),
    _m("cma-reserved", "cma: Reserved {size_mib} MiB at {base}"),
    _m("numa-cma-invalid-node", "cma: invalid node {count} specified"),
    _m(
        "numa-cma-failed",
        "cma: dma_numa_cma_reserve: reservation failed: err -12, node {count}",
        when=_v(rules.numa_cma_generic),
    ),
    _m("numa-cma-failed", "cma: dma_pernuma_cma_reserve: reservation failed: err -12, node {count}"),
    _m("cma-not-activated", "cma: CMA area {name} could not be activated"),
    _m("hugetlb-cma-reserve", "hugetlb_cma: reserve {size_mib} MiB, up to {size_mib} MiB per node"),
    _m("hugetlb-cma-reserved", "hugetlb_cma: reserved {size_mib} MiB on node 0"),
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
    _m("crashkernel-failed", "{text}"),
    _m("memmap-map", "user: [mem {e820_start}-{e820_last}] {text}"),
    _m("memreserve-invalid"),
)


def message_for(kind: EventKind, version: KernelVersion, arch: str, *, hugetlb: bool = False) -> Message:
    """The row that prints ``kind`` on ``version`` and ``arch``: the first whose condition holds.
    ``hugetlb``: the event is a hugetlb CMA area (6.15+ prints those in ranges)."""
    for m in MESSAGES:
        if m.kind != kind or not m.when(version, arch):
            continue
        if m.repeat == "hugetlb" and not hugetlb:
            continue
        return m
    raise KeyError(f"no message for {kind} on {version} ({arch})")


#: The kind :mod:`memplan.observe.dmesg` gives each message when it reads it back (the observer
#: also reads lines memplan never prints: ``Linux version``, e820 BIOS maps, ``Memory:``...).
PARSED_AS: dict[EventKind, str] = {
    "cma-created": "pool-created",
    "dma-created": "pool-created",
    "restricted-created": "pool-created",
    "dma-needs-nomap": "dma-needs-nomap",
    "rmem-initialized": "rmem-initialized",
    "rmem-summary": "rmem-summary",
    "cma-bypass": "cma-bypass",
    "cma-skip": "rmem-skip-default",
    "rmem-match-fail": "rmem-matching-fail",
    "cma-misaligned": "cma-bad-alignment",
    "cma-unable": "cma-setup-failed",
    "rmem-overlap": "rmem-overlap",
    "rmem-alloc-failed": "rmem-alloc-failed",
    "rmem-reserve-failed": "rmem-reserve-failed",
    "rmem-unsupported": "rmem-unsupported-format",
    "rmem-bad-reg": "rmem-invalid-property",
    "rmem-bad-size": "rmem-invalid-property",
    "rmem-bad-alignment": "rmem-invalid-property",
    "rmem-bad-alloc-ranges": "rmem-invalid-property",
    "rmem-extra-reg": "rmem-ignores-regions",
    "cma-reserved": "cma-reserved",
    "cma-failed": "cma-failed",
    "cma-aligned-base": "cma-error",
    "cma-exceeds-limit": "cma-error",
    "cma-not-activated": "cma-not-activated",
    "hugetlb-cma-reserve": "hugetlb-cma-reserve",
    "hugetlb-cma-reserved": "hugetlb-cma-reserved",
    "hugetlb-cma-failed": "hugetlb-cma-failed",
    "mem-limit": "memory-limited",
    "crashkernel": "crashkernel",
    "crashkernel-low": "crashkernel-low",
    "crashkernel-failed": "crashkernel-failed",
    "memmap-map": "e820-user",
    "numa-cma-failed": "numa-cma-failed",
    "numa-cma-invalid-node": "numa-cma-invalid-node",
    "rmem-too-many": "rmem-too-many",
    "hugetlb-cma-multiple": "hugetlb-cma-multiple",
}
