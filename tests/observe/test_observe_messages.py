"""The message table (memplan.kernel.messages) and the boot-log parser agree: every format of
every event kind, on versions on both sides of each rule and on every architecture, is read back
by memplan.observe.dmesg as the kind the table names, with the same address and size; the parser
has no pattern of its own: every one is compiled from a table row."""

from __future__ import annotations

import pytest

from memplan.kernel.events import EVENT_KINDS, BootEvent
from memplan.kernel.messages import MESSAGES, message_for
from memplan.observe import dmesg
from memplan.observe.dmesg import FORMS, parse_line
from memplan.render.dmesg import event_lines
from memplan.source import Source
from memplan.version import KernelVersion

VERSIONS = [
    KernelVersion.parse(v)
    for v in (
        "4.19",
        "5.6",
        "5.7",
        "5.10",
        "6.1",
        "6.3",
        "6.6",
        "6.12",
        "6.13",
        "6.15",
        "6.18",
        "6.19",
        "7.0",
        "7.2",
    )
]
ARCHES = ("arm64", "arm", "riscv", "x86")
M = 1 << 20
TEXT = {"memmap-map": "reserved", "crashkernel-failed": "cannot allocate crashkernel (size:0x4000000)"}


def _event(kind: str, hugetlb: bool = False) -> BootEvent:
    return BootEvent(
        kind,  # type: ignore[arg-type]
        name="pool@90000000",
        base=0x90000000,
        size=64 * M,
        text=TEXT.get(kind, "shared-dma-pool"),
        other="other@90100000",
        other_base=0x90100000,
        other_size=M,
        count=2,
        node=1,
        hugetlb=hugetlb,
    )


@pytest.mark.parametrize(
    "text",
    ["crashkernel reservation failed - memory is in use.", "cannot allocate crashkernel (size:0x4000000)"],
)
def test_both_crashkernel_failures_are_read_back(text: str) -> None:
    (line,) = event_lines(BootEvent("crashkernel-failed", text=text), VERSIONS[0], True, "arm64")
    event, bad = parse_line(line, Source.builtin("test"))
    assert not bad and event is not None and event.kind == "crashkernel-failed"


PRINTED = sorted({m.kind for m in MESSAGES if m.printed and m.formats and m.kind in EVENT_KINDS})


def test_every_event_kind_has_a_message_and_is_read_under_its_own_name() -> None:
    assert set(EVENT_KINDS) <= {m.kind for m in MESSAGES}
    # the parser's kinds are the table's: a printed kind is read back under the same name
    assert set(PRINTED) <= set(dmesg.EVENT_KINDS) <= {m.kind for m in MESSAGES}


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@pytest.mark.parametrize("arch", ARCHES)
def test_every_printed_line_is_read_back_as_its_kind(version: KernelVersion, arch: str) -> None:
    wide = arch != "arm"
    for kind in PRINTED:
        for hugetlb in (False, True):
            ev = _event(kind, hugetlb)
            lines = event_lines(ev, version, wide, arch)
            message = message_for(ev.kind, version, arch, hugetlb=hugetlb)
            assert len(lines) >= len(message.formats)
            if not message.formats:
                assert lines == []  # this version prints nothing for it
                continue
            parsed = [parse_line(line, Source.builtin("test")) for line in lines]
            kinds = [e.kind for e, bad in parsed if e is not None and not bad]
            want = ev.kind
            assert want in kinds, (kind, str(version), arch, lines)
            for e, bad in parsed:
                assert not bad, (kind, lines)
                if e is None or e.kind != want:
                    continue
                if e.base is not None and kind not in ("cma-exceeds-limit",):
                    assert e.base == ev.base, (kind, lines)
                if e.size is not None and kind in (
                    "cma-reserved",
                    "cma-failed",
                    "rmem-summary",
                    "cma-created",
                ):
                    assert e.size == ev.size, (kind, lines)


def test_every_parser_pattern_comes_from_the_table() -> None:
    """The parser reads with the table's formats and nothing else: each compiled form is one
    format of one row, every readable format has its form, and the parser's source holds no
    message text and no pattern besides the line framing (timestamps, syslog headers, ``OF:``)."""
    import ast
    import re
    from pathlib import Path

    readable = [(id(m), fmt) for m in MESSAGES if m.read for fmt in m.formats]
    assert [(id(f.message), f.text) for f in FORMS] == readable
    source = Path(dmesg.__file__).read_text()
    tree = ast.parse(source)
    compiled = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("re.compile", "re.match", "re.search")
    ]
    literal = [ast.unparse(c.args[0]) for c in compiled if isinstance(c.args[0], ast.Constant)]
    framing = {ast.unparse(c.args[0]) for c in compiled if isinstance(c.args[0], ast.Constant)
               and ("kernel" in c.args[0].value or c.args[0].value.startswith(("^\\[", "^\\d", "^<", "^OF")))}
    assert literal and set(literal) == framing, set(literal) - framing
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    strings = {
        n.value for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    }
    chunks = {c.strip() for m in MESSAGES for fmt in m.formats for c in re.split(r"\{[^}]*\}", fmt)}
    found = {c for c in chunks if len(c) >= 12 for s in strings if c in s}
    assert found == set(), "message text in the parser"
