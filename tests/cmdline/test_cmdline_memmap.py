"""memmap= per architecture (kernel-semantics.md §7)."""

from __future__ import annotations

import pytest

from memplan.cmdline import Cmdline, parse_cmdline

K = 1 << 10
M = 1 << 20
G = 1 << 30


def codes(cl: Cmdline) -> list[str]:
    return [d.code for d in cl.diagnostics]


def shape(cl: Cmdline) -> list[tuple[object, ...]]:
    return [(e.kind, e.size, e.start, e.e820_type, e.old_type, e.new_type) for e in cl.memmap]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("64M@0x100000000", [("ram", 64 * M, 0x100000000, 1, None, None)]),
        ("64K#0x18690000", [("acpi", 64 * K, 0x18690000, 3, None, None)]),
        ("64K$0x18690000", [("reserved", 64 * K, 0x18690000, 2, None, None)]),
        ("4G!12G", [("pram", 4 * G, 12 * G, 12, None, None)]),
        ("1M%16M-1+2", [("convert", M, 16 * M, None, 1, 2)]),  # retype old -> new
        ("1M%16M+2", [("convert", M, 16 * M, None, None, 2)]),  # add as new
        ("1M%16M-1", [("convert", M, 16 * M, None, 1, None)]),  # remove ranges of type old
        ("1M%16M", [("convert", M, 16 * M, None, None, None)]),  # remove everything in range
        ("1M%16M-0x1+012", [("convert", M, 16 * M, None, 1, 10)]),  # types: base auto-detect
        (
            "exactmap,640K@0,1G@1M",
            [
                ("exactmap", 0, None, None, None, None),
                ("ram", 640 * K, 0, 1, None, None),
                ("ram", G, M, 1, None, None),
            ],
        ),
        ("exactmapXYZ,1G@0", [("exactmap", 0, None, None, None, None), ("ram", G, 0, 1, None, None)]),
        ("4G", [("cap", 4 * G, None, None, None, None)]),
    ],
)
def test_x86_forms(value: str, expected: list[tuple[object, ...]]) -> None:
    cl = parse_cmdline(f"memmap={value}", arch="x86_64")
    assert cl.arch == "x86"
    assert shape(cl) == expected


def test_several_occurrences_accumulate_in_order_with_spans() -> None:
    text = "memmap=1M$16M,2M$32M quiet memmap=3M$64M"
    cl = parse_cmdline(text, arch="x86", origin="bootloader")
    assert [(e.size, e.start) for e in cl.memmap] == [(M, 16 * M), (2 * M, 32 * M), (3 * M, 64 * M)]
    assert [e.span for e in cl.memmap] == [(7, 13), (14, 20), (34, 40)]
    assert [text[a:b] for a, b in (e.span for e in cl.memmap)] == ["1M$16M", "2M$32M", "3M$64M"]
    assert cl.memmap[2].source.text == "memmap=3M$64M"
    assert cl.memmap_user_defined
    assert not cl.diagnostics


@pytest.mark.parametrize(
    ("value", "code", "kept"),
    [
        ("", "cmdline-memmap-invalid", 0),  # no size
        ("$16M", "cmdline-memmap-invalid", 0),
        ("1M%16M-1+2x", "cmdline-memmap-invalid", 0),  # '%' with trailing junk is dropped
        ("1M%16M*3", "cmdline-memmap-invalid", 0),
        ("1M$16Mjunk", "cmdline-memmap-trailing", 1),  # applied anyway by the kernel
        ("1M$", "cmdline-memmap-no-address", 1),  # no address: the kernel uses 0
        ("1M,,2M$4M", "cmdline-memmap-invalid", 2),  # empty element between commas
    ],
)
def test_x86_bad_elements(value: str, code: str, kept: int) -> None:
    cl = parse_cmdline(f"quiet memmap={value}", arch="x86")
    assert len(cl.memmap) == kept
    diag = next(d for d in cl.diagnostics if d.code == code)
    assert diag.source is not None and diag.source.span == (6, 13 + len(value))
    assert f"memmap={value}" in diag.message


def test_empty_memmap_value_has_no_entry() -> None:
    cl = parse_cmdline("memmap", arch="x86")
    assert cl.memmap == ()
    assert codes(cl) == ["cmdline-memmap-invalid"]


