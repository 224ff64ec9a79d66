"""The grammars of command-line values, written with pyparsing.

pyparsing is imported the first time a value is parsed (:func:`_grammars`), so importing
memplan, or resolving a layout whose inputs have no command line, never loads it. Each short
value string is parsed once per process (a bounded cache), so a parameter repeated with the same
value costs one parse. The grammars only say how a value is *read*; what the kernel then does
with the parts (a missing number reads as 0, which trailing characters it ignores, which element
it stops at) is decided by the parameter modules, which own the diagnostics.

Positions are offsets in the value (``Token.at`` maps them to the command line)::

    size      ::= number? suffix?            memparse (memplan.units.MEMPARSE_PATTERN): may read
    number    ::= "0x" hexdigit+               nothing, then the value is 0; a suffix alone ("K")
              |   "0" octdigit*                is read as 0 K
              |   nonzerodigit digit*
    suffix    ::= K | M | G | T | P | E       (either case)
    int       ::= number                      simple_strtoull(.., 0): no suffix

    cma       ::= size ( "@" size ( "-" size )? )?                 cma=size[@base[-limit]]
    nodes     ::= node ( "," node )*         node ::= decimal ":" size
                                              (numa_cma=, hugetlb_cma= nid:size lists)
    counts    ::= count ( "," count )*       count ::= decimal ":" decimal   (hugepages=)
    crash     ::= size ( "@" size )?                               crashkernel=size[@offset]
    ranges    ::= range ( "," range )* ( ... "@" size )?           crashkernel=start-[end]:size,...
    range     ::= size "-"? size ":"? size    every part is read when present, and checked in
                                              order, so a malformed element is named exactly
    memmap    ::= "exactmap" | size ( sep size | "%" size ( "-" int )? ( "+" int )? )?
    sep       ::= "@" | "#" | "$" | "!"      (one element of memmap=, after GRUB unescaping)

Every grammar reads a prefix of the value; ``end`` says where it stopped, and what follows is
the caller's to judge (usually: trailing characters the kernel ignores).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from memplan.cmdline.common import read_decimal
from memplan.source import Source
from memplan.units import MEMPARSE_PATTERN, NUMBER_PATTERN, number_value, size_value

#: How many distinct value strings each grammar remembers, and the longest one it keeps (a
#: longer value is parsed every time rather than held in memory).
_CACHE = 4096
_CACHEABLE = 256

_T = TypeVar("_T")
_CACHES: list[Any] = []


def _cached(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """``parse`` with its results remembered for short values (see :data:`_CACHEABLE`)."""
    remembered = functools.lru_cache(maxsize=_CACHE)(parse)
    _CACHES.append(remembered)

    @functools.wraps(parse)
    def cached(value: str) -> _T:
        return remembered(value) if len(value) <= _CACHEABLE else parse(value)

    return cached


def clear_caches() -> None:
    """Forget every remembered parse (benchmarks time fresh parses)."""
    for cache in _CACHES:
        cache.cache_clear()


@attrs.frozen
class Num:
    """A number read at ``[start, end)`` of the value: ``text`` as written, ``kind`` ``size``
    (memparse, with a suffix), ``int`` (strtoull, base from the prefix) or ``decimal`` (digits
    only, as ``sscanf("%lu")``). ``end == start`` when nothing was read."""

    text: str
    start: int
    end: int
    kind: str = "size"

    @property
    def empty(self) -> bool:
        """Nothing was read (the kernel then takes 0)."""
        return self.end == self.start

    @property
    def has_digits(self) -> bool:
        """A number was written (not only a suffix letter, not nothing)."""
        return self.text[:1].isdigit()

    def value(self, source: Source | None = None) -> int:
        """The number's value; more than 64 bits raises :class:`~memplan.errors.CmdlineError`."""
        if self.kind == "decimal":
            return read_decimal(self.text, 0, source)[0] or 0
        if self.kind == "int":
            match = _NUMBER_RE.fullmatch(self.text)
            return 0 if match is None else number_value(match, source=source)
        match = _SIZE_RE.fullmatch(self.text)
        assert match is not None  # the grammar only makes Num of text that matched
        return size_value(match, source=source)


_SIZE_RE = re.compile(MEMPARSE_PATTERN)
_NUMBER_RE = re.compile(NUMBER_PATTERN)


@attrs.frozen
class CmaSyntax:
    """``cma=size[@base[-limit]]``: the parts that were written, and where reading stopped."""

    size: Num
    base: Num | None
    limit: Num | None
    end: int


@attrs.frozen
class Node:
    """``nid:size`` of a node list."""

    nid: Num
    size: Num


@attrs.frozen
class NodesSyntax:
    """A ``nid:size[,nid:size...]`` list read as far as it goes (``nodes`` empty when the value
    does not start with ``nid:``); ``end`` is where the last well-formed element ends."""

    nodes: tuple[Node, ...]
    end: int


@attrs.frozen
class CrashSyntax:
    """``crashkernel=size[@offset]`` (also the start of the suffixed forms ``size,high``)."""

    size: Num
    offset: Num | None
    end: int


@attrs.frozen
class RangeSyntax:
    """One ``start-[end]:size`` element; a part that was not written is ``None``."""

    start: Num
    dash: int | None
    end: Num
    colon: int | None
    size: Num


