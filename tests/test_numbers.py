"""The bounded integer reader every parser uses (memplan.numbers)."""

from __future__ import annotations

import pytest

from memplan.errors import SHOWN_TEXT_LIMIT, ConfigError, ObserveError, shorten
from memplan.numbers import is_int, parse_int
from memplan.source import Source


@pytest.mark.parametrize(
    ("text", "base", "signed", "value"),
    [
        ("0", 10, False, 0),
        ("00042", 10, False, 42),
        ("ff", 16, False, 255),
        ("0xFF", 16, False, 255),
        ("0x10", 0, False, 16),
        ("010", 0, False, 10),
        ("17", 8, False, 15),
        ("-5", 10, True, -5),
        ("+5", 10, True, 5),
        ("0" * 10_000 + "7", 10, False, 7),
    ],
    ids=lambda v: str(v)[:20],
)
def test_accepts(text: str, base: int, signed: bool, value: int) -> None:
    assert parse_int(text, error=ObserveError, base=base, signed=signed) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "signed"),
    [("", False), ("-", True), ("--5", True), ("-5", False), ("1_000", False), (" 5", False), ("5 ", False),
     ("\u0665", False), ("0x", False), ("12a", False), ("+-1", True)],
)
def test_refuses_what_int_would_bend(text: str, signed: bool) -> None:
    where = Source.at("f", 3, 1, text)
    with pytest.raises(ObserveError) as info:
        parse_int(text, error=ObserveError, source=where, signed=signed)
    assert info.value.source is where
    assert not is_int(text, signed=signed) or text == "5 "


def test_huge_decimal_is_refused_before_conversion_with_position() -> None:
    text = "9" * 1_000_000  # Python's int() limit is 4,300 digits; this is 230x that
    where = Source.config_line(".config", 12, f"CONFIG_X={text}")
    with pytest.raises(ConfigError) as info:
        parse_int(text, error=ConfigError, source=where, what="CONFIG_X")
    message = str(info.value)
    assert ".config:12" in message and "1000000 digits" in message and "at most 40" in message
    assert len(message) < 400  # the offending text is cut, not copied into the message


def test_range_bounds_name_the_limits() -> None:
    with pytest.raises(ConfigError, match=r"out of range \(allowed: 12\.\.16\)"):
        parse_int("64", error=ConfigError, min_value=12, max_value=16)
    assert parse_int("16", error=ConfigError, min_value=12, max_value=16) == 16


def test_shorten_keeps_both_ends() -> None:
    long = "a" * 50 + "MIDDLE" + "z" * 5000
    cut = shorten(long)
    assert len(cut) == SHOWN_TEXT_LIMIT and cut.startswith("aaa") and cut.endswith("zzz") and "..." in cut
    assert shorten("short") == "short"
