"""Integer expressions in cells: ``(1 << 20)``, ``(A | B)``, ``(x ? y : z)``.

dtc evaluates them in 64-bit unsigned arithmetic with C's precedence; so does this module.
The grammar (lowest precedence first)::

    expr    := or ( '?' expr ':' expr )?
    or      := and ( '||' and )*          and    := bitor ( '&&' bitor )*
    bitor   := xor ( '|' xor )*           xor    := bitand ( '^' bitand )*
    bitand  := eq ( '&' eq )*             eq     := rel ( ('==' | '!=') rel )*
    rel     := shift ( ('<' | '>' | '<=' | '>=') shift )*
    shift   := add ( ('<<' | '>>') add )* add    := mul ( ('+' | '-') mul )*
    mul     := unary ( ('*' | '/' | '%') unary )*
    unary   := ('-' | '~' | '!') unary | primary
    primary := number | char | '(' expr ')'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from memplan.errors import DtsSyntaxError

__all__ = ["BINARY", "MASK64", "ExprSource", "evaluate"]

MASK64 = (1 << 64) - 1


def _div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError
    return a // b


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError
    return a % b


#: Binary operators: text -> (precedence, function on unsigned 64-bit operands).
BINARY: dict[str, tuple[int, Callable[[int, int], int]]] = {
    "||": (1, lambda a, b: int(bool(a) or bool(b))),
    "&&": (2, lambda a, b: int(bool(a) and bool(b))),
    "|": (3, lambda a, b: a | b),
    "^": (4, lambda a, b: a ^ b),
    "&": (5, lambda a, b: a & b),
    "==": (6, lambda a, b: int(a == b)),
    "!=": (6, lambda a, b: int(a != b)),
    "<": (7, lambda a, b: int(a < b)),
    ">": (7, lambda a, b: int(a > b)),
    "<=": (7, lambda a, b: int(a <= b)),
    ">=": (7, lambda a, b: int(a >= b)),
    "<<": (8, lambda a, b: (a << b) & MASK64 if b < 64 else 0),
    ">>": (8, lambda a, b: a >> b if b < 64 else 0),
    "+": (9, lambda a, b: (a + b) & MASK64),
    "-": (9, lambda a, b: (a - b) & MASK64),
    "*": (10, lambda a, b: (a * b) & MASK64),
    "/": (10, _div),
    "%": (10, _mod),
}

_UNARY: dict[str, Callable[[int], int]] = {
    "-": lambda a: -a & MASK64,
    "~": lambda a: ~a & MASK64,
    "!": lambda a: int(a == 0),
}


class ExprSource(Protocol):
    """What :func:`evaluate` needs from the parser: operator peeking and primaries."""

    def peek_op(self) -> tuple[str, int] | None:
        """The operator at the cursor and its offset, or ``None``; does not consume it."""

    def take_op(self, op: str) -> None:
        """Consume the operator ``op`` that :meth:`peek_op` just returned."""

    def expect_op(self, op: str) -> None:
        """Consume ``op`` or raise a syntax error."""

    def primary(self) -> int:
        """Parse a number, a character literal or a parenthesised expression."""

    def error_at(self, message: str, pos: int) -> DtsSyntaxError:
        """A syntax error at offset ``pos``."""

    def grow(self, count: int, pos: int) -> None:
        """``count`` more symbols on dtc's parser stack, the last read at offset ``pos``."""

    def shrink(self, count: int) -> None:
        """``count`` symbols of dtc's parser stack reduced away."""


def evaluate(src: ExprSource) -> int:
    """Parse and evaluate one expression (the inside of ``( ... )``).

    Every operand leaves one symbol on dtc's parser stack (``src.grow``/``src.shrink``); a
    pending binary operator keeps its left operand and itself there, a unary operator itself,
    a pending ``c ?`` two and ``c ? a :`` four, as dtc's bison grammar holds them."""
    cond = _binary(src, 1)
    peeked = src.peek_op()
    if peeked is None or peeked[0] != "?":
        return cond
    src.grow(1, peeked[1])
    src.take_op("?")
    when_true = evaluate(src)
    peeked = src.peek_op()
    if peeked is not None and peeked[0] == ":":
        src.grow(1, peeked[1])
    src.expect_op(":")
    when_false = evaluate(src)
    src.shrink(4)
    return when_true if cond else when_false


def _unary(src: ExprSource) -> int:
    ops: list[str] = []
    peeked = src.peek_op()
    while peeked is not None and peeked[0] in _UNARY:
        src.grow(1, peeked[1])
        src.take_op(peeked[0])
        ops.append(peeked[0])
        peeked = src.peek_op()
    value = src.primary()
    src.shrink(len(ops))
    for op in reversed(ops):
        value = _UNARY[op](value)
    return value


def _binary(src: ExprSource, min_prec: int) -> int:
    left = _unary(src)
    while True:
        peeked = src.peek_op()
        if peeked is None:
            return left
        op, pos = peeked
        entry = BINARY.get(op)
        if entry is None or entry[0] < min_prec:
            return left
        prec, func = entry
        src.grow(1, pos)
        src.take_op(op)
        right = _binary(src, prec + 1)
        src.shrink(2)
        try:
            left = func(left, right)
        except ZeroDivisionError:
            raise src.error_at("division by zero", pos) from None
