"""``-@`` (``__symbols__``) and ``/plugin/`` output, byte for byte against ``dtc -@``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memplan.dts import parse_text
from memplan.dts.symbols import SYMBOLS

SOURCES = {
    "labels-and-merges": """/dts-v1/;
/ {
    a: b: n1 { p = <&c>; };
    n2 { c: d: x { }; };
    e: n3 { };
};
f: &e { };
g: &e { };
&a { h: sub { }; };
/ { i: n4 { phandle = <5>; }; };
""",
    "hand-written-table": """/dts-v1/;
/ { __symbols__ { keep = "x"; a = "/elsewhere"; }; a: n { }; z: m { }; };
""",
    "no-labels": "/dts-v1/;\n/ { n { p = <1>; }; };\n",
    "deleted-and-omitted": """/dts-v1/;
/ {
    gone: n1 { };
    kept: n2 { };
    /omit-if-no-ref/ unused: n3 { };
    /omit-if-no-ref/ n4 { };
    used: n5 { r = <&kept>; };
};
/delete-node/ &gone;
""",
    "label-on-root-and-props": """/dts-v1/;
/ { p: prop = <1>; q = <2 v: 3>; s: n@1 { reg = <1>; }; };
r: &{/} { };
/ { t: n@1 { }; };
""",
    "plugin": """/dts-v1/;
/plugin/;
&foo { x: newnode { p = <&x &bar>; q = <&{/soc/thing}>; }; };
&{/soc} { y: other { r = <&y 1 &foo>; s = &x; }; };
/ { fragment@5 { target = <&bar>; __overlay__ { z: zz { }; }; }; };
""",
    "plugin-no-labels": """/dts-v1/;
/plugin/;
&{/chosen} { bootargs = "cma=64M"; };
""",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("symbols", [True, False])
def test_matches_dtc(name: str, symbols: bool, dtc_dtb: Callable[..., bytes]) -> None:
    text = SOURCES[name]
    flags = ("-@",) if symbols else ()
    tree = parse_text(text, "t.dts", symbols=symbols)
    assert tree.to_dtb() == dtc_dtb(text, *flags)
    labelled = ":" in text.replace("/dts-v1/;", "")
    assert (SYMBOLS in tree.root.children) == ((symbols and labelled) or SYMBOLS in text)


def test_symbols_content_and_warning() -> None:
    tree = parse_text(SOURCES["hand-written-table"], "t.dts", symbols=True)
    table = tree.root.children[SYMBOLS]
    entries = {k: p.as_string() for k, p in table.properties.items()}
    assert entries == {"keep": "x", "a": "/elsewhere", "z": "/m"}
    warnings = [w for w in tree.warnings if w.code == "dtc-symbol-exists"]
    assert len(warnings) == 1 and "'a'" in warnings[0].message
    assert warnings[0].source is not None and warnings[0].source.line == 2
    n = tree.find("/n")
    assert n is not None and n.phandle == 1
