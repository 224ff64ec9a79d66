"""The tree model: typed readers, path and alias lookup, walk order, cells and status."""

from __future__ import annotations

import random

import pytest

from memplan.dts import Property, Tree, parse_text
from memplan.errors import DtsError
from memplan.source import Source

TEXT = """/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <1>;
	aliases { serial0 = &uart0; mmc = "/soc@0/mmc@200"; bad = <1>; };
	soc@0 {
		#address-cells = <1>;
		#size-cells = <1>;
		uart0: serial@100 { reg = <0x100 0x20>; status = "okay"; };
		mmc@200 { status = "disabled"; sub { }; };
		i2c@300 { status = "ok"; };
		spi@400 { };
		odd@500 { status = <1>; };
	};
	empty { };
};
"""


@pytest.fixture(scope="module")
def tree() -> Tree:
    return parse_text(TEXT, "tree.dts")


def test_paths_names_and_parents(tree: Tree) -> None:
    uart = tree.node("/soc@0/serial@100")
    assert uart.path == "/soc@0/serial@100"
    assert (uart.name, uart.basename, uart.unit_address) == ("serial@100", "serial", "100")
    assert tree.node("/empty").unit_address is None
    assert uart.parent is tree.node("/soc@0") and tree.root.parent is None and tree.root.path == "/"
    assert uart.labels == ["uart0"] and tree.labels["uart0"] is uart


def test_lookup_by_path_alias_and_unit_less_name(tree: Tree) -> None:
    uart = tree.node("/soc@0/serial@100")
    assert tree.find("serial0") is uart
    assert tree.find("mmc/sub") is tree.node("/soc@0/mmc@200/sub")
    assert tree.find("/soc/serial") is uart  # libfdt-style: a name without @ matches name@unit
    assert tree.find("/nope") is None and tree.find("nope") is None and tree.find("bad") is None
    with pytest.raises(KeyError):
        tree.node("/soc@0/nope")
    assert tree.aliases == {"serial0": "/soc@0/serial@100", "mmc": "/soc@0/mmc@200"}


def test_walk_is_depth_first_in_dt_order(tree: Tree) -> None:
    assert [n.path for n in tree.walk()] == [
        "/", "/aliases", "/soc@0", "/soc@0/serial@100", "/soc@0/mmc@200", "/soc@0/mmc@200/sub",
        "/soc@0/i2c@300", "/soc@0/spi@400", "/soc@0/odd@500", "/empty",
    ]


def test_cells_and_status(tree: Tree) -> None:
    assert (tree.root.address_cells, tree.root.size_cells) == (2, 1)
    soc = tree.node("/soc@0")
    assert (soc.address_cells, soc.size_cells) == (1, 1)
    assert (tree.node("/empty").address_cells, tree.node("/empty").size_cells) == (2, 1)
    enabled = {n.name: n.is_enabled for n in soc.children.values()}
    assert enabled == {
        "serial@100": True, "mmc@200": False, "i2c@300": True, "spi@400": True, "odd@500": False}
    uart = tree.node("serial0")
    assert uart.get("reg") is uart.properties["reg"] and uart.has("reg") and not uart.has("ranges")
    assert uart.get("nope") is None


SRC = Source.at("x.dts", 3, 5, "\tp = <1>;")


def test_readers() -> None:
    cells = Property("p", bytes.fromhex("00000001 00000002 00000003 00000004"), SRC)
    assert cells.as_cells() == [1, 2, 3, 4]
    assert cells.as_int(2) == [0x100000002, 0x300000004]
    assert cells.as_int(1) == [1, 2, 3, 4]
    assert cells.as_phandles() == [1, 2, 3, 4]
    assert Property("p", bytes.fromhex("12345678")).as_u32() == 0x12345678
    assert Property("p", bytes.fromhex("0000000100000002")).as_u64() == 0x100000002
    assert Property("p", b"okay\0").as_string() == "okay"
    assert Property("p", b"a\0bc\0\0").as_strings() == ["a", "bc", ""]
    assert Property("p", b"").as_strings() == [] and Property("p").is_empty
    assert not cells.is_empty


