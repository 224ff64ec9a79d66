"""Every DTS syntax feature: memplan's DTB must equal dtc's byte for byte; values are checked directly too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from memplan.dts import parse_dts, parse_text

H = "/dts-v1/;\n"

# Each case: a name and a DTS text that dtc accepts. memplan must produce dtc's exact bytes.
ORACLE_CASES: dict[str, str] = {
    "empty-root": H + "/ { };",
    "plain-values": H + '/ { e; s = "abc"; ss = "a", "", "bc"; c = <1 2 0xffffffff>; b = [00 1f AB]; };',
    "mixed-values": H + '/ { m = "x", <1>, [ff], /bits/ 16 <2 3>, "y"; };',
    "bits": H + "/ { a = /bits/ 8 <1 0xff (-1)>; b = /bits/ 16 <0xffff>; c = /bits/ 64 <0x123456789abcdef0>;"
    " d = /bits/ 32 <7>; };",
    "bytestrings": H + "/ { a = [0011 2233]; b = [001122]; c = [ ]; d = [a: 01 b: 02 c:]; };",
    "string-escapes": H + r'/ { s = "tab\there\nnl \"q\" \\ \x41\x4 \101\0end \q"; };',
    "char-literals": H + r"/ { c = <'a' '\n' '\x41' '\012' '\'' '\xff' '\377' '\'>; };",
    "integer-suffixes": H + "/ { a = <1U 2L 3UL 4LL 5ULL 0x10U 010 0>;"
    " b = /bits/ 64 <0xffffffffffffffffULL>; };",
    "expressions": H + "/ { a = <(1 + 2 * 3) ((1 + 2) * 3) (10 / 3) (10 % 3) (1 << 4) (256 >> 4) (7 - 9)>;"
    " b = <(1 < 2) (2 < 1) (1 > 2) (2 >= 2) (1 <= 0) (3 == 3) (3 != 3)>;"
    " c = <(6 & 3) (6 | 3) (6 ^ 3) (~0) (-1) (!0) (!5) (1 && 0) (1 || 0) (0 ? 5 : 6) (1 ? 5 : 6)>;"
    " d = <(1 ? 2 : 0 ? 3 : 4) (0 ? 2 : 0 ? 3 : 4) (-(1 << 63) >> 63) (1 << 64) (2 - 3 - 4)>; };",
    "labels-everywhere": H + "/ { n1: n2: node { p1: prop = v1: <v2: 1 v3: 2 v4:> v5:, v6: \"s\" v7:; }; };",
    "phandle-refs": H + "/ { a: a { }; b { x = <&a &{/c} 0>; }; c { }; d { y = <&a>; }; };",
    "path-refs": H + "/ { a: a { b: b { }; }; aliases { one = &a; two = &{/a/b};"
    " three = &b, \"z\", &a; }; };",
    "merge-repeated": H + "/ { a { p = <1>; q = <2>; }; }; / { a { p = <3>; r = <4>; }; b { }; };",
    "merge-by-label": H + "/ { l: a { p = <1>; }; }; &l { q = <2>; c { }; }; l2: &l { r; };"
    " &{/a} { s; }; / { x = <&l2>; };",
    "delete-property": H + "/ { a { p = <1>; q = <2>; r = <3>; }; }; / { a { /delete-property/ q; }; };",
    "delete-node-in-block": H + "/ { a { }; b { }; c { }; }; / { /delete-node/ b; };",
    "delete-node-by-ref": H + "/ { a { l: b { }; c { }; }; }; /delete-node/ &l; /delete-node/ &{/a/c};",
    "redefine-after-delete": H + "/ { a { p = <1>; q = <2>; r = <3>; }; x { }; y { }; };"
    " / { a { /delete-property/ p; }; /delete-node/ x; }; / { a { p = <9>; }; x { z; }; };",
    "omit-if-no-ref": H + "/ { /omit-if-no-ref/ a: a { }; /omit-if-no-ref/ b: b { }; c: c { };"
    " u { r = <&b>; }; }; /omit-if-no-ref/ &c;",
    "omit-by-path-ref": H + "/ { /omit-if-no-ref/ a: a { }; u { p = &a; }; };",
    "phandle-numbering": H + "/ { a: a { phandle = <1>; }; b: b { }; c: c { linux,phandle = <3>; }; d: d { };"
    " e: e { }; u { p = <&e &b &a &d &c &e>; }; };",
    "self-phandle": H + "/ { a: a { phandle = <&a>; }; b: b { }; u { p = <&b &a>; }; };",
    "phandle-order-deep": H + "/ { x { y { p = <&q>; }; }; q: q { r = <&x2>; }; x2: x2 { }; z { p = <&q2>; };"
    " q2: q2 { }; };",
    "memreserve": H + "/memreserve/ 0x1000 0x2000;\nm: /memreserve/ (1 << 32) 0x100;\n/ { };",
    "name-property": H + '/ { node@1 { name = "node"; other = <1>; }; x { p; name = "x"; }; };',
    "backslash-name": H + "/ { \\node-1 { \\p = <1>; }; };",
    "odd-names": H + "/ { #address-cells = <1>; #size-cells = <0>;"
    " a,b.c_d+e-f@1 { 1x = <1>; p?#*q; }; 2nd@0 { }; };",
    "comments": H + "/* block\n comment */ / { // line\n a = <1 /* inner */ 2>; };",
    "plugin-local-fixups": H + "/plugin/;\n&foo { a = <&bar>; bar: bar { x = &bar, <&bar &ext>; }; };\n"
    "/ { q { r = \"s\", &{/q}, <&nope &bar>; }; };",
    "plugin-path-target": H + "/plugin/;\n&{/soc} { a; };\n&{/soc} { b; };\n",
    "unit-address-path": H + "/ { soc@1000 { l: uart@10 { }; }; aliases { s = &l; }; };",
    "bits-8-chars-and-labels": H + r"/ { p = a: /bits/ 8 <'a' b: '\n' 0x10 '\101' '\x7'> c:,"
    " d: [e: 0a] f:; };",
    "string-odd-escapes": H + r'/ { s = "\x414 \1234 \8\9 \xff\377 \z"; };',
    "root-refs": H + "/ { p = <&{/}>; q = &{/}; }; &{/} { r; };",
    "explicit-phandle-taken": H + "/ { p = <&a &b>; a: n { }; b: m { phandle = <1>; }; };",
    "phandle-set-by-later-merge": H + "/ { p = <&a>; a: n { }; }; &a { phandle = <7>; };",
    "label-back-after-delete": H + "/ { a: n { }; }; /delete-node/ &a; / { q = <&a>; a: n { x; }; };",
    "omit-chain": H + "/ { /omit-if-no-ref/ a: n { p = <&b>; }; /omit-if-no-ref/ b: m { }; };",
    "plugin-merge-into-local-label": H + "/plugin/;\n/ { a: n { }; };\n&a { p; };",
    "plugin-fixup-offsets": H + "/plugin/;\n&t { n { p = <1 &a 2 &b>; q = <&a>; }; };\n&t { r = <&t>; };",
}


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_matches_dtc(name: str, dtc_dtb: Callable[..., bytes]) -> None:
    text = ORACLE_CASES[name]
    assert parse_text(text, "case.dts").to_dtb() == dtc_dtb(text)


def _root(text: str) -> dict[str, bytes]:
    tree = parse_text(H + text, "t.dts")
    return {p.name: p.value for p in tree.root.properties.values()}


def test_value_encodings() -> None:
    props = _root('/ { e; s = "ab", "c"; c = <1 0x10>; b = [0102]; w = /bits/ 16 <0x1234>; };')
    assert props == {
        "e": b"",
        "s": b"ab\0c\0",
        "c": b"\0\0\0\x01\0\0\0\x10",
        "b": b"\x01\x02",
        "w": b"\x12\x34",
    }


def test_cell_expressions_evaluate_like_c_unsigned_64() -> None:
    tree = parse_text(H + "/ { a = <(1 << 20) (0x10 | 0x01) ((-1) >> 60) (5 > 3 ? 0x40 : 0x80) (7 / 2)"
                      " (1 << 64) (~0 & 0xff)>; };", "t.dts")
    assert tree.root.properties["a"].as_cells() == [1 << 20, 0x11, 0xF, 0x40, 3, 0, 0xFF]


def test_negative_values_sign_extend_to_cell_width() -> None:
    tree = parse_text(H + "/ { a = <(-1) (-2)>; b = /bits/ 8 <(-1)>; c = /bits/ 64 <(-1)>; };", "t.dts")
    assert tree.root.properties["a"].as_cells() == [0xFFFFFFFF, 0xFFFFFFFE]
    assert tree.root.properties["b"].value == b"\xff"
    assert tree.root.properties["c"].as_u64() == (1 << 64) - 1


def test_string_and_char_escapes() -> None:
    props = _root(r'/ { s = "a\tb\x41\101\"\\\q"; c = <' + r"'\n' 'A' '\x7f' '\0'" + ">; };")
    assert props["s"] == b'a\tbAA"\\q\0'
    assert props["c"] == bytes.fromhex("0000000a 00000041 0000007f 00000000")


def test_octal_and_suffixed_literals() -> None:
    props = _root("/ { a = <010 0x10UL 10ULL 0>; };")
    assert props["a"] == bytes.fromhex("00000008 00000010 0000000a 00000000")


def test_labels_are_recorded_on_nodes_and_properties() -> None:
    tree = parse_text(H + "/ { l1: l2: n { p: q = <1>; }; }; &l1 { extra; }; l3: &{/n} { };", "t.dts")
    node = tree.node("/n")
    assert node.labels == ["l3", "l1", "l2"]  # dtc's order (dtc -O dts prints "l3: l1: l2: n")
    assert tree.labels["l2"] is node and tree.labels["l3"] is node
    assert node.properties["q"].labels == ("p",)
    assert list(node.properties) == ["q", "extra"]


def test_phandles_follow_first_reference_order() -> None:
    text = H + "/ { a: a { }; b: b { phandle = <1>; }; c: c { }; u { p = <&c &a &b>; }; };"
    tree = parse_text(text, "t.dts")
    assert tree.node("/c").phandle == 2  # 1 is taken by b's explicit phandle
    assert tree.node("/a").phandle == 3
    assert tree.node("/b").phandle == 1
    assert tree.node("/u").properties["p"].as_phandles() == [2, 3, 1]
    assert list(tree.node("/c").properties) == ["phandle"]
    assert tree.phandles[3] is tree.node("/a")


def test_path_reference_becomes_full_path_string() -> None:
    tree = parse_text(H + "/ { s@1 { l: d@2 { }; }; aliases { x = &l; }; };", "t.dts")
    assert tree.aliases == {"x": "/s@1/d@2"}


def test_redefined_property_keeps_first_position() -> None:
    text = H + "/ { a = <1>; b = <2>; c = <3>; }; / { /delete-property/ a; }; / { a = <4>; };"
    tree = parse_text(text, "t.dts")
    assert list(tree.root.properties) == ["a", "b", "c"]
    assert tree.root.properties["a"].as_u32() == 4
    assert tree.root.properties["a"].source.line == 2


def test_deleted_node_returns_at_old_position_and_drops_labels() -> None:
    tree = parse_text(H + "/ { l: a { p; }; b { }; }; /delete-node/ &l; / { a { q; }; };", "t.dts")
    assert list(tree.root.children) == ["a", "b"]
    assert list(tree.node("/a").properties) == ["q"]
    assert "l" not in tree.labels


def test_omit_if_no_ref_drops_unreferenced_nodes_only() -> None:
    text = H + "/ { /omit-if-no-ref/ a: a { }; /omit-if-no-ref/ b: b { }; u { p = <&a>; }; };"
    tree = parse_text(text, "t.dts")
    assert list(tree.root.children) == ["a", "u"]


def test_memreserve_entries_and_labels() -> None:
    text = H + "/memreserve/ 0x40000000 0x1000;\nr: /memreserve/ (2 * 0x1000) 'A';\n/ { };"
    tree = parse_text(text, "t.dts")
    assert [(m.address, m.size, m.labels) for m in tree.memreserves] == [
        (0x40000000, 0x1000, ()), (0x2000, 0x41, ("r",))]
    assert tree.memreserves[1].source.line == 3


def test_incbin_whole_and_slice(tmp_path: Path, dtc_dtb: Callable[..., bytes]) -> None:
    (tmp_path / "blob.bin").write_bytes(bytes(range(16)))
    text = H + ('/ { a = /incbin/ ("blob.bin"); b = /incbin/ ("blob.bin", 4, 3);'
                ' c = "x", /incbin/ ("blob.bin", 15, 8); };')
    main = tmp_path / "m.dts"
    main.write_text(text)
    tree = parse_text(text, str(main))
    assert tree.root.properties["a"].value == bytes(range(16))
    assert tree.root.properties["b"].value == b"\x04\x05\x06"
    assert tree.root.properties["c"].value == b"x\0\x0f"
    assert tree.to_dtb() == dtc_dtb(text, name="m.dts")


def test_dtc_include_nested_and_in_node(tmp_path: Path, dtc_dtb: Callable[..., bytes]) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "inc").mkdir()
    (tmp_path / "sub" / "a.dtsi").write_text('/ { from-a = <1>; };\n/include/ "b.dtsi"\n')
    (tmp_path / "sub" / "b.dtsi").write_text("/ { from-b; };\n")
    (tmp_path / "inc" / "props.dtsi").write_text("p1 = <1>;\np2 = <2>;\n")
    text = H + '/include/ "sub/a.dtsi"\n/ { n { /include/ "props.dtsi" }; };\n'
    main = tmp_path / "m.dts"
    main.write_text(text)
    tree = parse_text(text, str(main), include_dirs=[tmp_path / "inc"])
    assert list(tree.root.properties) == ["from-a", "from-b"]
    p2 = tree.node("/n").properties["p2"]
    assert (Path(p2.source.file or "").name, p2.source.line, p2.source.column) == ("props.dtsi", 2, 1)
    assert tree.to_dtb() == dtc_dtb(text, "-i", str(tmp_path / "inc"), name="m.dts")


def test_plugin_fragments_and_fixups(dtc_dtb: Callable[..., bytes]) -> None:
    text = H + "/plugin/;\n&foo { a = <1>; };\n&{/soc/bar} { b; };\n/ { frag { p = <&baz>; }; };\n"
    tree = parse_text(text, "o.dts")
    assert tree.plugin
    assert tree.node("/fragment@0/__overlay__").properties["a"].as_u32() == 1
    assert tree.node("/fragment@1").properties["target-path"].as_string() == "/soc/bar"
    assert tree.to_dtb() == dtc_dtb(text)


def test_parse_dts_from_file_runs_preprocessor(tmp_path: Path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "defs.h").write_text("#define SIZE (16 << 20)\n")
    (tmp_path / "common.dtsi").write_text("/ {\n\tcommon;\n};\n")
    board = tmp_path / "board.dts"
    board.write_text(H + '#include <defs.h>\n#include "common.dtsi"\n/ {\n\tsize = <SIZE>;\n};\n')
    tree = parse_dts(board, include_dirs=[tmp_path / "inc"])
    assert tree.root.properties["size"].as_u32() == 16 << 20
    common = tree.root.properties["common"].source
    assert (Path(common.file or "").name, common.line, common.column) == ("common.dtsi", 2, 2)
    size = tree.root.properties["size"].source
    assert (Path(size.file or "").name, size.line) == ("board.dts", 5)


@pytest.mark.parametrize("cpp", ["auto", "pcpp"])
def test_parse_dts_defines_and_both_preprocessors(tmp_path: Path, cpp: str) -> None:
    (tmp_path / "soc.dtsi").write_text("/ {\n\n\tsoc { size = <SIZE>; };\n};\n")
    board = tmp_path / "board.dts"
    board.write_text(H + '#include "soc.dtsi"\n#ifdef EXTRA\n/ { extra; };\n#endif\n')
    tree = parse_dts(board, cpp=cpp, defines=["SIZE=0x100", "EXTRA"])
    assert tree.node("/soc").properties["size"].as_u32() == 0x100
    assert "extra" in tree.root.properties
    size = tree.node("/soc").properties["size"].source
    assert (Path(size.file or "").name, size.line, size.column) == ("soc.dtsi", 3, 8)
    extra = tree.root.properties["extra"].source
    assert (Path(extra.file or "").name, extra.line) == ("board.dts", 4)


def test_linemarkers_map_positions_to_original_files() -> None:
    text = (H + '# 1 "board.dts"\n# 1 "soc.dtsi" 1\n/ {\n\tsoc {\n\t\tstatus = "okay";\n\t};\n};\n'
            '# 3 "board.dts" 2\n\n/ { board = <1>; };\n')
    tree = parse_text(text, "<pp>")
    status = tree.node("/soc").properties["status"].source
    assert (status.file, status.line, status.column) == ("soc.dtsi", 3, 3)
    assert status.text == '\t\tstatus = "okay";'
    board = tree.root.properties["board"].source
    assert (board.file, board.line, board.column) == ("board.dts", 4, 5)
    assert tree.node("/soc").source.line == 2
