"""Hostile and huge DTS input: linear time and memory, positioned errors, short messages.

Real boards have lines of at most a few kB, a few hundred siblings, strings under 1 kB and
trees under 20 levels deep; the inputs here are at least 10x that (sized to run in about a
second each on a loaded machine).
"""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memplan.dts import parse_text
from memplan.dts.dtb import StringTable, dtb_bytes, read_dtb
from memplan.errors import DtsError, DtsSyntaxError

HEAD = "/dts-v1/;\n"


def test_tokens_on_one_long_line_share_the_line() -> None:
    n = 20_000
    text = HEAD + "/ { " + " ".join(f"p{i} = <{i}>;" for i in range(n)) + " };\n"
    tree = parse_text(text, "long.dts")
    props = tree.root.properties
    assert len(props) == n and props[f"p{n - 1}"].value == (n - 1).to_bytes(4, "big")
    src = props["p12345"].source
    assert src.lines is not None and src.lines.buffer is text  # an offset into the text, no copy
    assert src.column == text.index("p12345 ") - text.index("/ {") + 1
    assert len(src.to_dict()["snippet"]) < 300  # the shown line is a window


def test_error_on_a_megabyte_line_has_a_short_message() -> None:
    text = HEAD + "/ { " + "p = <1>; " * 10_000 + "q = <1 " + "x" * 1_000_000 + ">; };\n"
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(text, "wide.dts")
    message = str(info.value)
    assert info.value.source is not None and info.value.source.line == 2
    assert len(message) < 600 and message.rstrip().endswith("^")


def test_eight_megabyte_string_literal() -> None:
    body = "a" * (8 << 20)
    tree = parse_text(HEAD + f'/ {{ s = "{body}"; }};\n', "s.dts")
    assert len(tree.root.properties["s"].value) == (8 << 20) + 1


def test_four_hundred_thousand_escapes_decode_linearly() -> None:
    tree = parse_text(HEAD + '/ { s = "' + "\\x41\\n" * 200_000 + '"; };\n', "e.dts")
    value = tree.root.properties["s"].value
    assert len(value) == 400_001 and value[:4] == b"A\nA\n"


def test_overlong_character_literal_is_a_syntax_error() -> None:
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(HEAD + "/ { p = <'" + "a" * 1_000_000 + "'>; };\n", "c.dts")
    assert info.value.source is not None and info.value.source.column == 10
    assert len(str(info.value)) < 600


def test_ten_thousand_siblings_and_a_late_duplicate() -> None:
    n = 9_900  # dtc takes at most 9,988 siblings in one node (its parser stack): test_dtc_stack.py
    body = "".join(f"n{i} {{ }};\n" for i in range(n))
    tree = parse_text(HEAD + "/ {\n" + body + "};\n", "sibs.dts")
    assert len(tree.root.children) == n
    with pytest.raises(DtsError, match="duplicate node name 'n7'") as info:
        parse_text(HEAD + "/ {\n" + body + "n7 { };\n};\n", "sibs.dts")
    assert info.value.source is not None and info.value.source.line == n + 3


def test_merging_two_eight_thousand_node_blocks() -> None:
    n = 8_000
    block = "/ {\n" + "".join(f"n{i} {{ p = <{i}>; }};\n" for i in range(n)) + "};\n"
    second = "/ {\n" + "".join(f"n{i} {{ q = <{i}>; }};\n" for i in range(n)) + "};\n"
    tree = parse_text(HEAD + block + second, "merge.dts")
    assert len(tree.root.children) == n
    assert set(tree.root.children[f"n{n - 1}"].properties) == {"p", "q"}


def test_three_thousand_path_references() -> None:
    n = 3_000
    body = "".join(f"l{i}: n{i} {{ r = &{{/n{(i * 7) % n}}}; s = <&l{(i * 3) % n}>; }};\n" for i in range(n))
    tree = parse_text(HEAD + "/ {\n" + body + "};\n", "refs.dts")
    assert tree.root.children["n1"].properties["r"].value == b"/n7\0"


def test_nesting_is_bounded_where_dtc_bounds_it() -> None:
    # dtc's parser stack holds 3,330 levels of plain nesting (tests/dts/test_dtc_stack.py asks dtc)
    ok = HEAD + "/ {" + "a {" * 3330 + "};" * 3330 + "};\n"
    tree = parse_text(ok, "deep.dts")
    again = read_dtb(dtb_bytes(tree))  # what memplan writes, it reads back
    assert sum(1 for _ in again.root.walk()) == 3331
    with pytest.raises(DtsSyntaxError, match="dtc refuses this") as info:
        parse_text(HEAD + "/ {" + "a {" * 5000 + "};" * 5000 + "};\n", "deeper.dts")
    # at the name of level 3,332, where dtc 1.6.1 says "2.9997-9998 memory exhausted"
    where = info.value.source
    assert where is not None and (where.line, where.column) == (2, 3 * 3331 + 4)


