"""Numbers in a boot log go through one bounded reader: a huge or non-ASCII number makes the line
malformed (a positioned diagnostic), never a traceback; parsing stays linear in the log."""

from __future__ import annotations

from memplan.observe import build_observed, parse_dmesg


def test_a_number_longer_than_any_64_bit_value_is_a_malformed_line() -> None:
    log = parse_dmesg("cma: Reserved " + "9" * 5000 + " MiB at 0x0000000080000000\n", "dmesg")
    assert log.events == ()
    (d,) = log.diagnostics
    assert d.code == "observe-malformed-line"
    assert d.source is not None and d.source.line == 1


def test_a_huge_hex_address_is_a_malformed_line() -> None:
    log = parse_dmesg("x\ncma: Reserved 16 MiB at 0x" + "f" * 400 + "\n", "dmesg")
    assert log.events == ()
    assert [d.source.line for d in log.diagnostics if d.source is not None] == [2]


def test_non_ascii_digits_are_not_numbers() -> None:
    # U+0664 ARABIC-INDIC DIGIT FOUR: int() would read it, the kernel never prints it
    log = parse_dmesg("cma: Reserved \u0664 MiB at 0x0000000080000000\n", "dmesg")
    assert log.events == ()
    assert [d.code for d in log.diagnostics] == ["observe-malformed-line"]


def test_negative_node_and_errno_are_read() -> None:
    log = parse_dmesg(
        "cma: Reserved 16 MiB at 0x0000000080000000 on node -1\n"
        "hugetlb_cma: reservation failed: err -12, node 0\n",
        "dmesg",
    )
    assert [(e.kind, e.node) for e in log.events] == [("cma-reserved", -1), ("hugetlb-cma-failed", 0)]
    assert log.events[1].numbers == (-12,)


def test_many_cma_lines_are_each_attributed_once() -> None:
    """80,000 ``cma:`` lines (the issue-13 reproducer took 41 s): every line gets an area."""
    lines = [f"cma: Reserved 4 MiB at {0x80000000 + i * 0x400000:#018x}" for i in range(80_000)]
    observed = build_observed(log=parse_dmesg("\n".join(lines) + "\n", "dmesg"))
    assert observed.global_cma.base == 0x80000000
    assert len([r for r in observed.regions if r.kind == "numa-cma"]) == 79_999
