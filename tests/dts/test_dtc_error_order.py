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
    # the end of input where more is due: dtc names the start of the last thing its lexer read
    "end-after-open-node": "/dts-v1/;\n/ {\n",
    "end-after-blank-lines": "/dts-v1/;\n/ {\n  \n\n",
    "end-after-comment": "/dts-v1/;\n/ {\n/* c */\n",
    "end-after-line-comment": "/dts-v1/;\n/ {\n// c",
    "end-in-cells": "/dts-v1/;\n/ { p = <1",
    "end-in-cells-after-comment": "/dts-v1/;\n/ { p = <1 /* x */  \n",
    "end-after-header": "/dts-v1/;\n",
    "end-after-name": "/dts-v1/;\n/ { p",
    "end-after-overflowing-nesting": "/dts-v1/;\n/ {\n" + "n {\n" * 3000,
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
    if "ERROR (" in first:  # one of dtc's checks after parsing (a duplicate property ...)
        checked = re.match(r"^(?P<file>[^:]+):(?P<line>\d+)\.(?P<col>\d+)-\S*: ERROR \(", first)
        if checked is None:
            return "semantic", None, None, None
        return "semantic", checked.group("file"), int(checked.group("line")), int(checked.group("col"))
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


_PIECES = ("/ {", "};", "n {", "p = <1 2>;", "q;", "l: m {", "/delete-node/ n;", 'r = "s";', "t = [00 11];",
           "u = <(1 + 2)>;", "/omit-if-no-ref/ k {", "w = /bits/ 8 <1>;", 'x = <1>, "a";', "/* c */",
           "// c\n")
_BAD = ("'ab'", "''", '"\\xZZ"', "99999999999999999999999", "08", "'\\xZZ'", "123abc", "1ULL", "'a'", "7")
_HOLES = ("{B}", "p = <1 {B}>;", "p = {B};", "p = <({B})>;", "/memreserve/ {B} 1;", "a = [00 {B}];",
          "{B} { };", 'p = "x", {B};')


def _random_inputs(count: int) -> list[str]:
    """Seeded random bodies: statements, unbalanced braces, and tokens with lexical errors in
    every place (a statement, a cell, a value, a byte string, a /memreserve/)."""
    import random

    rng = random.Random(13)
    out = []
    for _ in range(count):
        toks = ["/dts-v1/;", "/ {"] + [rng.choice(_PIECES) for _ in range(rng.randint(2, 12))]
        for _ in range(rng.randint(0, 2)):
            toks.insert(rng.randint(2, len(toks)), rng.choice(_HOLES).replace("{B}", rng.choice(_BAD)))
        out.append("\n".join([*toks, "};"]) + "\n")
    return out


@pytest.mark.parametrize("judge", libfdt_tools.JUDGES)
def test_random_inputs_fail_first_where_dtc_does(judge: str, tmp_path: Path) -> None:
    """The first error of 150 seeded random inputs: its kind, and for lexical and syntax errors
    and overflows its line and column, are dtc's."""
    tool = libfdt_tools.dtc(judge)
    board = tmp_path / "board.dts"
    differ = []
    for text in _random_inputs(150):
        board.write_text(text)
        expected, got = dtc_first(tool, board), memplan_first(board)
        # the kind only for dtc's fatal errors (no position) and semantic errors (where they point
        # is not this test's subject: dtc names the first of two duplicate properties, memplan
        # the second)
        kind_only = expected[0] in ("include", "escape", "semantic")
        same = got[0] == expected[0] if kind_only else got == expected
        if not same:
            differ.append((text, expected, got))
    assert differ == []
