"""/proc/meminfo parsing."""

from __future__ import annotations

from memplan.observe import parse_meminfo

TEXT = """\
MemTotal:        2030552 kB
MemFree:         1900000 kB
HugePages_Total:       0
CmaTotal:         131072 kB
CmaFree:          130304 kB
"""


def test_values_in_bytes() -> None:
    mi = parse_meminfo(TEXT, "meminfo")
    assert mi.mem_total == 2030552 * 1024
    assert mi.cma_total == 128 << 20
    assert mi.cma_free == 130304 * 1024
    hp = mi.get("HugePages_Total")
    assert hp is not None and hp.unit == "" and hp.bytes == 0
    assert mi.diagnostics == ()


def test_kernel_without_cma() -> None:
    mi = parse_meminfo("MemTotal:        1000 kB\n")
    assert mi.cma_total is None and mi.cma_free is None


def test_malformed_line() -> None:
    mi = parse_meminfo("MemTotal:        1000 kB\nCmaTotal: lots\n", "m")
    assert mi.cma_total is None
    [d] = mi.diagnostics
    assert d.code == "observe-malformed-line" and d.source is not None and d.source.line == 2
