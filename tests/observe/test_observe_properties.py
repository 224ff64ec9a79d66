"""Property tests: /proc/iomem trees and log-line decorations."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from memplan.observe import parse_dmesg, parse_iomem
from memplan.observe.model import IomemEntry

Node = tuple[int, int, str, list[Any]]

names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)


@st.composite
def trees(draw: st.DrawFn, lo: int = 0, hi: int = 1 << 40, depth: int = 0) -> list[Node]:
    out: list[Node] = []
    pos = lo
    for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))):
        if pos >= hi:
            break
        start = draw(st.integers(pos, min(hi - 1, pos + (1 << 32))))
        end = draw(st.integers(start, min(hi - 1, start + (1 << 32))))
        kids = draw(trees(start, end + 1, depth + 1)) if end > start else []
        out.append((start, end, draw(names), kids))
        pos = end + 1
    return out


def render(nodes: list[Node], depth: int = 0) -> str:
    text = ""
    for start, end, name, kids in nodes:
        text += f"{'  ' * depth}{start:08x}-{end:08x} : {name}\n" + render(kids, depth + 1)
    return text


def flatten(entries: tuple[IomemEntry, ...]) -> list[Node]:
    return [(e.start, e.end, e.name, flatten(e.children)) for e in entries]


@settings(max_examples=60, deadline=None)
@given(trees())
def test_iomem_round_trip(nodes: list[Node]) -> None:
    io = parse_iomem(render(nodes))
    assert io.diagnostics == () or io.hidden
    assert flatten(io.entries) == nodes


LINE = "cma: Reserved 64 MiB at 0x00000000b9a00000"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["", "<6>", "<4>", "6,1234,567,-;"]),
    st.one_of(st.just(""), st.floats(0, 99999, allow_nan=False).map(lambda t: f"[{t:12.6f}] ")),
)
def test_decorations_do_not_change_the_event(syslog: str, stamp: str) -> None:
    prefix = syslog + stamp if not syslog.endswith(";") else syslog
    [e] = parse_dmesg(prefix + LINE + "\n").events
    assert (e.kind, e.base, e.size) == ("cma-reserved", 0xB9A00000, 64 << 20)


KNOWN_PREFIXES = [
    "cma: Reserved ",
    "OF: reserved mem: ",
    "Reserved memory: created ",
    "BIOS-e820: [mem ",
    "user: [mem ",
    "Memory: 1K/",
    "crashkernel reserved: ",
    "software IO TLB: mapped ",
    "hugetlb_cma: reserve",
    "Linux version ",
    "",
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KNOWN_PREFIXES), st.text(max_size=80))
def test_any_line_parses_or_is_reported_never_raises(prefix: str, rest: str) -> None:
    line = (prefix + rest).replace("\r", " ")
    log = parse_dmesg(line + "\n", "fuzz")
    for d in log.diagnostics:
        assert d.code == "observe-malformed-line"
        assert d.source is not None and d.source.line is not None
    assert len(log.events) + len(log.diagnostics) <= max(1, len(line.splitlines()))