def test_bare_number_warns_about_an_eaten_dollar() -> None:
    # GRUB ate "$0x18690000": what reaches the kernel is an address cap at 64 KiB
    cl = parse_cmdline("memmap=64K", arch="x86")
    assert shape(cl) == [("cap", 64 * K, None, None, None, None)]
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-memmap-eaten-dollar")
    assert diag.severity == "warning"
    assert "address cap" in diag.message and "64 KiB" in diag.message and "GRUB" in diag.message


def test_bare_number_with_junk_is_still_a_cap() -> None:
    cl = parse_cmdline("memmap=64Kx18690000", arch="x86")
    assert shape(cl) == [("cap", 64 * K, None, None, None, None)]
    assert {"cmdline-memmap-eaten-dollar", "cmdline-memmap-trailing"} <= set(codes(cl))


@pytest.mark.parametrize("escaped", ["64K\\$0x18690000", "64K\\\\\\$0x18690000"])
def test_grub_escapes_are_read_as_dollar(escaped: str) -> None:
    cl = parse_cmdline(f"memmap={escaped}", arch="x86")
    assert shape(cl) == [("reserved", 64 * K, 0x18690000, 2, None, None)]
    assert cl.memmap[0].text == escaped
    diag = next(d for d in cl.diagnostics if d.code == "cmdline-memmap-escape")
    assert diag.severity == "info" and "GRUB" in diag.message


def test_exactmap_order_and_missing_ram() -> None:
    cl = parse_cmdline("memmap=1M$16M,exactmap", arch="x86")
    assert "cmdline-memmap-exactmap-order" in codes(cl)
    err = next(d for d in cl.diagnostics if d.code == "cmdline-memmap-exactmap-no-ram")
    assert err.severity == "error"
    ok = parse_cmdline("memmap=exactmap memmap=1G@0", arch="x86")
    assert not [d for d in ok.diagnostics if d.code.startswith("cmdline-memmap-exactmap")]


@pytest.mark.parametrize("arch", ["arm64", "arm", "riscv", "powerpc", "loongarch", "arc"])
def test_ignored_on_non_memmap_arches(arch: str) -> None:
    cl = parse_cmdline("memmap=64K$0x18690000", arch=arch)
    assert cl.memmap == ()
    (ign,) = cl.ignored
    assert ign.name == "memmap" and arch in ign.reason
    assert ign.source.span == (0, 21)
    assert codes(cl) == ["cmdline-ignored"]


def test_unknown_arch_uses_x86_rules() -> None:
    cl = parse_cmdline("memmap=64K$0x18690000")
    assert shape(cl) == [("reserved", 64 * K, 0x18690000, 2, None, None)]
    assert not cl.ignored


def test_mips_dialect() -> None:
    ok = parse_cmdline("memmap=64M@0x10000000", arch="mips")
    assert shape(ok) == [("ram", 64 * M, 0x10000000, 1, None, None)]
    res = parse_cmdline("memmap=64M$0x10000000", arch="mips")
    assert shape(res) == [("reserved", 64 * M, 0x10000000, 2, None, None)]
    # MIPS does not split at commas: the first element is applied, the rest is trailing junk
    lst = parse_cmdline("memmap=1M$16M,2M$32M", arch="mips")
    assert shape(lst) == [("reserved", M, 16 * M, 2, None, None)]
    assert "cmdline-memmap-trailing" in codes(lst)
    for bad in ("exactmap", "1M#16M", "1M!16M", "1M%16M", "1M"):
        cl = parse_cmdline(f"memmap={bad}", arch="mips")
        assert cl.memmap == (), bad
        assert "cmdline-memmap-invalid" in codes(cl), bad


def test_xtensa_dialect() -> None:
    cl = parse_cmdline("memmap=64M@0,16M$0x2000000,0x8000000", arch="xtensa")
    assert shape(cl) == [
        ("ram", 64 * M, 0, 1, None, None),
        ("reserved", 16 * M, 0x2000000, 2, None, None),
        ("cap", 0x8000000, None, None, None, None),
    ]
    assert not cl.diagnostics  # Xtensa's bare form is a reservation, no GRUB warning
    for bad in ("exactmap", "1M#16M", "1Mx"):
        bad_cl = parse_cmdline(f"memmap={bad}", arch="xtensa")
        assert bad_cl.memmap == (), bad
