"""/proc/iomem parsing: nesting, inclusive ends, hidden addresses, malformed lines."""

from __future__ import annotations

from memplan.observe import parse_iomem

ARM64 = """\
09000000-09000fff : pl011@9000000
  09000000-09000fff : 9000000.pl011 pl011@9000000
40000000-bfffffff : System RAM
  40210000-4185ffff : Kernel code
  41860000-41eaffff : reserved
  41eb0000-4220ffff : Kernel data
  b5800000-bf9fffff : reserved
4010000000-401fffffff : PCI ECAM
"""


def test_nesting_and_inclusive_ends() -> None:
    io = parse_iomem(ARM64, "iomem")
    assert [e.name for e in io.entries] == ["pl011@9000000", "System RAM", "PCI ECAM"]
    ram = io.entries[1]
    assert (ram.start, ram.end, ram.size) == (0x40000000, 0xBFFFFFFF, 0x80000000)
    assert [c.name for c in ram.children] == ["Kernel code", "reserved", "Kernel data", "reserved"]
    assert ram.children[3].size == 0xBFA00000 - 0xB5800000
    assert io.entries[2].start == 0x4010000000
    assert not io.hidden and io.diagnostics == ()
    assert [e.start for e in io.named("reserved")] == [0x41860000, 0xB5800000]
    assert ram.children[1].source.kind == "observed"
    assert ram.children[1].source.line == 5


def test_deeper_nesting_returns_to_parent_level() -> None:
    text = (
        "00000000-0000ffff : a\n  00000000-00000fff : b\n    00000000-000000ff : c\n  00001000-00001fff : d\n"
    )
    io = parse_iomem(text)
    a = io.entries[0]
    assert [c.name for c in a.children] == ["b", "d"]
    assert [c.name for c in a.children[0].children] == ["c"]
    assert [e.depth for e in io.walk()] == [0, 1, 2, 1]


def test_zero_addresses_are_flagged_hidden() -> None:
    text = "00000000-00000000 : System RAM\n  00000000-00000000 : Kernel code\n"
    io = parse_iomem(text, "iomem")
    assert io.hidden
    assert [d.code for d in io.diagnostics] == ["observe-iomem-hidden"]


def test_malformed_lines_are_reported_with_position() -> None:
    text = (
        "40000000-bfffffff : System RAM\n garbage here\n"
        "   41000000-41ffffff : odd indent\n4000-5000 : short\n"
    )
    io = parse_iomem(text, "iomem")
    assert [e.name for e in io.entries] == ["System RAM"]
    lines = [d.source.line for d in io.diagnostics if d.source is not None]
    assert lines == [2, 3, 4]
    assert all(d.code == "observe-malformed-line" for d in io.diagnostics)


def test_start_after_end_and_skipped_level() -> None:
    io = parse_iomem("50000000-40000000 : back\n    40000000-4fffffff : too deep\n")
    assert io.entries == ()
    assert len(io.diagnostics) == 2