@attrs.frozen
class MemmapSyntax:
    """One ``memmap=`` element: ``exactmap``, or a size with an optional form (``sep`` one of
    ``@ # $ ! %``, then ``start``; the ``%`` form adds ``old``/``new`` E820 types)."""

    exactmap: bool
    size: Num | None
    sep: str | None
    start: Num | None
    old: Num | None
    new: Num | None
    end: int


@functools.cache
def _grammars() -> dict[str, Any]:
    """Build the grammars (imports pyparsing: the first command-line value pays for it, once)."""
    import pyparsing as pp

    def num(pattern: str, kind: str) -> Any:
        def action(s: str, loc: int, toks: Any) -> Num:
            return Num(toks[0], loc, loc + len(toks[0]), kind)

        return pp.Regex(pattern).set_parse_action(action)

    def at() -> Any:
        """The position reached (an empty element that yields its location)."""
        return pp.Empty().set_parse_action(lambda s, loc, toks: [loc])

    size = num(MEMPARSE_PATTERN, "size")
    integer = num(f"(?:{NUMBER_PATTERN})?", "int")
    decimal = num(r"[0-9]+", "decimal")
    lit = pp.Literal

    cma = (
        size("size")
        + pp.Opt(lit("@").suppress() + size("base") + pp.Opt(lit("-").suppress() + size("limit")))
        + at()("end")
    )
    node = pp.Group(decimal("nid") + lit(":").suppress() + size("size"))
    nodes = pp.Opt(pp.Group(node + pp.ZeroOrMore(lit(",").suppress() + node))("nodes")) + at()("end")
    count = pp.Group(decimal("nid") + lit(":").suppress() + decimal("size"))
    counts = pp.Opt(pp.Group(count + pp.ZeroOrMore(lit(",").suppress() + count))("nodes")) + at()("end")
    crash = size("size") + pp.Opt(lit("@").suppress() + size("offset")) + at()("end")
    range_ = pp.Group(
        size("start")
        + pp.Opt(lit("-").suppress() + at()("dash"))
        + size("end")
        + pp.Opt(lit(":").suppress() + at()("colon"))
        + size("size")
    )
    ranges = pp.Group(range_ + pp.ZeroOrMore(lit(",").suppress() + range_))("ranges")
    convert = (
        lit("%")("sep")
        + size("start")
        + pp.Opt(lit("-").suppress() + integer("old"))
        + pp.Opt(lit("+").suppress() + integer("new"))
    )
    form = pp.one_of("@ # $ !")("sep") + size("start")
    memmap = (lit("exactmap")("exactmap") | size("size") + pp.Opt(convert | form)) + at()("end")
    out = {"cma": cma, "nodes": nodes, "counts": counts, "crash": crash, "ranges": ranges, "memmap": memmap}
    for expr in out.values():
        expr.leave_whitespace(recursive=True)
        expr.parse_with_tabs()
    return out


def _parse(name: str, value: str) -> Any:
    return _grammars()[name].parse_string(value)


def _opt(result: Any, name: str) -> Any:
    return result.get(name)


@_cached
def parse_cma_value(value: str) -> CmaSyntax:
    """Read ``size[@base[-limit]]`` from the start of a ``cma=`` value."""
    r = _parse("cma", value)
    return CmaSyntax(r["size"], _opt(r, "base"), _opt(r, "limit"), r["end"])


@_cached
def parse_node_list(value: str) -> NodesSyntax:
    """Read ``nid:size[,nid:size...]`` from the start of a value, as far as it is well formed."""
    r = _parse("nodes", value)
    nodes = tuple(Node(n["nid"], n["size"]) for n in r["nodes"]) if "nodes" in r else ()
    return NodesSyntax(nodes, r["end"])


@_cached
def parse_count_list(value: str) -> NodesSyntax:
    """Read ``nid:count[,nid:count...]`` (``hugepages=``; counts are decimal) as far as it is well formed."""
    r = _parse("counts", value)
    nodes = tuple(Node(n["nid"], n["size"]) for n in r["nodes"]) if "nodes" in r else ()
    return NodesSyntax(nodes, r["end"])


@_cached
def parse_crash_value(value: str) -> CrashSyntax:
    """Read ``size[@offset]`` from the start of a ``crashkernel=`` value."""
    r = _parse("crash", value)
    return CrashSyntax(r["size"], _opt(r, "offset"), r["end"])


@_cached
def parse_crash_ranges(value: str) -> tuple[RangeSyntax, ...]:
    """Read the ``start-[end]:size`` elements of a ``crashkernel=`` range list (each part only
    when present; the caller checks them in order and stops at the first malformed one)."""
    r = _parse("ranges", value)
    return tuple(
        RangeSyntax(g["start"], _opt(g, "dash"), g["end"], _opt(g, "colon"), g["size"]) for g in r["ranges"]
    )


@_cached
def parse_memmap_element(element: str) -> MemmapSyntax:
    """Read one ``memmap=`` element (already split at commas and unescaped)."""
    r = _parse("memmap", element)
    if "exactmap" in r:
        return MemmapSyntax(True, None, None, None, None, None, r["end"])
    return MemmapSyntax(
        False, r["size"], _opt(r, "sep"), _opt(r, "start"), _opt(r, "old"), _opt(r, "new"), r["end"]
    )
