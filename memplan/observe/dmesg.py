"""Boot-log (``dmesg``) parser: the memory-layout messages of every kernel version.

A line is first reduced to the message: a ``/dev/kmsg`` record header (``6,123,456,-;``), a
syslog priority (``<6>``), a ``[    0.000000]`` timestamp, a ``[    T0]`` caller id and a
syslog ``host kernel:`` (busybox: ``host kern.info kernel:``) prefix are removed; then the
``OF: fdt: `` / ``OF: reserved mem: `` prefix is split off and kept in :attr:`LogEvent.prefix`.

The message is matched against the rules below. Each rule has a *prefix* that identifies the
message and one or more *forms* (the per-version formats). A line whose prefix matches but
which fits no form is a malformed known line and becomes an ``observe-malformed-line``
diagnostic; any other line is skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import attrs

from memplan.errors import ObserveError
from memplan.model import Diagnostic
from memplan.numbers import parse_int
from memplan.observe._common import U64_MAX, malformed, observed_source, read_text
from memplan.observe.model import BootLog, LogEvent
from memplan.source import Source
from memplan.units import MiB as MIB
from memplan.version import KernelVersion

KIB = 1 << 10
#: At most this many significant digits in a logged number (a 64-bit value has 20 in decimal).
_MAX_DIGITS = 24

_HEADER_RES = (
    re.compile(r"^\d+,\d+,\d+,[^;]*;"),  # /dev/kmsg record
    re.compile(r"^<\d+>"),  # syslog priority
    # syslog file; busybox syslogd adds the facility.priority (``host kern.info kernel: ``)
    re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ (?:[a-z0-9]+\.[a-z]+ )?kernel: "),
    re.compile(r"^\d{4}-\d\d-\d\dT\S+ \S+ kernel: "),  # rfc3339 syslog / journalctl -o short-iso
    re.compile(r"^\[\s*\d+\.\d+\]\s?"),  # printk time
    re.compile(r"^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d [\d:]+ \d{4}\]\s?"),  # dmesg -T
    re.compile(r"^\[\s*[TC]\d+\]\s?"),  # CONFIG_PRINTK_CALLER
)
_OF_PREFIX_RE = re.compile(r"^OF: (?:fdt|reserved mem): ")
_HEX = r"(0x[0-9a-fA-F]+)"

#: Every ``LogEvent.kind`` this parser produces.
EVENT_KINDS: tuple[str, ...] = (
    "linux-version",
    "kernel-cmdline",
    "machine-model",
    "rmem-initialized",
    "rmem-matching-fail",
    "rmem-summary",
    "rmem-overlap-detected",
    "rmem-overlap",
    "rmem-alloc-failed",
    "rmem-reserve-failed",
    "rmem-unsupported-format",
    "rmem-no-node",
    "rmem-invalid-property",
    "rmem-skip-default",
    "rmem-ignores-regions",
    "pool-created",
    "cma-bypass",
    "cma-bad-alignment",
    "cma-setup-failed",
    "dma-needs-nomap",
    "cma-reserved",
    "cma-reserved-ranges",
    "cma-failed",
    "cma-not-activated",
    "cma-error",
    "e820-bios-header",
    "e820-bios",
    "e820-bios-gap",
    "e820-user-header",
    "e820-user",
    "e820-user-gap",
    "memory-summary",
    "memory-limited",
    "crashkernel",
    "crashkernel-low",
    "crashkernel-failed",
    "crashkernel-cma",
    "swiotlb",
    "hugetlb-cma-reserve",
    "hugetlb-cma-reserved",
    "hugetlb-cma-failed",
    "hugetlb-cma-multiple",
    "numa-cma-failed",
    "numa-cma-invalid-node",
    "rmem-too-many",
)

_Builder = Callable[[re.Match[str], Source, str], LogEvent | None]


@attrs.frozen
class _Form:
    regex: re.Pattern[str]
    build: _Builder


@attrs.frozen
class _Rule:
    what: str
    prefix: re.Pattern[str]
    forms: tuple[_Form, ...]


def _hex(text: str) -> int:
    """A hex number of a log line (``0x`` prefix), bounded (:func:`memplan.numbers.parse_int`);
    a refusal raises :class:`~memplan.errors.ObserveError` and the line counts as malformed."""
    return parse_int(text, error=ObserveError, base=16, what="hex number", max_digits=_MAX_DIGITS)


def _dec(text: str) -> int:
    """A decimal number of a log line, bounded like :func:`_hex`."""
    return parse_int(text, error=ObserveError, base=10, what="number", max_digits=_MAX_DIGITS)


def _sdec(text: str) -> int:
    """A signed decimal number (an errno, a node id ``-1``), bounded like :func:`_hex`."""
    return parse_int(text, error=ObserveError, base=10, what="number", signed=True, max_digits=_MAX_DIGITS)


def _h(text: str | None) -> int | None:
    return None if text is None else _hex(text)


def _i(text: str | None) -> int | None:
    return None if text is None else _sdec(text)


def _ev(kind: str) -> _Builder:
    """A builder for a message without parameters."""

    def build(_m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        return LogEvent(kind, src, prefix=prefix)

    return build


_UPSTREAM_RES = (
    re.compile(r"\sDebian (\d+\.\d+(?:\.\d+)?)-\S+ \([\d-]+\)\s*$"),
    re.compile(r"\(Ubuntu \S+ (\d+\.\d+(?:\.\d+)?)\)\s*$"),
)


def _linux_version(m: re.Match[str], src: Source, prefix: str) -> LogEvent | None:
    """``text`` is the release as ``uname -r`` prints it; ``name`` the upstream version when a
    distribution prints it separately (Debian ``... Debian 5.10.223-1 (date)``, Ubuntu
    ``(Ubuntu 5.15.0-91.101-generic 5.15.131)``), because the release string of those kernels
    carries an ABI number instead of the stable patch level."""
    try:
        KernelVersion.parse(m.group(1))
    except Exception:
        return None
    upstream = None
    for rx in _UPSTREAM_RES:
        um = rx.search(m.group(0))
        if um is not None:
            upstream = um.group(1)
            break
    return LogEvent("linux-version", src, text=m.group(1), name=upstream, prefix=prefix)


def _text(kind: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        return LogEvent(kind, src, text=m.group(1).strip(), prefix=prefix)

    return build


def _initialized(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent("rmem-initialized", src, name=m.group(1), text=m.group(2), prefix=prefix)


def _named(kind: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        return LogEvent(kind, src, name=m.group(1), prefix=prefix)

    return build


def _summary(m: re.Match[str], src: Source, prefix: str) -> LogEvent | None:
    base, last = _hex(m.group(1)), _hex(m.group(2))
    if last < base:
        return None
    flags = f"{m.group(5)} {m.group(6)}"
    return LogEvent(
        "rmem-summary",
        src,
        name=m.group(7),
        base=base,
        size=last - base + 1,
        end=last + 1,
        text=flags,
        numbers=(_dec(m.group(3)),),
        prefix=prefix,
    )


def _overlap(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent(
        "rmem-overlap",
        src,
        name=m.group(1),
        base=_hex(m.group(2)),
        end=_hex(m.group(3)),
        other_name=m.group(4),
        other_base=_hex(m.group(5)),
        other_end=_hex(m.group(6)),
        prefix=prefix,
    )


def _alloc_failed(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    mib = _i(m.group(2))
    return LogEvent(
        "rmem-alloc-failed",
        src,
        name=m.group(1),
        size=None if mib is None else mib * MIB,
        size_granule=MIB,
        prefix=prefix,
    )


def _reserve_failed(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent(
        "rmem-reserve-failed",
        src,
        name=m.group(1),
        base=_hex(m.group(2)),
        size=_dec(m.group(3)) * MIB,
        size_granule=MIB,
        prefix=prefix,
    )


def _invalid(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent("rmem-invalid-property", src, name=m.group(2), text=m.group(1), prefix=prefix)


def _skip(form: str) -> _Builder:
    def build(_m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        return LogEvent("rmem-skip-default", src, text=form, prefix=prefix)

    return build


def _ignores(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent("rmem-ignores-regions", src, name=m.group(2), numbers=(_dec(m.group(1)),), prefix=prefix)


_POOL_KINDS = {"CMA memory": "cma", "DMA memory": "dma", "restricted DMA": "restricted-dma"}


def _pool(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    unit = _unit(m.group(4))
    return LogEvent(
        "pool-created",
        src,
        text=_POOL_KINDS[m.group(1)],
        base=_hex(m.group(2)),
        size=_dec(m.group(3)) * unit,
        size_granule=unit,
        prefix=prefix,
    )


def _unit(text: str) -> int:
    return MIB if text == "MiB" else KIB


def _sized(kind: str, unit: int | None = None, *, base: int = 0, node: int = 0, count: int = 0) -> _Builder:
    """A builder for ``<size> <unit> ...`` messages: the size is group 1, printed in ``unit``
    (group 2 names it, ``MiB`` or ``KiB``, when ``unit`` is None). ``base``, ``node`` and
    ``count`` are group numbers (0: not in this message) of a hex address, a NUMA node and one
    more decimal number."""

    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        granule = unit if unit is not None else _unit(m.group(2))
        return LogEvent(
            kind,
            src,
            size=_dec(m.group(1)) * granule,
            size_granule=granule,
            base=_hex(m.group(base)) if base else None,
            node=_i(m.group(node)) if node else None,
            numbers=(_dec(m.group(count)),) if count else (),
            prefix=prefix,
        )

    return build


_cma_reserved = _sized("cma-reserved", base=3, node=4)
_cma_ranges = _sized("cma-reserved-ranges", count=3)
_cma_failed = _sized("cma-failed", node=3)
_memory_limited = _sized("memory-limited", MIB)
_crash_cma = _sized("crashkernel-cma", MIB, count=2)
_hugetlb_reserve = _sized("hugetlb-cma-reserve", MIB, count=2)
_hugetlb_reserved = _sized("hugetlb-cma-reserved", MIB, node=2)


def _numa_failed(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent(
        "numa-cma-failed",
        src,
        node=_dec(m.group(3)),
        numbers=(_sdec(m.group(2)),),
        text=m.group(1),
        prefix=prefix,
    )


def _numa_invalid(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent("numa-cma-invalid-node", src, node=_sdec(m.group(1)), prefix=prefix)


def _cma_error(what: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        nums = tuple(_hex(g) for g in m.groups() if g is not None)
        return LogEvent(
            "cma-error", src, text=what, base=nums[0] if nums else None, numbers=nums, prefix=prefix
        )

    return build


def _e820(kind: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent | None:
        base, last = _hex(m.group(1)), _hex(m.group(2))
        if last < base:
            return None
        return LogEvent(
            kind, src, base=base, end=last + 1, size=last - base + 1, text=m.group(3), prefix=prefix
        )

    return build


def _memory_summary(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    parts: dict[str, int] = {}
    for item in m.group(3).split(","):
        pm = re.match(r"^\s*(\d+)K (.+?)\s*$", item)
        if pm:
            parts[pm.group(2)] = _dec(pm.group(1))
    cma = parts.get("cma-reserved")
    return LogEvent(
        "memory-summary",
        src,
        numbers=(_dec(m.group(1)), _dec(m.group(2)), parts.get("reserved", -1)),
        size=None if cma is None else cma * KIB,
        size_granule=KIB,
        text=m.group(3),
        prefix=prefix,
    )


def _mapped_range(kind: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent | None:
        base, end = _hex(m.group(1)), _hex(m.group(2))
        if end < base:
            return None
        return LogEvent(
            kind, src, base=base, end=end, size=end - base, numbers=(_dec(m.group(3)),), prefix=prefix
        )

    return build


def _crash_x86(kind: str) -> _Builder:
    def build(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
        return LogEvent(
            kind,
            src,
            size=_dec(m.group(1)) * MIB,
            size_granule=MIB,
            base=_dec(m.group(2)) * MIB,
            numbers=(_dec(m.group(3)),),
            prefix=prefix,
        )

    return build


def _crash_failed(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent("crashkernel-failed", src, text=m.group(1), prefix=prefix)


def _hugetlb_failed(m: re.Match[str], src: Source, prefix: str) -> LogEvent:
    return LogEvent(
        "hugetlb-cma-failed", src, node=_dec(m.group(2)), numbers=(_sdec(m.group(1)),), prefix=prefix
    )


def _f(pattern: str, build: _Builder) -> _Form:
    return _Form(re.compile(pattern + r"\s*$", re.ASCII), build)


def _r(what: str, prefix: str, *forms: _Form) -> _Rule:
    return _Rule(what, re.compile(prefix, re.ASCII), forms)


_RM = r"(?:Reserved memory: )?"

RULES: tuple[_Rule, ...] = (
    _r("Linux version", r"Linux version ", _f(r"Linux version (\d+\.\d+\S*)(?: .*)?", _linux_version)),
    _r(
        "Kernel command line",
        r"Kernel command line:",
        _f(r"Kernel command line:(.*)", _text("kernel-cmdline")),
    ),
    _r("Machine model", r"Machine model: ", _f(r"Machine model: (.+)", _text("machine-model"))),
    _r(
        "reserved-mem initialized node",
        r"initialized node ",
        _f(r"initialized node (\S+), compatible id (\S+)", _initialized),
    ),
    _r(
        "reserved-mem matching fail",
        r"node \S+ compatible ",
        _f(r"node (\S+) compatible matching fail", _named("rmem-matching-fail")),
    ),
    _r(
        "reserved-mem summary",
        r"0x[0-9a-fA-F]+\.\.",
        _f(
            _HEX + r"\.\." + _HEX + r" \(\s*(\d+) (KiB|KB)\s*\) (nomap|map) (reusable|non-reusable) (\S+)",
            _summary,
        ),
    ),
    _r("OVERLAP DETECTED", r"OVERLAP DETECTED", _f(r"OVERLAP DETECTED!", _ev("rmem-overlap-detected"))),
    _r(
        "reserved-mem overlap",
        r"\S+ \(0x[0-9a-fA-F]+--",
        _f(
            r"(\S+) \(" + _HEX + "--" + _HEX + r"\) overlaps with (\S+) \(" + _HEX + "--" + _HEX + r"\)",
            _overlap,
        ),
    ),
    _r(
        "reserved-mem failed to allocate",
        _RM + r"failed to allocate memory for node",
        _f(_RM + r"failed to allocate memory for node '([^']*)'(?:: size (\d+) MiB)?", _alloc_failed),
    ),
    _r(
        "reserved-mem failed to reserve",
        _RM + r"failed to reserve memory for node",
        _f(
            _RM + r"failed to reserve memory for node '([^']*)': base " + _HEX + r", size (\d+) MiB",
            _reserve_failed,
        ),
    ),
    _r(
        "reserved-mem unsupported node format",
        _RM + r"unsupported node format",
        _f(_RM + r"unsupported node format, ignoring", _ev("rmem-unsupported-format")),
    ),
    _r(
        "reserved-mem no node",
        _RM + r"No reserved-memory node",
        _f(_RM + r"No reserved-memory node in the DT", _ev("rmem-no-node")),
    ),
    _r(
        "reserved-mem invalid property",
        _RM + r"invalid (?:reg|size|alignment|alloc-ranges) property",
        _f(_RM + r"invalid (reg|alloc-ranges) property in '([^']*)', skipping node\.?", _invalid),
        _f(_RM + r"invalid (size|alignment) property in '([^']*)' node\.?", _invalid),
    ),
    _r(
        "Skipping dt linux,cma-default",
        r"Skipping dt linux,cma-default",
        _f(r'Skipping dt linux,cma-default for "cma=" kernel param\.?', _skip("6.19")),
        _f(r'Skipping dt linux,cma-default node in favou?r (?:for|of) "cma=" kernel param\.?', _skip("7.x")),
    ),
    _r(
        "reserved-mem ignores regions",
        r"fdt_scan_reserved_mem_reg_nodes\(\) ignores",
        _f(r"fdt_scan_reserved_mem_reg_nodes\(\) ignores (\d+) regions? in node '([^']*)'", _ignores),
    ),
    _r(
        "Reserved memory: created pool",
        r"Reserved memory: created ",
        _f(
            r"Reserved memory: created (CMA memory|DMA memory|restricted DMA) pool at "
            + _HEX
            + r", size (\d+) (MiB|KiB)",
            _pool,
        ),
    ),
    _r(
        "Reserved memory: bypass",
        r"Reserved memory: bypass ",
        _f(r"Reserved memory: bypass (\S+) node, using cmdline CMA params instead", _named("cma-bypass")),
    ),
    _r(
        "Reserved memory: CMA/DMA setup",
        r"Reserved memory: (?:incorrect alignment|unable to setup|regions without no-map)",
        _f(r"Reserved memory: incorrect alignment of CMA region", _ev("cma-bad-alignment")),
        _f(r"Reserved memory: unable to setup CMA region", _ev("cma-setup-failed")),
        _f(r"Reserved memory: regions without no-map are not yet supported", _ev("dma-needs-nomap")),
    ),
    _r(
        "cma: Reserved",
        r"cma: Reserved ",
        _f(r"cma: Reserved (\d+) (MiB|KiB) at " + _HEX + r"(?: on node (-?\d+))?", _cma_reserved),
        _f(r"cma: Reserved (\d+) (MiB|KiB) in (\d+) ranges?", _cma_ranges),
    ),
    _r(
        "cma: CMA area not activated",
        r"cma: CMA area ",
        _f(r"cma: CMA area (\S+) could not be activated", _named("cma-not-activated")),
    ),
    _r(
        "cma: Failed to reserve",
        r"cma: Failed to reserve ",
        _f(r"cma: Failed to reserve (\d+) (MiB|KiB)(?: on node (-?\d+))?", _cma_failed),
    ),
    _r(
        "cma: per-node area",
        r"cma: (?:dma_(?:numa|pernuma)_cma_reserve|invalid node)",
        _f(
            r"cma: (dma_numa_cma_reserve|dma_pernuma_cma_reserve): reservation failed: "
            r"err (-?\d+), node (\d+)",
            _numa_failed,
        ),
        _f(r"cma: invalid node (-?\d+) specified", _numa_invalid),
    ),
    _r(
        "reserved-mem not enough space",
        r"not enough space ",
        _f(r"not enough space (?:for )?all defined regions\.?", _ev("rmem-too-many")),
    ),
    _r(
        "cma: placement error",
        r"cma: (?:Region at |Size \(|Not enough slots)",
        _f(r"cma: Region at " + _HEX + r" must be aligned to " + _HEX + r" bytes", _cma_error("misaligned")),
        _f(
            r"cma: Region at " + _HEX + r" defined on low/high memory boundary \(" + _HEX + r"\)",
            _cma_error("boundary"),
        ),
        _f(
            r"cma: Size \(" + _HEX + r"\) of region at " + _HEX + r" exceeds limit \(" + _HEX + r"\)",
            _cma_error("limit"),
        ),
        _f(r"cma: Not enough slots for CMA reserved regions!", _cma_error("slots")),
    ),
    _r(
        "e820 BIOS map",
        r"(?:e820: )?BIOS-(?:provided|e820)",
        _f(r"(?:e820: )?BIOS-provided physical RAM map:", _ev("e820-bios-header")),
        _f(r"(?:e820: )?BIOS-e820: \[mem " + _HEX + "-" + _HEX + r"\]\s+(.+)", _e820("e820-bios")),
        _f(r"(?:e820: )?BIOS-e820: \[gap " + _HEX + "-" + _HEX + r"\]()", _e820("e820-bios-gap")),
    ),
    _r(
        "e820 user map",
        r"(?:e820: )?(?:user-defined physical RAM map|user: \[)",
        _f(r"(?:e820: )?user-defined physical RAM map:", _ev("e820-user-header")),
        _f(r"(?:e820: )?user: \[mem " + _HEX + "-" + _HEX + r"\]\s+(.+)", _e820("e820-user")),
        _f(r"(?:e820: )?user: \[gap " + _HEX + "-" + _HEX + r"\]()", _e820("e820-user-gap")),
    ),
    _r(
        "Memory: available",
        r"Memory: \d+K/",
        _f(r"Memory: (\d+)K/(\d+)K available \((.*)\)", _memory_summary),
    ),
    _r("Memory limited", r"Memory limited to ", _f(r"Memory limited to (\d+)MB", _memory_limited)),
    _r(
        "crashkernel",
        r"crashkernel (?:reserved|low memory reserved|reservation failed|CMA reserved)",
        _f(r"crashkernel reserved: " + _HEX + " - " + _HEX + r" \((\d+) MB\)", _mapped_range("crashkernel")),
        _f(
            r"crashkernel low memory reserved: " + _HEX + " - " + _HEX + r" \((\d+) MB\)",
            _mapped_range("crashkernel-low"),
        ),
        _f(r"crashkernel reservation failed - (.+)", _crash_failed),
        _f(r"crashkernel CMA reserved: (\d+) MB in (\d+) ranges?", _crash_cma),
    ),
    _r(
        "cannot allocate crashkernel",
        r"cannot allocate crashkernel",
        _f(r"(cannot allocate crashkernel \(size:0x[0-9a-fA-F]+\))", _crash_failed),
    ),
    _r(
        "Reserving ... for crashkernel",
        r"Reserving \d+MB of (?:low )?memory at ",
        _f(
            r"Reserving (\d+)MB of memory at (\d+)MB for crashkernel \(System RAM: (\d+)MB\)",
            _crash_x86("crashkernel"),
        ),
        _f(
            r"Reserving (\d+)MB of low memory at (\d+)MB for crashkernel \(low RAM limit: (\d+)MB\)",
            _crash_x86("crashkernel-low"),
        ),
    ),
    _r(
        "software IO TLB",
        r"software IO TLB: mapped ",
        _f(
            r"software IO TLB: mapped \[mem " + _HEX + "-" + _HEX + r"\] \((\d+)MB\)",
            _mapped_range("swiotlb"),
        ),
    ),
    _r(
        "hugetlb_cma",
        r"hugetlb_cma: (?:reserv|cma area must)",
        _f(r"hugetlb_cma: reserve (\d+) MiB, up to (\d+) MiB per node", _hugetlb_reserve),
        _f(r"hugetlb_cma: reserved (\d+) MiB on node (\d+)", _hugetlb_reserved),
        _f(r"hugetlb_cma: reservation failed: err (-?\d+), node (\d+)", _hugetlb_failed),
        _f(r"hugetlb_cma: cma area must be a multiple of (\d+) MiB", _sized("hugetlb-cma-multiple", MIB)),
    ),
)


def message_of(line: str) -> str:
    """The kernel message of a log line, without record headers, priorities and timestamps."""
    text = line.rstrip("\r\n")
    for _ in range(4):
        before = text
        for rx in _HEADER_RES:
            text = rx.sub("", text, count=1)
        if text == before:
            break
    return text.strip()


def _fits_64_bits(e: LogEvent) -> bool:
    """False when an address or size of ``e`` cannot exist on a 64-bit machine (an exclusive
    end may be 2**64)."""
    starts = (e.base, e.size, e.other_base)
    ends = (e.end, e.other_end)
    return all(v is None or 0 <= v <= U64_MAX for v in starts) and all(
        v is None or 0 <= v <= U64_MAX + 1 for v in ends
    )


def parse_line(line: str, source: Source) -> tuple[LogEvent | None, bool]:
    """Match one log line. Returns ``(event, malformed)``: ``(None, False)`` for an unknown line."""
    message = message_of(line)
    prefix_match = _OF_PREFIX_RE.match(message)
    prefix = prefix_match.group(0) if prefix_match else ""
    body = message[len(prefix) :]
    for rule in RULES:
        if not rule.prefix.match(body):
            continue
        for form in rule.forms:
            m = form.regex.match(body)
            if m is None:
                continue
            try:
                event = form.build(m, source, prefix)
            except ObserveError:
                return None, True
            if event is not None:
                return (event, False) if _fits_64_bits(event) else (None, True)
        return None, True
    return None, False


def _rule_name(line: str) -> str:
    message = message_of(line)
    body = _OF_PREFIX_RE.sub("", message, count=1)
    for rule in RULES:
        if rule.prefix.match(body):
            return rule.what
    return "boot log"


def parse_dmesg(text: str, file: str | None = None) -> BootLog:
    """Parse a boot log (``dmesg`` output, ``/dev/kmsg`` records or a syslog excerpt)."""
    events: list[LogEvent] = []
    diagnostics: list[Diagnostic] = []
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        event, bad = parse_line(raw, observed_source(file, lineno, raw))
        if event is not None:
            events.append(event)
        elif bad:
            diagnostics.append(malformed(file, lineno, raw, _rule_name(raw)))
    return BootLog(tuple(events), file, len(lines), tuple(diagnostics))


def read_dmesg(path: str | Path) -> BootLog:
    """Read and parse a saved boot log."""
    return parse_dmesg(read_text(path), str(path))
