"""Provenance, the error hierarchy and kernel versions."""

from __future__ import annotations

import pytest

import memplan
from memplan.errors import CmdlineError, ConfigError, DtsSyntaxError, MemplanError
from memplan.source import Source
from memplan.version import KernelVersion


def test_source_renders_file_position() -> None:
    assert str(Source.at("board.dts", 12, 5)) == "board.dts:12:5"
    assert str(Source.at("board.dts", 12)) == "board.dts:12"


def test_source_renders_cmdline_token_and_config_line() -> None:
    assert str(Source.token("cma=64M", 10, 17)) == "cmdline token 'cma=64M' at 10..17"
    assert str(Source.config_line(".config", 7, "CONFIG_CMA=y")) == ".config:7"


def test_error_shows_caret_under_column() -> None:
    err = DtsSyntaxError("expected ';'", Source.at("b.dts", 3, 9, text="\tfoo = <1>\n"))
    text = str(err)
    lines = text.splitlines()
    assert lines[0] == "b.dts:3:9: expected ';'"
    assert lines[1] == "     foo = <1>"
    assert lines[2].index("^") == 4 + 8


@pytest.mark.parametrize("cls", [DtsSyntaxError, CmdlineError, ConfigError])
def test_all_errors_derive_from_memplan_error(cls: type[MemplanError]) -> None:
    assert issubclass(cls, memplan.MemplanError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("6.1", (6, 1, 0)), ("v5.10.89", (5, 10, 89)), ("6.1.0-13-arm64", (6, 1, 0)), ("7.0-rc2", (7, 0, 0))],
)
def test_kernel_version_parse(text: str, expected: tuple[int, int, int]) -> None:
    v = KernelVersion.parse(text)
    assert (v.major, v.minor, v.patch) == expected


def test_kernel_version_order_ignores_suffix() -> None:
    assert KernelVersion.parse("5.6") > KernelVersion.parse("5.5.19")
    assert KernelVersion.parse("6.1.0-13-arm64") == KernelVersion(6, 1, 0)
    assert KernelVersion.parse("6.12.13").at_least(6, 12, 13)
    assert not KernelVersion.parse("6.12.12").at_least(6, 12, 13)


def test_kernel_version_orderings_agree_with_major_minor_patch() -> None:
    """Every ordering of every pair, against the (major, minor, patch) tuples; the suffix takes no
    part; anything but a version cannot be compared."""
    import itertools
    import operator

    versions = [KernelVersion(a, b, c, extra) for a in (4, 6) for b in (0, 12) for c in (0, 13)
                for extra in ("", "-rc1")]
    for x, y in itertools.product(versions, repeat=2):
        for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq):
            assert op(x, y) is op((x.major, x.minor, x.patch), (y.major, y.minor, y.patch)), (op, x, y)
    assert sorted(reversed(versions)) == sorted(versions, key=lambda v: (v.major, v.minor, v.patch))
    for other in ((6, 12, 0), "6.12", 6, None):
        for op in (operator.lt, operator.le, operator.gt, operator.ge):
            with pytest.raises(TypeError):
                op(KernelVersion(6, 12, 0), other)
            with pytest.raises(TypeError):
                op(other, KernelVersion(6, 12, 0))
    assert KernelVersion(6, 12, 0) != (6, 12, 0)


def test_bad_kernel_version_is_memplan_error() -> None:
    with pytest.raises(MemplanError, match="not a kernel version"):
        KernelVersion.parse("linux")