def test_merged_blocks_nest_deeper_than_one_block() -> None:
    """A ``&label { }`` block opens at the labelled node: dtc's stack starts afresh, so merges
    build trees deeper than one block can (dtc 1.6.1 builds this one); written and read back."""
    half = "a {" * 3000 + "x: b { };" + "};" * 3000
    text = HEAD + "/ {" + half + "};\n&x {" + "c {" * 3000 + "};" * 3000 + "};\n"
    tree = parse_text(text, "merged.dts")
    deepest = max(tree.walk(), key=lambda node: node.path.count("/"))
    assert deepest.path == "/" + "a/" * 3000 + "b" + "/c" * 3000
    again = read_dtb(dtb_bytes(tree))
    assert again.find(deepest.path) is not None


def test_huge_line_marker_number_is_positioned() -> None:
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(HEAD + "# " + "9" * 50_000 + ' "x.dts"\n/ { };\n', "m.dts")
    err = info.value
    assert err.source is not None and (err.source.file, err.source.line, err.source.column) == ("m.dts", 2, 3)
    assert "50000 digits" in err.message and len(str(err)) < 600


@pytest.mark.parametrize(
    ("text", "column"),
    [('/include/ "\\x"\n', 11), ('/ { p = /incbin/("\\x"); };\n', 18), ('/ { p = "\\x"; };\n', 9)],
)
def test_bad_escape_in_file_names_is_positioned(text: str, column: int) -> None:
    with pytest.raises(DtsSyntaxError, match="no following hex digits") as info:
        parse_text(HEAD + text, "esc.dts")
    assert info.value.source is not None and (info.value.source.line, info.value.source.column) == (2, column)


def test_blob_of_any_depth_is_read_and_written() -> None:
    """No depth bound on blobs (libfdt and the kernel have none; dtc -I dtb recurses and crashes
    past about 52,000 levels on an 8 MiB stack): 60,000 levels read and written back byte for byte."""
    levels = 60_000
    blob = _deep_blob(levels, name=b"abc")
    tree = read_dtb(blob)
    assert dtb_bytes(tree) == blob
    deepest = next(node for node in tree.walk() if not node.children)
    assert deepest.path == "/abc" * (levels - 1)
    (warning,) = [w for w in tree.warnings if w.code == "dt-too-deep-for-kernel"]
    assert f"({levels - 63} in all)" in warning.message


def test_deep_blob_memory_is_linear() -> None:
    """15,000 levels of 200-byte names: a full path kept in every node would take 22 GB."""
    blob = _deep_blob(15_000, name=b"n" * 199)
    tracemalloc.start()
    try:
        tree = read_dtb(blob)
        assert dtb_bytes(tree) == blob
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60 * len(blob)


def _deep_blob(levels: int, name: bytes = b"") -> bytes:
    """A blob of ``levels`` nested nodes (the root, unnamed, included) called ``name``."""
    named = struct.pack(">I", 1) + name + bytes(4 - len(name) % 4)
    body = struct.pack(">II", 1, 0) + named * (levels - 1)
    body += struct.pack(">I", 2) * levels + struct.pack(">I", 9)
    header = struct.pack(">10I", 0xD00DFEED, 56 + len(body), 56, 56 + len(body), 40, 17, 16, 0, 0, len(body))
    return header + bytes(16) + body


def _model_offsets(names: list[str]) -> list[int]:
    """dtc's string table: the first occurrence of name + NUL in the table, else appended."""
    table = bytearray()
    out = []
    for name in names:
        raw = name.encode() + b"\0"
        off = table.find(raw)
        if off < 0:
            off = len(table)
            table += raw
        out.append(off)
    return out


@given(st.lists(st.text(alphabet="abc,#-", max_size=70), max_size=40))
def test_string_table_matches_dtc_first_occurrence_rule(names: list[str]) -> None:
    table = StringTable()
    assert [table.offset(n) for n in names] == _model_offsets(names)


def test_string_table_of_a_hundred_thousand_names_is_linear() -> None:
    names = [f"vendor,property-{i}" for i in range(100_000)]
    table = StringTable()
    offsets = [table.offset(n) for n in names]
    assert offsets[-1] == len(table.data) - len(names[-1]) - 1 and table.offset("property-5\0"[:-1]) > 0
