"""``crashkernel=`` (kernel-semantics.md §8.2; kernel/crash_core.c, later kernel/crash_reserve.c).

The kernel does not use the parameter tokenizer here: it searches the whole command line as
plain text for ``crashkernel=`` (also inside other words and after ``--``), and for each kind
(plain, ``,high``, ``,low``, v6.18+ ``,cma``) uses the **last** occurrence whose value (up to the
next space) ends with that kind's suffix; plain occurrences are those with no known suffix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from memplan.cmdline.common import Sink
from memplan.cmdline.tokenize import OriginLookup, Token
from memplan.diagnostics import diag
from memplan.kernel import rules
from memplan.source import SHOWN_TEXT_LIMIT, LineRef, Source, shorten
from memplan.units import align_up, format_size, memparse
from memplan.version import KernelVersion

if TYPE_CHECKING:
    from memplan.cmdline.grammar import RangeSyntax

CrashKind = Literal["plain", "high", "low", "cma"]

_NAME = "crashkernel="
_SUFFIXES: dict[CrashKind, str] = {"high": ",high", "low": ",low", "cma": ",cma"}


@attrs.frozen
class CrashRange:
    """One ``start-[end]:size`` element of the range form (``end`` ``None`` = unbounded)."""

    start: int
    end: int | None
    size: int


@attrs.frozen
class CrashkernelSpec:
    """The occurrence the kernel uses for one kind.

    Simple form: ``size`` (and ``offset`` for ``@offset``). Range form: ``ranges`` (read up to
    the first malformed element; ``ranges_error`` then says what the kernel trips over when it
    gets that far) and ``offset``. ``error`` is set when the kernel rejects the occurrence
    outright (no crash kernel of this kind). ``offset_error``: the range form's ``@`` has no
    number; the kernel only reads it (and then rejects the parameter) when an element matched.
    """

    kind: CrashKind
    source: Source
    size: int | None = None
    offset: int | None = None
    ranges: tuple[CrashRange, ...] = ()
    ranges_error: str | None = None
    error: str | None = None
    offset_error: str | None = None

    @property
    def valid(self) -> bool:
        """False when the kernel rejects this occurrence while parsing it."""
        return self.error is None

    @property
    def is_range_form(self) -> bool:
        """True for ``crashkernel=start-end:size,...``."""
        return bool(self.ranges) or self.ranges_error is not None

    def select(self, total_ram: int, kernel_version: KernelVersion | None = None) -> int | None:
        """The size the kernel picks for ``total_ram`` bytes of RAM; ``None`` = rejected, 0 = no match.

        Range form: from v6.1 the RAM size is first rounded up to 128 MiB; an element whose size
        is not below that RAM size is an error, as is reaching a malformed element.
        """
        if not self.valid:
            return None
        if not self.is_range_form:
            return self.size
        total = total_ram
        if kernel_version is None or rules.crashkernel_rounds_ram(kernel_version):
            total = align_up(total_ram, 128 << 20)
        for rng in self.ranges:
            if rng.size >= total:
                return None
            if rng.start <= total and (rng.end is None or total < rng.end):
                return None if self.offset_error is not None and rng.size else rng.size
        if self.ranges_error is not None:
            return None
        return 0


@attrs.frozen
class CrashkernelParam:
    """Every kind of ``crashkernel=`` present (``None`` = that kind absent); ``sources``: all occurrences."""

    plain: CrashkernelSpec | None = None
    high: CrashkernelSpec | None = None
    low: CrashkernelSpec | None = None
    cma: CrashkernelSpec | None = None
    sources: tuple[Source, ...] = ()

    def get(self, kind: CrashKind) -> CrashkernelSpec | None:
        """The spec of one kind."""
        spec: CrashkernelSpec | None = getattr(self, kind)
        return spec


def _kind_of(text: str, start: int, end: int, suffixes: dict[CrashKind, str]) -> CrashKind:
    """The kind of the value ``text[start:end]``, by its suffix."""
    for kind, suffix in suffixes.items():
        if end - start >= len(suffix) and text.endswith(suffix, start, end):
            return kind
    return "plain"


def _shown(text: str, start: int, end: int) -> str:
    """``text[start:end]`` quoted for a message, shortened when very long (without copying it all)."""
    if end - start <= SHOWN_TEXT_LIMIT:
        return repr(text[start:end])
    return repr(shorten(text[start : start + SHOWN_TEXT_LIMIT] + text[end - SHOWN_TEXT_LIMIT : end]))


def parse_crashkernel(
    text: str,
    sink: Sink,
    origin: str | OriginLookup | None = None,
    kernel_version: KernelVersion | None = None,
    terminator: int | None = None,
) -> CrashkernelParam | None:
    """Find and parse every ``crashkernel=`` in ``text`` as the kernel does (see module docstring).

    ``terminator`` is the index of a bare ``--`` (occurrences after it are still used by the
    kernel; memplan says so). Returns ``None`` when there is no occurrence at all.
    """
    lookup = origin if isinstance(origin, OriginLookup) else OriginLookup((), origin)
    suffixes = dict(_SUFFIXES)
    if kernel_version is not None and not rules.crashkernel_cma_suffix(kernel_version):
        del suffixes["cma"]
    nul = text.find("\0")
    text = text if nul < 0 else text[:nul]
    last: dict[CrashKind, tuple[int, int]] = {}
    sources: list[Source] = []
    end = -1
    p = text.find(_NAME)
    while p >= 0:
        if end < p:  # occurrences inside one word share its end: find it once (linear time)
            end = text.find(" ", p)
            end = len(text) if end < 0 else end
        # the text is referred to by offsets, never copied per occurrence
        src = Source("cmdline", file=lookup(p), span=(p, end), lines=LineRef(text, p, end))
        sources.append(src)
        if p > 0 and not text[p - 1].isspace():
            sink.diagnostics.append(
                diag(
                    "cmdline-crashkernel-substring",
                    f"{_shown(text, p, end)} starts inside another word at {p}; "
                    "the kernel's plain-text search still uses it",
                    src,
                    "crashkernel",
                )
            )
        if terminator is not None and p > terminator:
            sink.diagnostics.append(
                diag(
                    "cmdline-crashkernel-after-terminator",
                    f"{_shown(text, p, end)} follows '--' but the kernel's plain-text search still uses it",
                    src,
                    "crashkernel",
                )
            )
        last[_kind_of(text, p + len(_NAME), end, suffixes)] = (p, end)
        p = text.find(_NAME, p + 1)
    if not sources:
        return None
    specs: dict[str, CrashkernelSpec] = {}
    for kind, (p, end) in last.items():
        token = Token(_NAME[:-1], text[p + len(_NAME) : end], p, end, p + len(_NAME), text[p:end], lookup(p))
        spec = _parse_spec(kind, token, text, suffixes)
        if spec.error:
            sink.add(
                "warning",
                "cmdline-crashkernel-invalid",
                f"{token.shown}: {spec.error}; the kernel reserves no crash kernel memory from it",
                token,
            )
        elif spec.offset_error:
            sink.add(
                "warning",
                "cmdline-crashkernel-invalid",
                f"{token.shown}: {spec.offset_error}; the kernel rejects the parameter when a range "
                "matches",
                token,
            )
        elif spec.ranges_error:
            sink.add(
                "warning",
                "cmdline-crashkernel-invalid",
                f"{token.shown}: {spec.ranges_error}; the kernel rejects the parameter if no earlier "
                "range matched",
                token,
            )
        specs[kind] = spec
    return CrashkernelParam(
        plain=specs.get("plain"),
        high=specs.get("high"),
        low=specs.get("low"),
        cma=specs.get("cma"),
        sources=tuple(sources),
    )


def _parse_spec(kind: CrashKind, token: Token, text: str, suffixes: dict[CrashKind, str]) -> CrashkernelSpec:
    value = token.value or ""
    src = token.source

    def at(i: int) -> str:
        return f"at offset {token.at(i)}"

    # the value grammars are imported on the first value parsed (start-up)
    from memplan.cmdline.grammar import parse_crash_value

    syntax = parse_crash_value(value)
    if syntax.size.empty:
        return CrashkernelSpec(kind, src, error=f"a size is expected {at(0)}")
    size, i = syntax.size.value(src), syntax.size.end
    if kind != "plain":
        suffix = suffixes[kind]
        if value[i:] != suffix:
            return CrashkernelSpec(kind, src, error=f"unexpected {value[i:]!r} {at(i)}")
        return CrashkernelSpec(kind, src, size=size)
    if ":" in value:
        return _parse_ranges(token, src)
    if syntax.offset is not None:
        return CrashkernelSpec(kind, src, size=size, offset=syntax.offset.value(src))
    if i < len(value):
        return CrashkernelSpec(kind, src, error=f"unexpected {value[i]!r} {at(i)}")
    return CrashkernelSpec(kind, src, size=size)


def _range_error(element: RangeSyntax, ranges: list[CrashRange], src: Source, token: Token) -> str | None:
    """Check one ``start-[end]:size`` element part by part, as the kernel reads it: append it to
    ``ranges``, or say what is wrong at which command-line offset."""
    if element.start.empty:
        return f"a range start is expected at offset {token.at(element.start.start)}"
    start = element.start.value(src)
    if element.dash is None:
        return f"'-' is expected at offset {token.at(element.start.end)}"
    end: int | None = None
    if not element.end.empty:
        end = element.end.value(src)
        if end <= start:
            return (
                f"range end {format_size(end)} is not above its start {format_size(start)} "
                f"at offset {token.at(element.start.start)}"
            )
    if element.colon is None:
        what = "':'" if end is not None else "a range end"
        return f"{what} is expected at offset {token.at(element.end.end)}"
    if element.size.empty:
        return f"a size is expected at offset {token.at(element.colon)}"
    ranges.append(CrashRange(start, end, element.size.value(src)))
    return None


def _parse_ranges(token: Token, src: Source) -> CrashkernelSpec:
    value = token.value or ""
    ranges: list[CrashRange] = []
    error: str | None = None
    i = 0  # where the kernel stops: after the last element read, or at the malformed one
    from memplan.cmdline.grammar import parse_crash_ranges

    for element in parse_crash_ranges(value):
        error = _range_error(element, ranges, src, token)
        if error is not None:
            i = element.start.start
            break
        i = element.size.end
    if not ranges and error is not None:
        return CrashkernelSpec("plain", src, error=error)
    # After a matching element the kernel skips to the first '@' (or the end of the value),
    # even past a malformed element it never reads; no '@' can occur inside a parsed element.
    offset: int | None = None
    at = value.find("@", i)
    if at >= 0:
        offset, k = memparse(value, at + 1, source=src)
        if k == at + 1:
            offset = None
            offset_error = f"an offset is expected after '@' at offset {token.at(at)}"
            return CrashkernelSpec(
                "plain", src, ranges=tuple(ranges), ranges_error=error, offset_error=offset_error
            )
    return CrashkernelSpec("plain", src, ranges=tuple(ranges), ranges_error=error, offset=offset)
