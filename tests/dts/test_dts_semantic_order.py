"""The semantic passes look at the whole tree in one walk, yet the error reported is the one of
the earliest pass (dtc's check order), wherever in the tree the other problems are; a tree the
walk only suspects (names shared with a deleted node) is still built."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memplan.dts import parse_text
from memplan.errors import DtsError

H = "/dts-v1/;\n"

# name: (text, message fragment, line): a problem of a later pass comes first in the tree
CASES: dict[str, tuple[str, str, int]] = {
    "name-check-before-labels": (H + "/ {\n\tl: a { };\n\tl: b { };\n\tc?d { };\n};\n",
                                 "bad character '?' in node name", 5),
    "two-at-before-name-property": (H + '/ {\n\tn { name = "m"; };\n\ta@1@2 { };\n};\n',
                                    "multiple '@' characters", 4),
    "duplicate-property-before-labels": (H + "/ {\n\tl: a { };\n\tl: b { };\n\tc { p; p; };\n};\n",
                                         "duplicate property name 'p'", 5),
    "bad-property-name-before-phandles": (
        H + "/ {\n\ta { phandle = <1>; };\n\tb { phandle = <1>; };\n\tc { p@q; };\n};\n",
        "bad character '@' in property name", 5),
    "name-property-before-labels": (H + '/ {\n\tl: a { };\n\tl: b { };\n\tc { name = "x"; };\n};\n',
                                    '"name" property is incorrect', 5),
    "labels-before-phandles": (H + "/ {\n\ta { phandle = <1>; };\n\tb { phandle = <1>; };\n"
                               "\tl: c { };\n\tl: d { };\n};\n", "duplicate label 'l'", 6),
    "phandles-before-references": (H + "/ {\n\tp = <&nope>;\n\ta { phandle = <1>; };\n"
                                   "\tb { phandle = <1>; };\n};\n", "duplicated phandle 0x1", 5),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_earliest_pass_reports(name: str, dtc_rejects: Callable[[str], str]) -> None:
    text, fragment, line = CASES[name]
    with pytest.raises(DtsError) as info:
        parse_text(text, "bad.dts")
    assert fragment in info.value.message
    assert info.value.source is not None and info.value.source.line == line
    dtc_rejects(text)


def test_a_name_shared_with_a_deleted_node_is_built() -> None:
    tree = parse_text(H + "/ { n { a = <1>; }; };\n/ { /delete-node/ n; };\n/ { n { b = <2>; }; m { }; };\n",
                      "ok.dts")
    assert list(tree.root.children) == ["n", "m"]
    assert list(tree.root.children["n"].properties) == ["b"]
