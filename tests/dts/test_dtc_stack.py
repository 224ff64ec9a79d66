"""dtc's one bound on a DTS: its parser stack (bison's YYMAXDEPTH, 10,000 entries), judged by dtc.

Nesting, earlier siblings (``subnodes`` is right-recursive), node labels, ``/omit-if-no-ref/``,
``/memreserve/`` entries and the symbols of a property or expression being read all take room
on that stack; dtc stops with "memory exhausted" at the token where it overflows. For each
shape below, dtc (installed, and the kernel tree's when present) is asked at test time whether it
builds the largest size it should accept and refuses the next one; memplan must accept the one
and refuse the other with a syntax error at the line and column dtc names. Sizes stay near
dtc's bound (a few thousand levels), so the whole file runs in seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from memplan.dts import parse_text, read_dtb
from memplan.errors import DtsSyntaxError
from tests.dts import libfdt_tools

JUDGES = libfdt_tools.JUDGES
_EXHAUSTED = re.compile(r"<stdin>:(\d+)\.(\d+)-(?:\d+\.)?\d+ memory exhausted")


def chain(levels: int, *, label: bool = False, omit: bool = False, prop: str = "", sibling: bool = False,
          last: int = 0) -> str:
    """``levels`` nested nodes below the root, each with the extras asked for (``#`` in ``prop``
    becomes the level, for labels unique in the tree; ``last``: ``prop`` only in the ``last``
    deepest nodes)."""
    out = ["/dts-v1/;\n/ {\n"]
    for i in range(levels):
        if not last or i >= levels - last:
            out.append(prop.replace("#", str(i)))
        if sibling:
            out.append("s { };\n")
        head = (f"l{i}: " if label else "") + ("/omit-if-no-ref/ " if omit and i % 2 else "")
        out.append(f"{head}n{i} {{\n")
    out.append("};\n" * (levels + 1))
    return "".join(out)


def siblings(count: int, *, nested: bool = False) -> str:
    body = "".join(f"a{i} {{ }};\n" for i in range(count))
    return "/dts-v1/;\n/ {\n" + ("x {\n" + body + "};\n" if nested else body) + "};\n"


def memreserves(count: int) -> str:
    return "/dts-v1/;\n" + "".join(f"r{i}: /memreserve/ {i} 1;\n" for i in range(count)) + "/ { };\n"


def nested_expression(levels: int, step: str) -> str:
    """A cell ``levels`` expressions deep: ``step`` (an opening text) repeated, ``7``, then the
    closing parentheses."""
    return "/dts-v1/;\n/ { v = <" + step * levels + "7" + ")" * levels + ">; };\n"


EXPR = "e = <(1 + (2 * (3 - 1))) (5 ? 6 : (7 << -(1 + 2)))>, [00 11 b#: 22], /bits/ 16 <1 v#: 2>, \"s\";\n"

#: (shape, the largest size dtc accepts: 1.6.1 and 1.7.0 agree)
SHAPES: dict[str, tuple[Callable[[int], str], int, int]] = {
    "chain": (chain, 3330),
    "chain-labels": (lambda n: chain(n, label=True), 2497),
    "chain-omit-labels": (lambda n: chain(n, label=True, omit=True), 2220),
    "chain-properties": (lambda n: chain(n, prop="p = <1 2>, \"x\";\n"), 3330),
    "chain-expressions": (lambda n: chain(n, prop=EXPR, last=5), 3326),
    "chain-siblings": (lambda n: chain(n, sibling=True), 2497),
    "root-siblings": (siblings, 9988),
    "nested-siblings": (lambda n: siblings(n, nested=True), 9985),
    "memreserves": (memreserves, 9993),
    "parentheses": (lambda n: nested_expression(n, "("), 9987),
    "sums": (lambda n: nested_expression(n, "(1 + "), 3329),
    "products-in-sums": (lambda n: nested_expression(n, "(1 + 2 * "), 1997),
    "conditionals": (lambda n: nested_expression(n, "(0 ? 2 : "), 1997),
    "negations": (lambda n: nested_expression(n, "(-"), 4994),
}


def dtc_verdict(tool: str, text: str) -> tuple[int, int] | None:
    """``None`` when dtc builds ``text``; else the line and column of its "memory exhausted"."""
    res = subprocess.run([tool, "-q", "-I", "dts", "-O", "dtb", "-o", "/dev/null"], input=text,
                         capture_output=True, text=True, check=False)
    if res.returncode == 0:
        return None
    found = _EXHAUSTED.search(res.stderr)
    assert found is not None, res.stderr[:500]
    return int(found.group(1)), int(found.group(2))


def memplan_verdict(text: str) -> tuple[int, int] | None:
    try:
        parse_text(text, "<stdin>")
    except DtsSyntaxError as err:
        assert "dtc refuses this: its parser stack overflows" in err.message, err.message
        assert err.source is not None and err.source.line is not None and err.source.column is not None
        return err.source.line, err.source.column
    return None


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_refused_exactly_where_dtc_overflows(judge: str, shape: str) -> None:
    tool = libfdt_tools.dtc(judge)
    make, size = SHAPES[shape]
    assert dtc_verdict(tool, make(size)) is None
    assert memplan_verdict(make(size)) is None
    refused = dtc_verdict(tool, make(size + 1))
    assert refused is not None and memplan_verdict(make(size + 1)) == refused


#: Inputs where dtc's stack overflows on different tokens of the deepest node: a literal, the
#: '=' (bison reduces the empty value prefix before reading on, so dtc names the '='), a value
#: label, a ';', a /delete-node/ name, a misplaced property.
REFUSED = {
    "literal": chain(3330, prop="l#: m#: p = <1>;\n", last=1),
    "equals": chain(3331, prop="l#: m#: p = <1>;\n", last=1),
    "value-label": chain(3331, prop="p = l#: <1>, \"x\";\n", last=1),
    "bytes": chain(3331, prop="p = [00 b#: 11];\n", last=1),
    "delete-node": chain(3330, prop="l#: /delete-node/ x;\n", last=1),
    # a property after a subnode: dtc reads it before refusing it, so the overflow comes first
    "misplaced-property": chain(3331, prop="/delete-node/ zz; p = <1>;\n", last=1),
}


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("case", list(REFUSED))
def test_refusal_names_the_token_dtc_names(judge: str, case: str) -> None:
    tool = libfdt_tools.dtc(judge)
    refused = dtc_verdict(tool, REFUSED[case])
    assert refused is not None and memplan_verdict(REFUSED[case]) == refused


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("shape", ["parentheses", "sums", "products-in-sums", "conditionals", "negations"])
def test_deepest_expressions_evaluate_as_dtc_evaluates_them(judge: str, shape: str) -> None:
    tool = libfdt_tools.dtc(judge)
    make, size = SHAPES[shape]
    res = subprocess.run([tool, "-q", "-I", "dts", "-O", "dtb"], input=make(size).encode(),
                         capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    assert parse_text(make(size), "expr.dts").to_dtb() == res.stdout


@pytest.mark.parametrize("judge", JUDGES)
def test_deepest_tree_is_written_as_dtc_writes_it(judge: str, tmp_path: object) -> None:
    """The deepest chain dtc builds (3,330 levels), as a blob byte for byte as dtc's, read back."""
    tool = libfdt_tools.dtc(judge)
    text = chain(3330)
    res = subprocess.run([tool, "-q", "-I", "dts", "-O", "dtb"], input=text.encode(), capture_output=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    blob = parse_text(text, "deep.dts").to_dtb()
    assert blob == res.stdout
    again = read_dtb(blob)
    assert sum(1 for _ in again.walk()) == 3331
    assert [w.code for w in again.warnings].count("dt-too-deep-for-kernel") == 1


def test_no_recursion_anywhere() -> None:
    """The deepest trees and expressions dtc takes go through the parser, the semantic passes,
    -@ symbols, the blob writer and reader, an overlay and the facts with Python's recursion
    limit a hundred frames above the caller's: nothing there recurses."""
    from memplan.dts.facts import extract
    from memplan.dts.overlay import apply_overlays

    depth = 0
    frame = sys._getframe()
    while frame.f_back is not None:
        frame = frame.f_back
        depth += 1
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 100)
    try:
        tree = parse_text(chain(3329).replace("n3328 {", "p: n3328 {"), "deep.dts", symbols=True)
        parse_text(nested_expression(9987, "("), "parens.dts")
        overlay = parse_text("/dts-v1/;\n/plugin/;\n&p {" + "o {" * 3300 + "};" * 3300 + "};\n", "ov.dts")
        again = read_dtb(tree.to_dtb())
        apply_overlays(again, [(overlay, "ov.dts")])
        assert max(node.path.count("/") for node in again.walk()) == 3329 + 3300
        assert read_dtb(again.to_dtb()).to_dtb() == again.to_dtb()
        extract(again)
    finally:
        sys.setrecursionlimit(old)
