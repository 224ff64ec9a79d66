"""Which error comes first when dtc's parser stack overflows and the input has a second error,
judged at test time by dtc (installed, and the kernel tree's when present).

dtc's lexer reads each token before its parser acts on it, so a lexical error in the token the
parser overflows (or fails) on is reported first: a character literal of the wrong length, an
integer literal out of range where dtc reads numbers, a bad escape (fatal), an ``/include/``
that cannot be opened (fatal). Everything after the token dtc stops on is never read; everything
before it that is an error stops dtc first. memplan must name the same first error, of the same
kind, at the same line and column.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from memplan.dts import parse_text
from memplan.errors import DtsSyntaxError, IncludeError, MemplanError
from tests.dts import libfdt_tools
from tests.dts.test_dtc_stack import chain, memreserves, nested_expression

#: chain(LEVELS) is the smallest plain nesting dtc refuses (on the first '}' closing it).
LEVELS = 3331


def _deep(prop: str) -> str:
    """The refused nesting with ``prop`` in the deepest node: dtc overflows on its first token."""
    return chain(LEVELS, prop=prop, last=1)


def _before(text: str, insert: str) -> str:
    return text.replace("/dts-v1/;\n", "/dts-v1/;\n" + insert, 1)


def _at_overflow(insert: str) -> str:
    """The refused nesting with ``insert`` where dtc reads the token it overflows on."""
    return chain(LEVELS).replace("};\n", insert + "};\n", 1)


_OVERFLOW = chain(LEVELS)
_PARENS = nested_expression(9988, "(")

MIXES = {
    # an error after the overflow is never reached
    "overflow-then-syntax": _OVERFLOW + "/ { x = ; };\n",
    "overflow-then-char-literal": _OVERFLOW + "/ { x = <'ab'>; };\n",
    "overflow-then-big-integer": _OVERFLOW + "/ { x = <99999999999999999999>; };\n",
    "overflow-then-bad-escape": _OVERFLOW + '/ { x = "\\xZZ"; };\n',
    "overflow-then-missing-include": _OVERFLOW + '/include/ "missing.dtsi"\n',
    "overflow-then-missing-incbin": _OVERFLOW + '/ { b = /incbin/("missing.bin"); };\n',
    "overflow-then-unknown-label": _OVERFLOW + "&nolabel { x; };\n",
    "overflow-then-division-by-zero": _OVERFLOW + "/ { x = <(1/0)>; };\n",
    # an error before the overflow stops dtc first
    "syntax-then-overflow": _before(_OVERFLOW, "/ { x = ; };\n"),
    "char-literal-then-overflow": _before(_OVERFLOW, "/ { x = <'ab'>; };\n"),
    "big-integer-then-overflow": _before(_OVERFLOW, "/ { x = <99999999999999999999>; };\n"),
    "bad-escape-then-overflow": _before(_OVERFLOW, '/ { s = "\\xZZ"; };\n'),
    "missing-include-then-overflow": _before(_OVERFLOW, '/include/ "missing.dtsi"\n'),
    "missing-incbin-then-overflow": _before(_OVERFLOW, '/ { b = /incbin/("missing.bin"); };\n'),
    "unterminated-comment-then-overflow": _before(_OVERFLOW, "/* no end\n"),
    "unterminated-string-then-overflow": _before(_OVERFLOW, '/ { s = "no end;\n'),
    "memreserve-after-node-then-overflow": _before(_OVERFLOW, "/ { };\n/memreserve/ 0 1;\n"),
    # semantic errors found later (labels, duplicates) lose to the overflow
    "duplicate-label-then-overflow": _before(_OVERFLOW, "/ { a: x { }; a: y { }; };\n"),
    "unknown-path-then-overflow": _before(_OVERFLOW, "/ { p = <&{/nope}>; };\n"),
    # the second error in the token dtc overflows on: its lexer read that token first
    "overflow-on-bad-escape": _deep('p = "\\xZZ";\n'),
    "overflow-on-string": _deep('p = "ok";\n'),
    "overflow-on-cells-with-bad-escape": _deep("p = <'\\xZZ'>;\n"),
    "overflow-on-char-literal": _at_overflow("'ab'\n"),
    "overflow-on-digits-name": _at_overflow("99999999999999999999999 { };\n"),
    "overflow-on-labelled-digits-name": _at_overflow("l: 99999999999999999999999 { };\n"),
    "overflow-on-string-token": _at_overflow('"\\xZZ"\n'),
    "overflow-on-big-memreserve": memreserves(9994).replace(
        "/memreserve/ 9993 1;", "/memreserve/ 9993 1 99999999999999999999999;"),
    "parentheses-overflow-on-char-literal": _PARENS.replace("7)", "7'ab')", 1),
    "parentheses-overflow-on-big-integer": _PARENS.replace("7)", "7 99999999999999999999999)", 1),
    "parentheses-overflow-on-bad-escape": _PARENS.replace("7)", "7 '\\xZZ')", 1),
    # errors inside the deepest node, reached before the overflow or not
    "overflow-before-division-by-zero": _deep("p = <(1/0)>;\n"),
    "overflow-before-unknown-reference": _deep("p = <&nolabel>;\n"),
    "overflow-before-bad-bits": _deep("p = /bits/ 7 <1>;\n"),
    "missing-include-in-deepest-node": _deep('/include/ "missing.dtsi"\n'),
    "syntax-error-on-the-overflow-token": _deep("= ;\n"),
    # through an included file
    "include-overflows": '/dts-v1/;\n/include/ "deep.dtsi"\n',
    "include-overflows-then-syntax": '/dts-v1/;\n/include/ "deep.dtsi"\n/ { x = ; };\n',
    "include-syntax-then-overflow": '/dts-v1/;\n/include/ "deep-syntax.dtsi"\n',
    "include-on-the-overflow-token": _at_overflow('/include/ "ok.dtsi"\n'),
    "missing-include-on-the-overflow-token": _at_overflow('/include/ "missing.dtsi"\n'),
    # a lexical and a syntax error in one token, no overflow
    "char-literal-where-a-value-is-due": "/dts-v1/;\n/ { p = 'ab'; };\n",
    "big-integer-where-a-value-is-due": "/dts-v1/;\n/ { p = 99999999999999999999; };\n",
    "bad-octal-in-cells": "/dts-v1/;\n/ { p = <1 08 (>; };\n",
    "bad-escape-after-cells": '/dts-v1/;\n/ { p = <1> "\\xZZ"; };\n',
    "empty-char-after-cells": "/dts-v1/;\n/ { p = <1> ''; };\n",
    "digits-as-a-property-name": "/dts-v1/;\n/ { 99999999999999999999999 = <1>; x = ; };\n",
}

_POSITIONED = re.compile(
    r"^(?P<head>Error|Lexical error): (?P<file>[^:]+):(?P<line>\d+)\.(?P<col>\d+)-\S* (?P<msg>.*)$")

Verdict = tuple[str, str | None, int | None, int | None]


def dtc_first(tool: str, board: Path) -> Verdict:
    """(kind, file, line, column) of the first error dtc prints; ("ok", ...) when it builds."""
    res = subprocess.run([tool, "-q", "-I", "dts", "-O", "dtb", "-o", "/dev/null", board.name],
                         cwd=board.parent, capture_output=True, text=True, check=False)
    if res.returncode == 0:
        return "ok", None, None, None
    first = res.stderr.strip().splitlines()[0]
    if first.startswith("FATAL ERROR: Couldn't open"):
        return "include", None, None, None
    if first.startswith("FATAL ERROR: \\x used"):
        return "escape", None, None, None
    m = _POSITIONED.match(first)
    assert m is not None, first
    msg = m.group("msg")
    kind = ("lexical" if m.group("head") == "Lexical error" else "overflow" if msg == "memory exhausted"
            else "syntax" if msg == "syntax error" else "semantic")
    return kind, m.group("file"), int(m.group("line")), int(m.group("col"))


def memplan_first(board: Path) -> Verdict:
    try:
        parse_text(board.read_text(), str(board))
    except MemplanError as err:
        src = err.source
        assert src is not None and src.line is not None, err
        file = Path(src.file).name if src.file else None
        message = err.message
        if isinstance(err, IncludeError):
            kind = "include"
        elif "\\x used with no following hex digits" in message:
            kind = "escape"
        elif "parser stack overflows" in message:
            kind = "overflow"
        elif isinstance(err, DtsSyntaxError) and re.match(
                r"(character literal|empty character literal|integer literal|bad integer literal)", message):
            kind = "lexical"
        elif isinstance(err, DtsSyntaxError) and ("expected" in message or "unterminated" in message
                                                  or "must come before" in message):
            kind = "syntax"
        else:
            kind = "semantic"
        return kind, file, src.line, src.column
    return "ok", None, None, None


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ok.dtsi").write_text("x;\n")
    (tmp_path / "deep.dtsi").write_text(_OVERFLOW.replace("/dts-v1/;\n", ""))
    (tmp_path / "deep-syntax.dtsi").write_text(_OVERFLOW.replace("/dts-v1/;\n", "/ { x = ; };\n"))
    return tmp_path


@pytest.mark.parametrize("judge", libfdt_tools.JUDGES)
@pytest.mark.parametrize("mix", list(MIXES))
def test_first_error_is_the_one_dtc_names(judge: str, mix: str, folder: Path) -> None:
    tool = libfdt_tools.dtc(judge)
    board = folder / "board.dts"
    board.write_text(MIXES[mix])
    expected = dtc_first(tool, board)
    got = memplan_first(board)
    assert expected[0] != "ok"
    if expected[0] in ("include", "escape"):  # dtc's fatal errors carry no position
        assert got[0] == expected[0], (expected, got)
    elif expected[0] == "semantic":
        # the kind and line; dtc and memplan point into the expression or node differently
        assert got[:3] == expected[:3], (expected, got)
    else:
        assert got == expected, (expected, got)
