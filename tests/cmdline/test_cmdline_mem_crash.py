"""mem= per architecture and crashkernel= (kernel-semantics.md §8.1, §8.2)."""

from __future__ import annotations

import pytest

from memplan.cmdline import Cmdline, parse_cmdline
from memplan.errors import CmdlineError
from memplan.version import KernelVersion

M = 1 << 20
G = 1 << 30


def codes(cl: Cmdline) -> list[str]:
    return [d.code for d in cl.diagnostics]


@pytest.mark.parametrize(
    ("arch", "cmdline", "kinds", "limit"),
    [
        ("arm64", "mem=2G", [("size-cap", 2 * G, None)], 2 * G),
        ("arm64", "mem=2G mem=1G mem=3G", [("size-cap", v, None) for v in (2 * G, G, 3 * G)], 3 * G),  # last
        ("riscv", "mem=2G mem=1G mem=3G", [("size-cap", v, None) for v in (2 * G, G, 3 * G)], G),  # min_t
        ("arm64", "mem=0", [("size-cap", 0, None)], None),  # 0 means no limit
        (
            "arm",
            "mem=512M@0x80000000 mem=256M",
            [("bank", 512 * M, 0x80000000), ("bank", 256 * M, None)],
            None,
        ),
        ("mips", "mem=64M@0", [("bank", 64 * M, 0)], None),
        ("x86", "mem=4G", [("address-cap", 4 * G, None)], None),
        (None, "mem=1G@2G", [("unknown", G, 2 * G)], None),
    ],
)
def test_mem(arch: str | None, cmdline: str, kinds: list[tuple[object, ...]], limit: int | None) -> None:
    cl = parse_cmdline(cmdline, arch=arch)
    assert [(m.kind, m.value, m.start) for m in cl.mem] == kinds
    assert cl.mem_limit == limit


def test_mem_x86_specials() -> None:
    cl = parse_cmdline("mem=nopentium mem=junk", arch="x86")
    assert cl.mem == ()
    assert codes(cl) == ["cmdline-mem-nopentium", "cmdline-mem-trailing", "cmdline-mem-invalid"]
    assert parse_cmdline("mem=4G", arch="x86").memmap_user_defined


def test_mem_size_cap_ignores_start_and_reports_it() -> None:
    cl = parse_cmdline("mem=1G@2G", arch="arm64")
    assert [(m.value, m.start) for m in cl.mem] == [(G, None)]
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-mem-trailing")
    assert "'@2G'" in diag.message


def test_mem_without_value_and_unmodelled_arch() -> None:
    assert codes(parse_cmdline("mem", arch="arm64")) == ["cmdline-mem-invalid"]
    cl = parse_cmdline("mem=1G", arch="xtensa")
    assert cl.mem == () and [i.name for i in cl.ignored] == ["mem"]


def test_mem_overflow_raises() -> None:
    with pytest.raises(CmdlineError) as info:
        parse_cmdline("mem=17179869184G", arch="arm64")
    assert info.value.source is not None and info.value.source.text == "mem=17179869184G"


# --- crashkernel ---------------------------------------------------------------------------------


