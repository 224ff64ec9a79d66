"""Boot-log (``dmesg``) parser: the memory-layout messages of every kernel version.

A line is first reduced to the message: a ``/dev/kmsg`` record header (``6,123,456,-;``), a
syslog priority (``<6>``), a ``[    0.000000]`` timestamp, a ``[    T0]`` caller id and a
syslog ``host kernel:`` (busybox: ``host kern.info kernel:``) prefix are removed; then the
``OF: fdt: `` / ``OF: reserved mem: `` prefix is split off and kept in :attr:`LogEvent.prefix`.

The message is matched against the formats of the message table
(:data:`memplan.kernel.messages.MESSAGES`), each compiled into a pattern here (:data:`FORMS`):
the event gets the row's kind, the name the printer uses too. A line that starts like a known
message (the format up to its first field) but fits no format is a malformed known line and
becomes an ``observe-malformed-line`` diagnostic; any other line is skipped silently.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import attrs

from memplan.errors import ObserveError
from memplan.kernel.messages import (
    DECIMAL_PATTERN,
    FIELD_PATTERNS,
    HEX_PATTERN,
    MEMORY_SUMMARY_PART,
    MESSAGES,
    OFDT,
    OFRM,
    OPTIONAL_PREFIXES,
    SIGNED_PATTERN,
    UPSTREAM_VERSION_PATTERNS,
    LogKind,
    Message,
)
from memplan.model import Diagnostic
from memplan.numbers import parse_int
from memplan.observe._common import U64_MAX, malformed, observed_source, read_text
from memplan.observe.model import BootLog, LogEvent
from memplan.source import Source
from memplan.units import KiB, MiB
from memplan.version import KernelVersion

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
_OF_PREFIX_RE = re.compile(r"^OF: (?:fdt|reserved mem): ")

#: Every ``LogEvent.kind`` this parser produces: the kinds of the message table.
EVENT_KINDS: tuple[LogKind, ...] = tuple(dict.fromkeys(m.kind for m in MESSAGES if m.read and m.formats))

#: A known message is recognised by at most this many words of its leading text (words ending
#: in ``:``, the subsystem prefixes, not counted).
_KEY_WORDS = 3
_UPSTREAM_RES = tuple(re.compile(p) for p in UPSTREAM_VERSION_PATTERNS)
_MEMORY_PART_RE = re.compile(MEMORY_SUMMARY_PART)


@attrs.frozen
class Form:
    """One format line of a table row, compiled: ``pattern`` reads the whole message, ``key`` (or
    ``None``) recognises it when the rest does not fit; ``fields`` are the group names in order
    (a field used twice gets a ``__2`` suffix the second time)."""

    message: Message
    text: str
    pattern: re.Pattern[str]
    key: re.Pattern[str] | None
    fields: tuple[str, ...]


def _literal(text: str) -> str:
    return re.escape(text).replace(" ", " +")


def _first_words(text: str) -> str:
    """``text`` up to the end of its :data:`_KEY_WORDS`-th word (and the blank after it)."""
    words = [w for w in re.finditer(r"\S+", text) if not w.group().endswith(":")]
    if len(words) <= _KEY_WORDS:
        return text
    cut = words[_KEY_WORDS - 1].end()
    return text[: cut + 1] if text[cut : cut + 1] == " " else text[:cut]


def compile_format(message: Message, fmt: str) -> Form:
    """The pattern of one table format: the ``OF:`` prefix is read apart (every message may carry
    it), a leading :data:`~memplan.kernel.messages.OPTIONAL_PREFIXES` entry may be missing, a
    literal blank matches one or more, a final period is optional, fields match their
    :data:`~memplan.kernel.messages.FIELD_PATTERNS`."""
    body = fmt
    for of in (OFRM, OFDT):
        body = body.removeprefix(of)
    lead = optional_words = ""
    for optional in OPTIONAL_PREFIXES:
        if body.startswith(optional):
            body = body[len(optional) :]
            lead, optional_words = f"(?:{_literal(optional)})?", optional
            break
    body = body.removesuffix(".")
    parts: list[str] = [lead]
    key_parts: list[str] = [lead]  # the same, fields as unnamed groups (keys are joined in one pattern)
    key: str | None = None
    fields: list[str] = []
    for literal, field, _spec, _conv in string.Formatter().parse(body):
        # the key: the leading words (two or more), else through the fields up to a literal of
        # two or more characters ("Memory: 123K/", "0x...\.\.", "name (0x...--")
        words = len((literal if fields else optional_words + literal).split())
        distinctive = len(literal.replace(" ", "")) >= 2 and (bool(fields) or words >= 2)
        if key is None and distinctive:
            key = "".join(key_parts) + _literal(_first_words(literal))
        parts.append(_literal(literal))
        key_parts.append(_literal(literal))
        if field is None:
            continue
        name = field if field not in fields else f"{field}__{fields.count(field) + 1}"
        while name in fields:
            name += "_"
        fields.append(name)
        parts.append(f"(?P<{name}>{FIELD_PATTERNS[field]})")
        key_parts.append(f"(?:{FIELD_PATTERNS[field]})")
    full = "".join(parts) + r"\.?\s*$"
    return Form(
        message,
        fmt,
        re.compile(full, re.ASCII),
        re.compile(key, re.ASCII) if key is not None else None,
        tuple(fields),
    )


#: Every readable format of the message table, compiled, in table order.
FORMS: tuple[Form, ...] = tuple(
    compile_format(m, fmt) for m in MESSAGES if m.read for fmt in m.formats
)
#: Formats without a key are always tried; a line that starts like no keyed format (most lines of
#: a boot log) is settled by one match against every key at once (a form's key is a prefix of
#: its pattern, so no keyed form can match such a line).
_UNKEYED = tuple(f for f in FORMS if f.key is None)
_ANY_KEY = re.compile("|".join(f"(?:{f.key.pattern})" for f in FORMS if f.key is not None), re.ASCII)


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


def _value(field: str, text: str) -> int | str:
    """A field's text read as its pattern in the table says (hex, decimal, signed or text)."""
    pattern = FIELD_PATTERNS[field.split("__")[0]]
    if pattern == HEX_PATTERN:
        return _hex(text)
    if pattern == DECIMAL_PATTERN:
        return _dec(text)
    return _sdec(text) if pattern == SIGNED_PATTERN else text