@pytest.mark.parametrize(
    ("value", "reader", "fragment"),
    [
        (b"\0\0\0\1\0", "as_u32", "not a single 32-bit cell"),
        (b"\0\0\0\1", "as_u64", "not a single 64-bit value"),
        (b"\0\0\0", "as_cells", "not a list of 32-bit cells"),
        (b"\0\0\0\1", "as_string", "not a single NUL-terminated string"),
        (b"a\0b\0", "as_string", "not a single NUL-terminated string"),
        (b"abc", "as_strings", "not a list of NUL-terminated strings"),
        (b"\0\0\0\1", "as_phandles_bad", "not a list of 32-bit cells"),
    ],
)
def test_readers_reject_wrong_lengths(value: bytes, reader: str, fragment: str) -> None:
    prop = Property("reg", value if reader != "as_phandles_bad" else value[:3], SRC)
    with pytest.raises(DtsError) as info:
        getattr(prop, reader.replace("_bad", ""))()
    assert fragment in info.value.message and "'reg'" in info.value.message
    assert info.value.source is SRC


def test_as_int_rejects_partial_groups() -> None:
    with pytest.raises(DtsError, match="not a list of 2-cell values"):
        Property("reg", bytes(12), SRC).as_int(2)
    with pytest.raises(DtsError, match="cannot group"):
        Property("reg", bytes(4), SRC).as_int(0)


def _deep_tree(depth: int) -> tuple[Tree, dict[int, str]]:
    """A chain of ``depth`` nested nodes, each with a leaf beside the next level (and a second
    chain branching off half way down), and every node's path built top-down alongside."""
    tree = Tree()
    expected = {id(tree.root): "/"}
    todo = [(tree.root, "", 0, depth)]
    while todo:
        node, path, level, last = todo.pop()
        if level == last:
            continue
        child = node.add_child(f"level-{level}@{level:x}")
        leaf = node.add_child(f"leaf-{level}")
        expected[id(child)] = f"{path}/{child.name}"
        expected[id(leaf)] = f"{path}/{leaf.name}"
        todo.append((child, f"{path}/{child.name}", level + 1, last))
        if level == depth // 2 and last == depth:
            branch = node.add_child("branch")
            expected[id(branch)] = f"{path}/branch"
            todo.append((branch, f"{path}/branch", level + 1, depth - 100))
    return tree, expected


def test_every_path_of_a_deep_tree_in_any_order() -> None:
    """Paths below the length a node keeps (1,024 characters) are built from the path asked
    before; each is checked against the one built top-down, asked in pre-order, deepest first,
    in a random order, and twice in a row."""
    tree, expected = _deep_tree(2_000)
    nodes = list(tree.walk())
    assert len(nodes) == len(expected) > 5_000
    deepest = max(nodes, key=lambda node: len(expected[id(node)]))
    assert len(expected[id(deepest)]) > 20 * 1024
    shuffled = nodes[:]
    random.Random(12).shuffle(shuffled)
    for order in (nodes, nodes[::-1], shuffled):
        assert all(node.path == expected[id(node)] and node.path == expected[id(node)] for node in order)
    assert tree.find(deepest.path) is deepest


def test_deep_paths_follow_a_rename() -> None:
    """A renamed node (as the overlay parameter code renames one: new name, then the path fields
    set again on it and below it) gives the new paths, though the old ones were asked before."""
    tree, expected = _deep_tree(600)
    nodes = list(tree.walk())
    deep = [node for node in nodes if len(expected[id(node)]) > 2 * 1024 and node.children]
    assert all(node.path == expected[id(node)] for node in nodes)
    for renamed in (deep[len(deep) // 2], nodes[3]):  # below the kept paths, and above them
        old = renamed.path
        assert renamed.parent is not None
        siblings = renamed.parent.children.items()
        renamed.parent.children = {("renamed" if c is renamed else k): c for k, c in siblings}
        renamed.name = "renamed"
        for sub in renamed.walk():
            sub.__attrs_post_init__()
        new = old.rpartition("/")[0] + "/renamed"
        for node in nodes:
            want = expected[id(node)]
            if want == old or want.startswith(old + "/"):
                want = new + want[len(old):]
                expected[id(node)] = want
            assert node.path == want
        assert tree.find(new) is renamed