def test_crashkernel_simple_and_offset() -> None:
    ck = parse_cmdline("crashkernel=256M", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    assert (ck.plain.size, ck.plain.offset, ck.plain.select(4 * G)) == (256 * M, None, 256 * M)
    ck2 = parse_cmdline("crashkernel=256M@16M", arch="arm64").crashkernel
    assert ck2 is not None and ck2.plain is not None
    assert (ck2.plain.size, ck2.plain.offset) == (256 * M, 16 * M)


def test_crashkernel_last_of_each_kind_wins() -> None:
    text = "crashkernel=128M crashkernel=1G,high crashkernel=256M crashkernel=2G,high crashkernel=64M,low"
    ck = parse_cmdline(text, arch="x86").crashkernel
    assert ck is not None and ck.plain is not None and ck.high is not None and ck.low is not None
    assert (ck.plain.size, ck.high.size, ck.low.size) == (256 * M, 2 * G, 64 * M)
    assert ck.plain.source.span == (37, 53)
    assert len(ck.sources) == 5
    assert ck.cma is None and ck.get("high") is ck.high


def test_crashkernel_ranges_select() -> None:
    ck = parse_cmdline("crashkernel=512M-2G:64M,2G-64G:256M,64G-:512M@16M", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    spec = ck.plain
    assert spec.is_range_form and spec.offset == 16 * M
    assert [(r.start, r.end, r.size) for r in spec.ranges] == [
        (512 * M, 2 * G, 64 * M),
        (2 * G, 64 * G, 256 * M),
        (64 * G, None, 512 * M),
    ]
    # the kernel checks each element's size against RAM before trying it: 256M >= 256M is invalid
    assert spec.select(256 * M) is None
    assert spec.select(G) == 64 * M
    assert spec.select(128 * G) == 512 * M
    # v6.1+ rounds RAM up to 128 MiB first: 2G - 4K becomes 2G and picks the second range
    almost = 2 * G - 4096
    assert spec.select(almost, KernelVersion.parse("6.1")) == 256 * M
    assert spec.select(almost, KernelVersion.parse("5.15")) == 64 * M


def test_crashkernel_no_range_matches_gives_zero() -> None:
    ck = parse_cmdline("crashkernel=1G-2G:64M", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    assert ck.plain.select(512 * M) == 0  # "crashkernel size resulted in zero bytes"


def test_crashkernel_range_size_not_below_ram_is_rejected() -> None:
    ck = parse_cmdline("crashkernel=0-:1G", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    assert ck.plain.select(512 * M) is None
    assert ck.plain.select(4 * G) == G


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "size is expected"),
        ("abc", "size is expected"),
        ("256Mx", "unexpected 'x'"),
        ("2G-1G:64M", "not above its start"),
        ("1G-:", "size is expected"),
        ("1G:64M", "'-' is expected"),
        ("1G-2G64M:1", "':' is expected"),
    ],
)
def test_crashkernel_invalid(value: str, fragment: str) -> None:
    text = f"quiet crashkernel={value}"
    cl = parse_cmdline(text, arch="arm64")
    assert cl.crashkernel is not None and cl.crashkernel.plain is not None
    assert not cl.crashkernel.plain.valid
    assert cl.crashkernel.plain.select(8 * G) is None
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-crashkernel-invalid")
    assert fragment in diag.message
    assert diag.source is not None and diag.source.span == (6, len(text))


def test_crashkernel_later_bad_range_matters_only_if_reached() -> None:
    ck = parse_cmdline("crashkernel=0-2G:64M,4G-1G:128M", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    assert ck.plain.valid and ck.plain.ranges_error is not None
    assert ck.plain.select(G) == 64 * M
    assert ck.plain.select(8 * G) is None


def test_crashkernel_suffix_forms() -> None:
    ck = parse_cmdline("crashkernel=1G,high crashkernel=128M,low", arch="x86").crashkernel
    assert ck is not None and ck.plain is None
    assert ck.high is not None and ck.high.size == G
    bad = parse_cmdline("crashkernel=xyz,high", arch="x86")
    assert bad.crashkernel is not None and bad.crashkernel.high is not None
    assert not bad.crashkernel.high.valid


def test_crashkernel_cma_suffix_depends_on_version() -> None:
    new = parse_cmdline("crashkernel=256M,cma", arch="x86", kernel_version="6.18").crashkernel
    assert new is not None and new.cma is not None and new.cma.size == 256 * M
    old = parse_cmdline("crashkernel=256M,cma", arch="x86", kernel_version="6.12")
    assert old.crashkernel is not None and old.crashkernel.cma is None
    assert old.crashkernel.plain is not None and not old.crashkernel.plain.valid


def test_crashkernel_is_found_as_plain_text() -> None:
    cl = parse_cmdline("xcrashkernel=64M -- crashkernel=128M", arch="arm64")
    ck = cl.crashkernel
    assert ck is not None and ck.plain is not None and ck.plain.size == 128 * M
    assert {"cmdline-crashkernel-substring", "cmdline-crashkernel-after-terminator"} <= set(codes(cl))
    assert "cmdline-after-terminator" not in codes(cl)


def test_no_crashkernel() -> None:
    assert parse_cmdline("quiet", arch="arm64").crashkernel is None


def test_crashkernel_range_offset_is_read_after_a_match_even_past_bad_elements() -> None:
    ck = parse_cmdline("crashkernel=0-2G:64M,junk@16M", arch="arm64").crashkernel
    assert ck is not None and ck.plain is not None
    assert (ck.plain.select(G), ck.plain.offset) == (64 * M, 16 * M)
    assert ck.plain.select(4 * G) is None  # the kernel reaches 'junk' and rejects the parameter


def test_crashkernel_range_missing_offset_matters_only_when_a_range_matches() -> None:
    cl = parse_cmdline("quiet crashkernel=1G-2G:64M@", arch="arm64")
    ck = cl.crashkernel
    assert ck is not None and ck.plain is not None and ck.plain.valid
    assert ck.plain.select(G + G // 2) is None  # matched, then '@' without a number: rejected
    assert ck.plain.select(8 * G) == 0  # no match: the kernel never looks at '@'
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-crashkernel-invalid")
    assert "offset is expected" in diag.message
    assert diag.source is not None and diag.source.span == (6, 28)