def _event(form: Form, m: re.Match[str], src: Source, prefix: str) -> LogEvent | None:
    """The event of a matched line: every field goes where the printer took it from (the fields
    of :func:`memplan.render.dmesg.fields`); a size printed in MiB/KiB keeps its unit as the
    granule unless the line also gives the exact range; other numbers, in order, go to
    ``numbers``."""
    v: dict[str, int | str] = {f: _value(f, m.group(f)) for f in form.fields if m.group(f) is not None}
    ints = {k: x for k, x in v.items() if isinstance(x, int)}
    strs = {k: x for k, x in v.items() if isinstance(x, str)}
    base = next((ints[k] for k in ("base", "e820_start", "start32", "start64") if k in ints), None)
    if "base_mib" in ints:
        base = ints["base_mib"] * MiB
    end = size = None
    granule = 1
    numbers: list[int] = []
    last = next((ints[k] for k in ("last", "e820_last") if k in ints), None)
    stop = next((ints[k] for k in ("end32", "end64") if k in ints), None)
    if last is not None and base is not None:
        if last < base:
            return None
        end, size = last + 1, last - base + 1
    elif stop is not None and base is not None:
        if stop < base:
            return None
        end, size = stop, stop - base
    elif "end" in ints:
        end = ints["end"]
    if "size_hex" in ints:
        size = ints["size_hex"]
    for field in form.fields:
        unit = MiB if field.startswith("size_mib") else KiB if field.startswith("size_kib") else 0
        if unit and field in ints:
            if size is None:
                size, granule = ints[field] * unit, unit
            else:
                numbers.append(ints[field])
        elif field.split("__")[0] in ("count", "total_mib", "avail_kib", "total_kib") and field in ints:
            numbers.append(ints[field])
    text = strs.get("text")
    name = strs.get("name")
    if "map" in strs:
        text = f"{strs['map']} {strs['reuse']}"
    if form.message.kind == "linux-version":
        text, name = strs["release"], _upstream(m.group(0))
        try:
            KernelVersion.parse(text)
        except Exception:
            return None
    elif form.message.kind == "memory-summary":
        parts = _memory_parts(strs.get("parts", ""))
        numbers.append(parts.get("reserved", -1))
        cma = parts.get("cma-reserved")
        size, granule, text = (None if cma is None else cma * KiB), KiB, strs.get("parts", "")
    elif form.message.kind == "kernel-cmdline":
        text = (text or "").strip()
    return LogEvent(
        form.message.kind,
        src,
        name=name,
        base=base,
        size=size,
        size_granule=granule,
        end=end,
        node=ints.get("node"),
        text=text,
        numbers=tuple(numbers),
        other_name=strs.get("other"),
        other_base=next((ints[k] for k in ("other_base", "limit", "align") if k in ints), None),
        other_end=ints.get("other_end"),
        prefix=prefix,
    )


def _upstream(message: str) -> str | None:
    """The upstream version a distribution banner prints beside the release, if any: the
    release of those kernels carries an ABI number instead of the stable patch level."""
    for rx in _UPSTREAM_RES:
        um = rx.search(message)
        if um is not None:
            return um.group(1)
    return None


def _memory_parts(text: str) -> dict[str, int]:
    parts: dict[str, int] = {}
    for item in text.split(","):
        pm = _MEMORY_PART_RE.match(item)
        if pm:
            parts[pm.group(2)] = _dec(pm.group(1))
    return parts


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
    known = _ANY_KEY.match(body) is not None
    for form in FORMS if known else _UNKEYED:
        m = form.pattern.match(body)
        if m is None:
            continue
        try:
            event = _event(form, m, source, prefix)
        except ObserveError:
            return None, True
        if event is not None:
            return (event, False) if _fits_64_bits(event) else (None, True)
        return None, True
    return None, known


def _known(body: str) -> Form | None:
    """The first format whose key the message starts with (a known message), else ``None``."""
    return next((f for f in FORMS if f.key is not None and f.key.match(body)), None)


def _rule_name(line: str) -> str:
    body = _OF_PREFIX_RE.sub("", message_of(line), count=1)
    form = _known(body)
    return form.message.kind if form is not None else "boot log"


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
