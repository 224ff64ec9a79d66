"""cma=, cma_pernuma=, numa_cma=, hugetlb_cma= (kernel-semantics.md §1.2, §1.5, §1.7, §8.3)."""

from __future__ import annotations

import pytest

from memplan.cmdline import parse_cmdline
from memplan.errors import CmdlineError

M = 1 << 20
G = 1 << 30


def codes(cl: object) -> list[str]:
    return [d.code for d in cl.diagnostics]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("cmdline", "size", "base", "limit", "fixed"),
    [
        ("cma=64M", 64 * M, 0, 0, False),
        ("cma=64M@0x80000000", 64 * M, 0x80000000, 0x80000000 + 64 * M, True),
        ("cma=64M@2G-3G", 64 * M, 2 * G, 3 * G, False),
        ("cma=64M@2G-0x84000000", 64 * M, 2 * G, 2 * G + 64 * M, True),  # limit == base+size: fixed
        ("cma=0", 0, 0, 0, True),  # kernel's test is base + size == limit
        ("cma=", 0, 0, 0, True),
        ("cma=64MB", 64 * M, 0, 0, False),  # trailing 'B' ignored
        ("cma=010M", 8 * M, 0, 0, False),  # octal
        ("cma=64M cma=32M", 32 * M, 0, 0, False),
        ("cma=64M@0x10000000 cma=32M", 32 * M, 0x10000000, 0x10000000 + 64 * M, False),  # rule 4
        ("cma=64M@0x10000000-0x20000000 cma=128M@1G", 128 * M, G, G + 128 * M, True),
        ('cma="64M@1G"', 64 * M, G, G + 64 * M, True),
        ("CMA=64M cma=16M", 16 * M, 0, 0, False),  # names are case sensitive: CMA= is another parameter
    ],
)
def test_cma_forms(cmdline: str, size: int, base: int, limit: int, fixed: bool) -> None:
    cl = parse_cmdline(cmdline, arch="arm64")
    assert cl.cma is not None
    assert (cl.cma.size, cl.cma.base, cl.cma.limit, cl.cma.fixed) == (size, base, limit, fixed)


def test_no_cma_is_none() -> None:
    assert parse_cmdline("console=ttyS0 cmaa=1M", arch="arm64").cma is None


def test_cma_sources_track_every_occurrence() -> None:
    cl = parse_cmdline("cma=64M@0x10000000 quiet cma=32M", arch="arm64", origin="/chosen/bootargs")
    assert cl.cma is not None
    assert [s.span for s in cl.cma.sources] == [(0, 18), (25, 32)]
    assert cl.cma.source is not None and cl.cma.source.text == "cma=32M"
    assert "cmdline-cma-repeated" in codes(cl)
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-cma-repeated")
    assert diag.source is not None and diag.source.span == (25, 32)
    assert "0x10000000" in diag.message


def test_cma_without_value_is_a_warning_and_sets_nothing() -> None:
    cl = parse_cmdline("cma", arch="arm64")
    assert cl.cma is None
    (diag,) = cl.diagnostics
    assert diag.code == "cmdline-cma-no-value"
    assert diag.severity == "warning"
    assert "Config string not provided" in diag.message


def test_cma_without_value_before_5_4_is_an_error() -> None:
    cl = parse_cmdline("quiet cma", arch="arm64", kernel_version="4.19")
    (diag,) = cl.diagnostics
    assert (diag.code, diag.severity) == ("cmdline-cma-no-value", "error")
    assert "v5.4" in diag.message and diag.source is not None and diag.source.span == (6, 9)
    assert parse_cmdline("cma", arch="arm64", kernel_version="5.4").diagnostics[0].severity == "warning"


def test_cma_without_value_keeps_earlier_value() -> None:
    cl = parse_cmdline("cma=64M cma", arch="arm64")
    assert cl.cma is not None and cl.cma.size == 64 * M


@pytest.mark.parametrize(
    ("cmdline", "code", "severity"),
    [
        ("cma=", "cmdline-cma-no-size", "info"),
        ("cma=abc", "cmdline-cma-no-size", "warning"),
        ("cma=64MB", "cmdline-cma-trailing", "info"),
        ("cma=64M@1Gx", "cmdline-cma-trailing", "info"),
        ("cma=64M@1G-2Gq", "cmdline-cma-trailing", "info"),
    ],
)
def test_cma_diagnostics(cmdline: str, code: str, severity: str) -> None:
    cl = parse_cmdline(cmdline, arch="arm64")
    assert cl.cma is not None
    diag = next(d for d in cl.diagnostics if d.code == code)
    assert diag.severity == severity
    assert diag.source is not None and diag.source.text == cmdline
    assert repr(cmdline) in diag.message


def test_cma_trailing_position_is_reported() -> None:
    cl = parse_cmdline("quiet cma=64MB", arch="arm64")
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-cma-trailing")
    assert "'B'" in diag.message and "offset 13" in diag.message


def test_cma_zero_disables() -> None:
    cl = parse_cmdline("cma=0", arch="arm64")
    assert cl.cma is not None and cl.cma.disables


