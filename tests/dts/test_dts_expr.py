"""Cell expressions: C precedence and 64-bit unsigned semantics, checked against dtc in one batch."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from memplan.dts import parse_text
from memplan.errors import DtsSyntaxError

BINARY = ["||", "&&", "|", "^", "&", "==", "!=", "<", ">", "<=", ">=", "<<", ">>", "+", "-", "*", "/", "%"]
ATOMS = ["0", "1", "2", "3", "7", "0x10", "0xffffffff", "0x8000000000000000", "63", "64", "010", "'A'", "5U"]


def _expr(rng: random.Random, depth: int) -> str:
    k = rng.random()
    if depth == 0 or k < 0.25:
        return rng.choice(ATOMS)
    if k < 0.4:
        return rng.choice("-~!") + _expr(rng, depth - 1)
    if k < 0.5:
        return f"({_expr(rng, depth - 1)} ? {_expr(rng, depth - 1)} : {_expr(rng, depth - 1)})"
    if k < 0.6:
        return f"({_expr(rng, depth - 1)})"
    return f"{_expr(rng, depth - 1)} {rng.choice(BINARY)} {_expr(rng, depth - 1)}"


def _value(expr: str) -> int | None:
    try:
        tree = parse_text(f"/dts-v1/;\n/ {{ v = /bits/ 64 <({expr})>; }};", "e.dts")
    except DtsSyntaxError as err:
        assert "division by zero" in err.message
        return None
    return tree.root.properties["v"].as_u64()


def test_random_expressions_match_dtc(dtc_dtb: Callable[..., bytes]) -> None:
    rng = random.Random(2024)
    exprs = []
    while len(exprs) < 400:
        e = _expr(rng, 4)
        if _value(e) is not None:
            exprs.append(e)
    body = " ".join(f"v{i} = /bits/ 64 <({e})>;" for i, e in enumerate(exprs))
    text = f"/dts-v1/;\n/ {{ {body} }};\n"
    assert parse_text(text, "batch.dts").to_dtb() == dtc_dtb(text)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("1 << 2 + 1", 8),  # + binds tighter than <<
        ("1 | 2 ^ 3 & 4", 1 | (2 ^ (3 & 4))),
        ("1 == 1 & 0", 0),  # & binds looser than ==
        ("2 < 3 == 1", 1),
        ("0 || 0 && 1", 0),
        ("1 ? 2 : 3 ? 4 : 5", 2),
        ("0 ? 2 : 0 ? 4 : 5", 5),
        ("-1", 2**64 - 1),
        ("~0 >> 32", 0xFFFFFFFF),
        ("!!7", 1),
        ("1 << 64", 0),
        ("1 << 63 >> 63", 1),
        ("10 - 3 - 2", 5),
        ("100 / 10 / 5", 2),
        ("17 % 5 * 2", 4),
        ("-1 > 0", 1),  # unsigned comparison
        ("'a' + 1", 0x62),
    ],
)
def test_expression_values(expr: str, value: int) -> None:
    assert _value(expr) == value


def test_division_and_modulo_by_zero_are_errors() -> None:
    assert _value("1 / 0") is None
    assert _value("1 % (2 - 2)") is None
