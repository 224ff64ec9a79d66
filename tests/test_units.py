"""memplan.units: memparse per lib/cmdline.c (kernel-semantics.md §1.3), sizes, alignment."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from memplan.errors import CmdlineError, MemplanError
from memplan.source import Source
from memplan.units import U64_MAX, align_down, align_up, format_size, is_aligned, memparse, parse_size

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


@pytest.mark.parametrize(
    ("text", "pos", "expected"),
    [
        ("64M", 0, (64 * MIB, 3)),
        ("64m", 0, (64 * MIB, 3)),
        ("64MB", 0, (64 * MIB, 3)),  # 'B' is left to the caller
        ("0x10", 0, (16, 4)),
        ("0X1fK", 0, (31 * KIB, 5)),
        ("010", 0, (8, 3)),  # leading 0 = octal
        ("0777k", 0, (0o777 * KIB, 5)),
        ("08", 0, (0, 1)),  # octal stops at 8
        ("09M", 0, (0, 1)),  # ... and the suffix check sees '9'
        ("0x", 0, (0, 1)),  # 0x without a hex digit: octal 0, stops at x
        ("0xg", 0, (0, 1)),
        ("", 0, (0, 0)),
        ("abc", 0, (0, 0)),
        ("-5", 0, (0, 0)),  # no sign
        (" 5", 0, (0, 0)),  # no blank skipping
        ("K", 0, (0, 1)),  # kernel reads the suffix even without digits
        ("1k2", 0, (KIB, 2)),
        ("1KK", 0, (KIB, 2)),  # one suffix only
        ("1G", 0, (GIB, 2)),
        ("2t", 0, (2 * TIB, 2)),
        ("1P", 0, (1 << 50, 2)),
        ("1e", 0, (1 << 60, 2)),
        ("15E", 0, (15 << 60, 3)),
        ("1R", 0, (1, 1)),  # no R/Q suffix
        ("cma=64M@0x1000", 4, (64 * MIB, 7)),
        ("cma=64M@0x1000", 8, (0x1000, 14)),
        ("18446744073709551615", 0, (U64_MAX, 20)),
        ("0xffffffffffffffff", 0, (U64_MAX, 18)),
    ],
)
def test_memparse_table(text: str, pos: int, expected: tuple[int, int]) -> None:
    assert memparse(text, pos) == expected


@pytest.mark.parametrize("text", ["18446744073709551616", "0x10000000000000000", "16E", "0x1000000000000M"])
def test_memparse_overflow_is_an_error(text: str) -> None:
    src = Source.token("cma=" + text, 0, 4 + len(text), "/chosen/bootargs")
    with pytest.raises(CmdlineError) as info:
        memparse(text, source=src)
    assert info.value.source == src
    assert "64 bits" in str(info.value)
    assert "cma=" in str(info.value)


@pytest.mark.parametrize("text", ["1" * 5000, "0x" + "f" * 5000, "0" + "7" * 5000])
def test_memparse_very_long_numbers_overflow_cleanly(text: str) -> None:
    with pytest.raises(CmdlineError, match="64 bits") as info:
        memparse(text)
    assert len(str(info.value)) < 200


def test_memparse_long_octal_zeros_are_fine() -> None:
    assert memparse("0" * 5000 + "17K") == (15 * KIB, 5003)


def test_memparse_rejects_bad_position() -> None:
    with pytest.raises(ValueError, match="outside"):
        memparse("12", 3)


@pytest.mark.parametrize(
    ("text", "value"), [("64M", 64 * MIB), (" 1G ", GIB), ("0x1000", 4096), ("010", 8), ("4096", 4096)]
)
def test_parse_size_ok(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "M", "64MB", "64 M", "x", "1,2"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(CmdlineError, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (64 * MIB, "64 MiB"),
        (3 * GIB // 2, "1.5 GiB"),
        (512 * KIB, "512 KiB"),
        (4096, "4 KiB"),
        (0, "0 B"),
        (100, "100 B"),
        (GIB + GIB // 4, "1.25 GiB"),
        (GIB + 4 * KIB, "1048580 KiB"),  # exact rather than rounded
        (2 * TIB, "2 TiB"),
        (-4096, "-4 KiB"),
        (1 << 60, "1 EiB"),
    ],
)
def test_format_size(n: int, text: str) -> None:
    assert format_size(n) == text


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=U64_MAX))
def test_format_size_is_exact(n: int) -> None:
    text = format_size(n)
    number, unit = text.split(" ")
    scale = {"B": 1, "KiB": KIB, "MiB": MIB, "GiB": GIB, "TiB": TIB, "PiB": 1 << 50, "EiB": 1 << 60}[unit]
    whole, _, frac = number.partition(".")
    assert (int(whole) * 10 ** len(frac) + int(frac or "0")) * scale == n * 10 ** len(frac)


def test_align() -> None:
    assert align_up(5 * MIB, 4 * MIB) == 8 * MIB
    assert align_up(8 * MIB, 4 * MIB) == 8 * MIB
    assert align_down(5 * MIB, 4 * MIB) == 4 * MIB
    assert align_up(0, 4096) == 0
    assert align_up(10, 3) == 12
    assert is_aligned(8 * MIB, 2 * MIB)
    assert not is_aligned(8 * MIB + 1, 2 * MIB)
    with pytest.raises(ValueError):
        align_up(1, 0)
    with pytest.raises(ValueError):
        align_down(1, -4)


# --- property tests against an independent reference model -------------------------------------

_REF_NUMBER = re.compile(r"0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*)")


def reference_memparse(text: str, pos: int) -> tuple[int, int] | None:
    """A regex-based model of memparse; ``None`` means 'overflows 64 bits'."""
    m = _REF_NUMBER.match(text, pos)
    if m is None:
        value, end = 0, pos
    elif m.group(1) is not None:
        value, end = int(m.group(1), 16), m.end()
    elif m.group(2) is not None:
        value, end = int(m.group(2), 8), m.end()
    else:
        value, end = int(m.group(3)), m.end()
    if value >= 2**64:
        return None
    letters = "KMGTPE"
    if end < len(text) and text[end].upper() in letters:
        value *= 1024 ** (letters.index(text[end].upper()) + 1)
        end += 1
    return None if value >= 2**64 else (value, end)


_number_like = st.one_of(
    st.text(alphabet="0123456789abcdefxXkKmMgGtTpPeE@-#$!%,:rR ", max_size=30),
    # radix prefixes followed by digits of any base, a suffix and a tail
    st.builds(
        lambda a, b, c, d: a + b + c + d,
        st.sampled_from(["", "0", "00", "0x", "0X", "x", "1"]),
        st.text(alphabet="0123456789abcdefABCDEF", max_size=6),
        st.sampled_from(["", "k", "M", "g", "T", "p", "E", "B", "x"]),
        st.sampled_from(["", "@", "x1", "K", "-0x10"]),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_number_like, st.data())
def test_memparse_matches_reference(text: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(min_value=0, max_value=len(text)))
    expected = reference_memparse(text, pos)
    if expected is None:
        with pytest.raises(CmdlineError):
            memparse(text, pos)
    else:
        assert memparse(text, pos) == expected


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=2**70),
    st.sampled_from(["", "k", "M", "g", "T", "p", "E"]),
    st.sampled_from(["dec", "hex", "oct"]),
)
def test_memparse_roundtrip_generated_numbers(n: int, suffix: str, style: str) -> None:
    digits = {"dec": str(n), "hex": f"0x{n:x}", "oct": f"0{n:o}"}[style]
    assume(not (style == "hex" and suffix == "E"))  # 'E' would be read as a hex digit
    expected = n * 1024 ** ("KMGTPE".index(suffix.upper()) + 1 if suffix else 0)
    if expected >= 2**64:
        with pytest.raises(MemplanError):
            memparse(digits + suffix + "@")
    else:
        assert memparse(digits + suffix + "@") == (expected, len(digits) + len(suffix))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_parse_size_only_raises_memplan_errors(text: str) -> None:
    try:
        value = parse_size(text)
    except MemplanError:
        return
    assert 0 <= value <= U64_MAX


def test_approx_size_is_exact_when_short_and_rounded_otherwise() -> None:
    from memplan.units import approx_size, optional_size

    assert approx_size(64 * MIB) == "64 MiB"
    assert approx_size(0x88000) == "544 KiB"
    assert approx_size(5176831 * 1024) == "~4.94 GiB"  # exact would be "5176831 KiB"
    assert approx_size(225 * MIB + 1) == "~225 MiB"
    assert approx_size(100) == "100 B"
    assert optional_size(None) == "?" and optional_size(None, "-") == "-"
    assert optional_size(3 * MIB // 2) == "1.5 MiB"
    assert optional_size(225 * MIB + 1, approx=True) == "~225 MiB"


def test_sizes_and_alignment_are_defined_only_here() -> None:
    """The size formatting and alignment helpers are written once, in memplan.units."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "memplan"
    names = {"align_up", "align_down", "_align_up", "format_size", "approx_size", "_mib", "_fmt_size"}
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "units.py" and path.parent == package:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in names:
                found.append(f"{path.relative_to(package)}:{node.lineno} {node.name}")
            if isinstance(node, ast.Constant) and node.value in ("EiB", "PiB"):
                found.append(f"{path.relative_to(package)}:{node.lineno} a table of size units")
    assert found == []


def test_one_notation_for_address_ranges() -> None:
    from memplan.units import format_range

    assert format_range(0x40000000, 0x80000000) == "0x40000000-0xbfffffff"
    assert format_range(0x100, 0x100, 8) == "0x00000100-0x000001ff"
    assert format_range(0x48000000, 0) == "0x48000000 (empty)"


def test_no_other_range_notation_in_memplan_output() -> None:
    """memplan's own messages and views write ranges as first-last (inclusive); the other forms
    (``a..b`` exclusive, ``a--b``, an en dash) are gone. Emulated kernel output (iomem, dmesg) keeps
    the kernel's own formats."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "memplan"
    pattern = re.compile(r"(:#x|hex_addr\([^)]*\)|_hex\([^)]*\))\}?(\.\.|--|\\u2013|\u2013)\{")
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
