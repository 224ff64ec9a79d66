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

__all__ = ["BINARY", "MASK64", "ExprSource", "primary"]

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
    """What :func:`primary` needs from the parser: literals, operator peeking, dtc's stack."""

    def literal(self) -> int | None:
        """The number or character literal at the cursor (consumed, counted on dtc's stack), or
        ``None`` (nothing consumed) when there is none."""

    def peek_op(self) -> tuple[str, int] | None:
        """The operator at the cursor and its offset, or ``None``; does not consume it."""

    def take_op(self, op: str) -> None:
        """Consume the operator ``op`` that :meth:`peek_op` just returned."""

    def expect_op(self, op: str) -> None:
        """Consume ``op`` or raise a syntax error."""

    def unexpected(self, wanted: str) -> DtsSyntaxError:
        """A syntax error at the cursor: ``wanted`` was expected."""

    def error_at(self, message: str, pos: int) -> DtsSyntaxError:
        """A syntax error at offset ``pos``."""

    def grow(self, count: int, pos: int) -> None:
        """``count`` more symbols on dtc's parser stack, the last read at offset ``pos``."""

    def shrink(self, count: int) -> None:
        """``count`` symbols of dtc's parser stack reduced away."""


#: Markers on the operator stack of :func:`primary` besides the binary operators.
_OPEN, _QUESTION, _COLON = "(", "?", ":"
_MARKERS = frozenset((_OPEN, _QUESTION, _COLON))


def primary(src: ExprSource) -> int:
    """Parse and evaluate one ``integer_prim``: a number, a character literal or ``( expr )``.

    Operator precedence with explicit stacks, no recursion: any nesting dtc takes is read
    whatever Python's recursion limit. Every operand and every pending operator, parenthesis,
    ``?`` and ``:`` is one symbol on dtc's parser stack (``src.grow``/``src.shrink``), reduced
    at the moments dtc's bison grammar reduces them, so an expression that overflows dtc's
    stack is refused at the same token."""
    values: list[int] = []
    ops: list[tuple[str, int]] = []  # binary operators, unary ones ('u-' ...) and the markers

    def apply_binary() -> None:
        """Apply the binary operator on top of ``ops`` to the two topmost values."""
        op, pos = ops.pop()
        right = values.pop()
        try:
            values[-1] = BINARY[op][1](values[-1], right)
        except ZeroDivisionError:
            raise src.error_at("division by zero", pos) from None
        src.shrink(2)

    def reduce_binary() -> None:
        """Apply the binary operators above the innermost marker."""
        while ops and ops[-1][0] not in _MARKERS and not ops[-1][0].startswith("u"):
            apply_binary()

    while True:
        # an operand is due
        value = src.literal()
        if value is None:
            peeked = src.peek_op()
            if peeked is not None and peeked[0] == _OPEN:
                src.grow(1, peeked[1])
                src.take_op(_OPEN)
                ops.append(peeked)
                continue
            if peeked is not None and peeked[0] in _UNARY and ops:
                src.grow(1, peeked[1])
                src.take_op(peeked[0])
                ops.append(("u" + peeked[0], peeked[1]))
                continue
            if not ops:
                raise src.unexpected("a number, a character literal or '('")
            raise src.unexpected("a number, a character literal, '(' or a unary operator")
        values.append(value)
        while True:
            # an operand is complete: its unary operators apply at once
            while ops and ops[-1][0].startswith("u"):
                values[-1] = _UNARY[ops.pop()[0][1:]](values[-1])
                src.shrink(1)
            if not ops:
                return values.pop()
            peeked = src.peek_op()
            op = peeked[0] if peeked is not None else ""
            entry = BINARY.get(op)
            if entry is not None and peeked is not None:
                # left-associative: what binds at least as tightly is applied first
                while (ops and ops[-1][0] in BINARY and BINARY[ops[-1][0]][0] >= entry[0]):
                    apply_binary()
                src.grow(1, peeked[1])
                src.take_op(op)
                ops.append(peeked)
                break  # the right operand is due
            reduce_binary()
            if op == _QUESTION and peeked is not None:
                src.grow(1, peeked[1])
                src.take_op(op)
                ops.append(peeked)
                break
            while ops[-1][0] == _COLON:  # c ? a : b, complete (right-associative)
                ops.pop()
                ops.pop()
                when_false = values.pop()
                when_true = values.pop()
                values[-1] = when_true if values[-1] else when_false
                src.shrink(4)
            if ops[-1][0] == _QUESTION:
                if op == _COLON and peeked is not None:
                    src.grow(1, peeked[1])
                src.expect_op(_COLON)
                assert peeked is not None
                ops.append(peeked)
                break
            # ops[-1] is '(': the parenthesised expression ends here
            if op == ")" and peeked is not None:
                src.grow(1, peeked[1])
            src.expect_op(")")
            ops.pop()
            src.shrink(2)  # '(' expr ')' -> integer_prim