@pytest.mark.parametrize(
    "value", ["99999999999999999999", "16E", "1@0x10000000000000000", "1@1-99999999999999999999"]
)
def test_cma_overflow_is_a_cmdline_error_with_source(value: str) -> None:
    text = f"quiet cma={value}"
    with pytest.raises(CmdlineError) as info:
        parse_cmdline(text, arch="arm64", origin="CONFIG_CMDLINE")
    src = info.value.source
    assert src is not None and src.span == (6, 6 + 4 + len(value))
    assert src.file == "CONFIG_CMDLINE"
    assert f"cma={value}" in str(info.value)


def test_cma_base_plus_size_overflow() -> None:
    with pytest.raises(CmdlineError, match="base \\+ size"):
        parse_cmdline("cma=0x20@0xfffffffffffffff0")
    # with an explicit limit the kernel never adds base and size
    cl = parse_cmdline("cma=0x20@0xfffffffffffffff0-0xffffffffffffffff")
    assert cl.cma is not None and cl.cma.limit == (1 << 64) - 1


def test_cma_pernuma() -> None:
    cl = parse_cmdline("cma_pernuma=16M cma-pernuma=32MB", arch="arm64", kernel_version="6.1")
    assert cl.cma_pernuma is not None and cl.cma_pernuma.size == 32 * M
    assert cl.cma_pernuma.source.text == "cma-pernuma=32MB"
    assert "cmdline-cma-pernuma-trailing" in codes(cl)


def test_cma_pernuma_before_5_10_is_ignored() -> None:
    cl = parse_cmdline("cma_pernuma=16M", arch="arm64", kernel_version="5.4")
    assert cl.cma_pernuma is None
    assert [i.name for i in cl.ignored] == ["cma_pernuma"]
    assert "v5.10" in cl.ignored[0].reason


def test_numa_cma_lists() -> None:
    cl = parse_cmdline("numa_cma=0:64M,1:128M numa-cma=1:32M,3:16M", arch="arm64", kernel_version="6.6")
    assert cl.numa_cma is not None
    assert cl.numa_cma.as_dict() == {0: 64 * M, 1: 32 * M, 3: 16 * M}
    assert len(cl.numa_cma.sources) == 2
    assert not cl.diagnostics


@pytest.mark.parametrize(
    ("value", "expected", "code"),
    [
        ("0:64M,x:1M", {0: 64 * M}, "cmdline-numa-cma-invalid"),  # stops at the bad element
        ("0:64M;1:1M", {0: 64 * M}, "cmdline-numa-cma-invalid"),
        ("0:64M,2000:1M", {0: 64 * M}, "cmdline-numa-cma-invalid"),  # node beyond MAX_NUMNODES
        ("64M", None, "cmdline-numa-cma-invalid"),  # not node:size at all
    ],
)
def test_numa_cma_bad_elements(value: str, expected: dict[int, int] | None, code: str) -> None:
    cl = parse_cmdline(f"numa_cma={value}", arch="arm64")
    got = cl.numa_cma.as_dict() if cl.numa_cma is not None else None
    assert got == expected
    assert code in codes(cl)


def test_numa_cma_before_6_6_is_ignored() -> None:
    cl = parse_cmdline("numa_cma=0:64M", arch="arm64", kernel_version="6.1")
    assert cl.numa_cma is None
    assert cl.ignored and cl.ignored[0].source.text == "numa_cma=0:64M"


def test_hugetlb_cma_forms() -> None:
    plain = parse_cmdline("hugetlb_cma=2G", arch="x86").hugetlb_cma
    assert plain is not None and (plain.size, plain.per_node) == (2 * G, ())
    nodes = parse_cmdline("hugetlb_cma=0:1G,1:2G", arch="x86").hugetlb_cma
    assert nodes is not None and (nodes.size, nodes.per_node) == (3 * G, ((0, G), (1, 2 * G)))
    cl = parse_cmdline("hugetlb_cma=xyz", arch="x86")
    assert cl.hugetlb_cma is None and "cmdline-hugetlb-cma-invalid" in codes(cl)


@pytest.mark.parametrize(
    ("arch", "version", "used", "why"),
    [
        ("arm64", "5.10", True, None),
        ("x86", "6.1", False, "only arm64"),  # 5.10-6.5: only arm64 calls the per-node reservation
        ("riscv", "6.5", False, "only arm64"),
        ("x86", "6.6", True, None),  # 6.6+: dma_contiguous_reserve() does it on every architecture
        ("arm", "6.6", False, "no NUMA"),
        ("arm", None, False, "no NUMA"),
        ("x86", None, True, None),  # version unknown: recorded
    ],
)
def test_cma_pernuma_by_arch_and_version(arch: str, version: str | None, used: bool, why: str | None) -> None:
    cl = parse_cmdline("quiet cma_pernuma=64M", arch=arch, kernel_version=version)
    assert (cl.cma_pernuma is not None) is used
    if why is not None:
        (ign,) = cl.ignored
        assert why in ign.reason and ign.source.span == (6, 21)


def test_numa_cma_on_arm_is_ignored() -> None:
    cl = parse_cmdline("numa_cma=0:64M", arch="arm", kernel_version="6.6")
    assert cl.numa_cma is None and "no NUMA" in cl.ignored[0].reason
