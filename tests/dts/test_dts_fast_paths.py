"""The parser's fast paths -- plain hex/decimal cells, and a plain ``name =``/``name {``/``name;``
item head -- and every neighbour of them (octal, suffixes, 64-bit and out-of-range values,
negative values, comments, line markers, labels and references between cells, /bits/ sizes;
labels, comments, newlines, escaped names and keywords around item heads) must build the same
bytes as dtc, or fail where it fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memplan.dts import parse_text
from memplan.errors import DtsError, DtsSyntaxError

H = "/dts-v1/;\n"

SAME = {
    "plain": "/ { p = <1 0x2 0X3 0xffffffff 4294967295 0>; };",
    "octal-and-suffix": "/ { p = <010 0 00 7U 0x10UL 5ULL 6LL 9L>; };",
    "no-blanks": "/ { p = <1>, <2 3>,<4>; q=<0x5>; };",
    "comments": "/ { p = <1/* c */2 // d\n 3 /* e */>; };",
    "line-marker": '/ { p = <1\n# 7 "other.dtsi"\n 2\n# 9 "x.dts" 2\n 3>; };',
    "labels-refs-exprs": "/ { p = <1 l1: 2 &a 3 (4 + 5) '6' (-1) l2:>; a: a { }; };",
    "bits": "/ { p = /bits/ 8 <1 255 0xff (-1)>; q = /bits/ 16 <65535 1>;"
            " r = /bits/ 64 <0xffffffffffffffff 1>; };",
    "big-64": "/ { p = /bits/ 64 <18446744073709551615 0x0000000000000001>; };",
    "leading-zeros-hex": "/ { p = <0x00000000000000001 0x0000000000000000000000001>; };",
    "tabs-crlf": "/ { p = <1\t2\r\n3\f4\v5>; };",
    "strings": '/ { a = "x", "y\\n", "", "q\\"r", "\u00e9\\x41", "t\\\\";'
               ' b = "multi\nline"; c = "s" , "t"; };',
    "one-line-values": "/ { p = < >; q = <>; r = \"\"; s = \"a\" ; t = <0xffffffff>; u = <1 2> ;"
                       " v = <1>, <2>;"
                       " w = <1> /* c */; x = <1\t0X2>;\ty\t=\t\"b\"\t;\r\n z = <4294967295 077>; };",
    "items-after-markers": '/ { a = <1>;\n# 7 "other.dtsi"\n b = <2>;\n# 9 "x.dts" 2\n'
                           '#c = <3>;\n\t#line = <4>; n { };'
                           '\n# 3 "y.dtsi"\n};\n# 4 "z.dtsi"\n/ { };',
    # values over several lines, phandle lists, strings and cells mixed (one pattern, then pieces)
    "lists": "/ { p = <&a 1 2>,\n\t<&b 0x3 4294967295>,\n\t<0 &a>;"
             " q = \"x\", <1 &b>, \"\",<>,\n<&a>; r = <&a&b>; s = <\n&a\n>\t, \"t\r\n\"\n ;"
             " t = <1 2\n 3>; u = <&a>; v = <1>, \"\u00e9\"; a: a { }; b: b { }; };",
    "lists-neighbours": "/ { p = <&a 1>,\n# 5 \"x.dtsi\"\n <2>; q = <&a (1 + 2)>, <3>;"
                        " r = <&a 0x100>, /bits/ 8 <1>; s = <&{/a} 2>,\n <3>; t = <&a 07>,\n <1>;"
                        " u = <1 l: 2>,\n <3>; v = <1>, [01 02], <2>; w = <1U>,\n <2>; x = &a, <&a>;"
                        " a: a { }; };",
    "item-heads": "/ { #address-cells = <1>; a=<1>; b;c ; d /* x */ = <2>; e\n= \"s\"; f\n; l: g = <3>;"
                  " \\h = <4>; i,j+k?.-m = [01]; n { }; o\n{ }; p/**/{ }; l2: q { }; };",
    "labelled-heads": "/ { a: n { }; b:\tm{ x; };c: o\n{ }; d: e: p { }; f:\n q { }; g:/**/r { };"
                      " h: /omit-if-no-ref/ s { }; t { q = <&a>; }; };",
    "block-ends": "/ { n { }/* c */; m { }\n;\n o { } ; p { x = <1>; }; q { r { }; } ; };\n/ { s { }; }\t;",
    "plain-expressions": "/ { p = <(1 << 2) ((1 << 0) | (1 << 1)) (~0) (-1) (10 / 3) (10 % 3) (1 ? 2 : 3)"
                         " (0 ? 2 : 3) (1 && 0) (1 || 0) (!0) (5 > 3) (3 >= 3) (2 == 2) (2 != 2) (1 < 2)"
                         " (1 <= 0) (0x10 ^ 0xff) (6 - 9) (010 + 1) (1 << 63 >> 62) (2 * 3 + 4 * 5)"
                         " (\n1\t+\r\n2) (0 ? 1 ? 2 : 3 : 4) (- - 1) (!!7) (0x00000000000000001)>;"
                         " q = /bits/ 64 <(1 << 63) (-(2)) (0xffffffffffffffff + 2)>;"
                         " r = /bits/ 8 <(0xff) (-1)>; };",
    "expression-neighbours": "/ { p = <(1U + 2) ('a' + 1) (1 /* c */ + 2) (1 + // c\n 2)"
                             " (1 +\n# 5 \"x.dtsi\"\n 2) (3/**/) (0x10UL >> 4)>; };",
    "merged-heads": "/ { a: n { p = <1>; }; };\n&a { q = \"x\"; l: m { }; };\n&l { };",
    "expression-lists": "/ { p = <&a (1 + 2)>, <&a (3 << 1)>;\n q = <(((106) << 8) | 0)>,"
                        "\n\t<(((149) << 8) | 0)>; r = <\n (0)\n (1 << 1)\n>; s = <1 (~0) 2>, <(-1)>;"
                        " t = <(5 > 3) (1 ? 2 : 3) (8 / 2)>;"
                        " u = <(1 + (2 * (3 + (4 - (5 - (6 + 7))))))>; v = <(((((((1)))))))>, <&a>;"
                        " w = <(1 /* c */ + 2)>, <(1)>; x = <(1)(2)>; y = <(0xffffffff + 1 - 1) (1U + 1)>;"
                        " z = <(0x10 >> 4) (7 % 4) (2 >= 1) (1 != 1) (!0) (1 || 0) (0 && 1) (6 ^ 3)>;"
                        " a: a { }; };",
    "path-references": "/ { aliases { a = &n; b = &n ; c\t=\t&n\t; d = &n, \"x\"; e = &{/n}; f = &n // c\n;"
                       " g = &n/**/; h = &nn_1; i = l1: &n; j = &n l2:; k = \"x\", &n; m =\n&n; };"
                       " n: n { }; nn_1: m { }; };",
}

REJECTED = {
    "too-big-32": ("/ { p = <0x100000000>; };", "out of range"),
    "too-big-8": ("/ { p = /bits/ 8 <256>; };", "out of range"),
    "too-big-64": ("/ { p = /bits/ 64 <18446744073709551616>; };", "out of range"),
    "glued": ("/ { p = <1x>; };", ""),
    "bad-octal": ("/ { p = <08>; };", ""),
    "unclosed": ("/ { p = <1 2 ; };", ""),
    "prop-after-node": ("/ { n { }; p = <1>; };", "properties must precede subnodes"),
    "empty-prop-after-node": ("/ { n { }; p; };", "properties must precede subnodes"),
    "item-missing-semicolon": ("/ { p = <1> q = <2>; };", "';' or ','"),
    "list-too-big": ("/ { p = <&a 1>,\n <0x100000000>; a: a { }; };", "out of range"),
    "labelled-prop-after-node": ("/ { n { }; l: p = <1>; };", "properties must precede subnodes"),
    "block-end-missing-semicolon": ("/ { n { } m { }; };", "';' after '}'"),
    "labelled-head-without-name": ("/ { l: { }; };", ""),
    "duplicate-label-heads": ("/ { l: n { }; l: m { }; };", "duplicate label"),
    "expression-division-by-zero": ("/ { p = <1 (4 / (2 - 2))>; };", "division by zero"),
    "expression-modulo-zero": ("/ { p = <(1 ? 4 % 0 : 1)>; };", "division by zero"),
    "expression-unclosed": ("/ { p = <(1 + 2>; };", ""),
    "expression-too-big": ("/ { p = <(0xffffffff + 1)>; };", "out of range"),
    "expression-bad-octal": ("/ { p = <(08 + 1)>; };", ""),
    "expression-glued": ("/ { p = <(1 + 2x)>; };", ""),
    "list-unknown-ref": ("/ { p = <1>,\n <&nope 2>; };", "nope"),
    "expression-list-too-big": ("/ { p = <&a 1>,\n <(1 << 32)>; a: a { }; };", "out of range"),
    "expression-list-division-by-zero": ("/ { p = <&a 1>,\n <(1 / 0)>; a: a { }; };", "division by zero"),
    "expression-list-unknown-ref": ("/ { p = <(1 + 2)>,\n <&nope 2>; };", "nope"),
    "path-unknown-ref": ("/ { p = &n;\n q = &nope; n: n { }; };", "nope"),
    "path-ref-glued": ("/ { p = &n-x; n: n { }; };", ""),
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_cells_build_what_dtc_builds(name: str, dtc_dtb: Callable[..., bytes]) -> None:
    text = H + SAME[name] + "\n"
    assert parse_text(text).to_dtb() == dtc_dtb(text)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_cells_fail_where_dtc_fails(name: str, dtc_rejects: Callable[[str], str]) -> None:
    body, needle = REJECTED[name]
    text = H + body + "\n"
    dtc_rejects(text)
    with pytest.raises(DtsError) as info:
        parse_text(text, filename="cells.dts")
    assert needle in str(info.value)
    assert info.value.source is not None and info.value.source.line == 2 + body.count("\n")


def test_cell_values_and_error_column() -> None:
    tree = parse_text(H + "/ { p = <0x10 017 10 0xffffffff>; q = /bits/ 16 <0xffff 2>; };\n")
    assert tree.root.properties["p"].as_cells() == [16, 15, 10, 0xFFFFFFFF]
    assert tree.root.properties["q"].value == b"\xff\xff\x00\x02"
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(H + "/ { p = <1 2 0x100000000>; };\n", filename="c.dts")
    assert info.value.source is not None
    assert (info.value.source.line, info.value.source.column) == (2, 14)


def test_list_values_keep_reference_positions() -> None:
    """A value taken by the several-line pattern gives every reference the position of its '&',
    as the long way does (an unknown label is reported there)."""
    text = H + "/ { p = <1>,\n\t<&a 2>, \"s\",\n <3 &nope>; a: a { }; };\n"
    with pytest.raises(DtsError) as info:
        parse_text(text, filename="l.dts")
    assert info.value.source is not None
    assert (info.value.source.line, info.value.source.column) == (4, 5)
    tree = parse_text(text.replace("&nope", "&a"))
    assert tree.root.properties["p"].value == (
        b"\0\0\0\1" + b"\0\0\0\1\0\0\0\2" + b"s\0" + b"\0\0\0\3\0\0\0\1"
    )


def test_an_expression_in_a_list_is_read_as_the_long_way_reads_it() -> None:
    """A ``< ... >`` list with references and plain expressions, read at once: values, the
    reference's position, and dtc 1.7's truncation warning at the expression's '('."""
    from memplan.dts.dtcversion import DtcVersion

    text = H + "/ { p = <&a (1 + 2)>,\n\t<(1 << 32) &nope>; a: a { }; };\n"
    with pytest.raises(DtsError) as info:
        parse_text(text, filename="e.dts", dtc=DtcVersion(1, 7, 0))
    assert info.value.source is not None and "nope" in str(info.value)
    assert (info.value.source.line, info.value.source.column) == (3, 13)
    tree = parse_text(text.replace("&nope", "&a"), filename="e.dts", dtc=DtcVersion(1, 7, 0))
    phandle = tree.root.children["a"].phandle
    assert tree.root.properties["p"].as_cells() == [phandle, 3, 0, phandle]
    (warning,) = tree.warnings
    assert warning.code == "dtc-value-truncated" and warning.source is not None
    assert (warning.source.line, warning.source.column) == (3, 3)


def test_an_expression_in_a_list_overflows_dtc_stack_where_dtc_does(
        dtc_dtb: Callable[..., bytes], dtc_rejects: Callable[[str], str]) -> None:
    """Near the top of dtc's stack, a list's expression overflows it exactly where dtc's does
    (found to one entry: each earlier sibling node keeps one more on dtc's stack)."""
    deep = "(" * 5 + "7" + ")" * 5

    def doc(depth: int, siblings: int = 0) -> str:
        before = "".join(f" s{i} {{ }};" for i in range(siblings))
        return (H + "/ { a: a { };" + " n {" * depth + before + f" m {{ v = <&a {deep}>, <1>; }};"
                + " };" * depth + " };\n")

    def fails(text: str) -> bool:
        try:
            parse_text(text, "deep.dts")
        except DtsSyntaxError as err:
            assert "stack" in err.message
            return True
        return False

    low, high = 1, 5000
    assert not fails(doc(low)) and fails(doc(high))
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if not fails(doc(mid)) else (low, mid)
    siblings = next(k for k in range(1, 8) if fails(doc(low, k)))
    assert parse_text(doc(low, siblings - 1)).to_dtb() == dtc_dtb(doc(low, siblings - 1))
    dtc_rejects(doc(low, siblings))


def test_a_path_reference_keeps_its_position() -> None:
    """``name = &label;`` read at once: the reference stands at its '&' (an unknown label is
    reported there, as the long way reports it) and the value is the path string."""
    with pytest.raises(DtsError) as info:
        parse_text(H + "/ {\n\tp = &n;\n\tq =  &nope ;\n\tn: n { };\n};\n", filename="p.dts")
    assert info.value.source is not None
    assert (info.value.source.line, info.value.source.column) == (4, 7)
    tree = parse_text(H + "/ { a { p = &n; q = &n\t; }; n: n { }; };\n")
    assert tree.root.children["a"].properties["p"].value == b"/n\0"
    assert tree.root.children["a"].properties["q"].value == b"/n\0"


def test_properties_without_labels_share_one_empty_mapping_never_written() -> None:
    """Labels given to a property in its block, by a later block merged into it (a property that
    had none), deleted with it: each labelled property gets its own labels, the shared empty
    mapping stays empty (and refuses a write)."""
    from memplan.dts.draft import NO_LABELS

    text = H + ("/ { a: n { p = <1>; q; l1: r = \"x\"; s = &n; }; };\n"
                "&a { l2: p = <2>; l3: l4: q; /delete-property/ r; t = <&a (1 + 1)>; };\n"
                "&a { l5: s = &a; };\n")
    tree = parse_text(text, symbols=True)
    props = tree.root.children["n"].properties
    assert {name: prop.labels for name, prop in props.items()} == {
        "p": ("l2",), "q": ("l3", "l4"), "s": ("l5",), "t": (), "phandle": ()}
    assert sorted(tree.root.children["__symbols__"].properties) == ["a"]  # (node labels only)
    assert dict(NO_LABELS) == {}
    with pytest.raises(TypeError):
        NO_LABELS["x"] = True


def test_the_draft_is_freed_when_the_parse_returns() -> None:
    """The parser's draft (merged-away blocks, deleted nodes included) holds no reference cycle
    once the tree is built: nothing is left for the cyclic garbage collector."""
    import gc

    text = H + ("/ { a: a { x = <1>; b { }; }; c { /delete-node/ d; d { }; }; };\n"
                "&a { y = <&a>; b { z; }; };\n/ { e { }; };\n/delete-node/ &{/e};\n")
    parse_text(text)  # first use: imports and caches fill once
    gc.collect()
    gc.disable()
    try:
        tree = parse_text(text)
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert tree.root.children["a"].properties["y"].as_u32() == tree.root.children["a"].phandle
