"""Replayed top-level blocks (memplan/dts/replay.py): a block whose text was parsed before in the
process is built again from what that parse made; the tree must be the one a parse gives --
every node, property, value, label, phandle, source (file, line, column, line text), warning and
error -- whatever stands before the block (another offset, other line markers, other files),
and nothing may be replayed that depends on more than the block's text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from memplan.dts import parse_text, replay
from memplan.dts.dtcversion import DtcVersion
from memplan.dts.lexer import SourceMap
from memplan.dts.tree import Tree
from memplan.errors import DtsError, DtsSyntaxError, MemplanError
from memplan.source import Source

H = "/dts-v1/;\n"


@pytest.fixture(autouse=True)
def _cold_cache() -> Iterator[None]:
    replay.clear()
    yield
    replay.clear()


def _source(src: Source | None) -> object:
    return None if src is None else (str(src), src.text, src.to_dict())


def snapshot(tree: Tree) -> list[object]:
    """Everything a parse decides, in order."""
    out: list[object] = []
    for node in tree.root.walk():
        out.append(("node", node.path, tuple(node.labels), node.phandle, _source(node.source)))
        for prop in node.properties.values():
            out.append(("prop", prop.name, prop.value, tuple(prop.labels), _source(prop.source)))
    out.append(sorted((label, node.path) for label, node in tree.labels.items()))
    out.append(sorted((label, _source(src)) for label, src in tree.label_sources.items()))
    out.append(sorted((ph, node.path) for ph, node in tree.phandles.items()))
    out.append([(m.address, m.size, m.labels, _source(m.source)) for m in tree.memreserves])
    out.append([(d.code, d.message, _source(d.source)) for d in tree.warnings])
    out.append(tree.to_dtb())
    return out


def cold(text: str, filename: str = "board.dts", **kw: object) -> list[object]:
    with replay.paused():
        return snapshot(parse_text(text, filename, **kw))  # type: ignore[arg-type]


def warm(text: str, filename: str = "board.dts", **kw: object) -> tuple[list[object], int]:
    """The snapshot of ``text`` parsed with the process's blocks, and how many were replayed."""
    cache = replay.cache_for(bool(kw.get("dtc") and kw["dtc"].truncates_cells))  # type: ignore[attr-defined]
    assert cache is not None
    before = cache.hits
    return snapshot(parse_text(text, filename, **kw)), cache.hits - before  # type: ignore[arg-type]


SOC = """
/ {
\t#address-cells = <1>;
\t#size-cells = <1>;
\tinterrupt-parent = <&gic>;
\tcpus { #address-cells = <1>; #size-cells = <0>;
\t\tcpu0: cpu@0 { device_type = "cpu"; reg = <0>; next-level-cache = <&l2>; };
\t\tl2: l2-cache { compatible = "cache"; };
\t};
\tgic: interrupt-controller@1000 { compatible = "arm,gic-400"; reg = <0x1000 0x1000>, <0x2000 0x2000>;
\t\tinterrupt-controller; #interrupt-cells = <3>; };
\tsoc: soc { compatible = "simple-bus"; ranges;
\t\tplabel: p2 = <3>;
\t\t/delete-property/ p2;
\t\tuart0: serial@3000 { reg = <0x3000 0x100>; clocks = <&clk 1>, <&clk 2>; status = "disabled"; };
\t\tclkb: clk: clock@4000 { reg = <0x4000 0x100>; #clock-cells = <1>; parent = <&board_clk 1>;
\t\t\tout = vlab: <1 inner: 2>, "s\\x41", [01 blab: 02];
\t\t\tpath = &uart0; both = "a", &{/soc/serial@3000}, <&{/cpus} (1 + 2) 'c'>; wide = /bits/ 16 <1 (-1)>; };
\t\t/omit-if-no-ref/ spare: spare@5000 { reg = <0x5000 4>; };
\t\tgone@6000 { reg = <0x6000 4>; };
\t};
};
&soc {
\t/delete-node/ gone@6000;
\tsub { tagged = "padding so that the block is kept"; };
};
"""
SOC_MARKED = f'# 1 "soc.dtsi" 1{SOC}# 40 "board.dts" 2\n/ {{ board_clk: osc {{ #clock-cells = <1>; }}; }};\n'

SOURCES = {
    "soc": H + SOC_MARKED + "&uart0 { status = \"okay\"; };\n",
    "markers-inside": H + '/ {\n\tn {\n# 1 "inner.dtsi" 1\n\t\tp = <1\n# 7 "inner.dtsi"\n\t\t 2>;\n'
    '# 5 "board.dts" 2\n\t\tq = "after the include";\n\t};\n};\n&{/n} { r = <3>;'
    ' s = "more text here, enough for the block to be kept"; };\n',
    "deletes-across-blocks": H + SOC_MARKED + "/delete-node/ &spare;\n&clk { /delete-property/ out;"
    " l: extra { x = <&l2>; }; };\n&soc { /delete-node/ sub; };\n/ { aliases { u = &clk; }; };\n",
    "same-block-twice": H + SOC_MARKED + "&soc { merged { a = <1>; b = \"a string long enough\"; }; };\n"
    "&soc { merged { a = <1>; b = \"a string long enough\"; }; };\n",
    "both-labels": H + SOC_MARKED + "&clkb { via-second = <1>; };\n&clk { via-first = <2>; };\n",
    "labels-on-refs": H + SOC_MARKED + "top: &cpu0 { clock-frequency = <1000000000>; lab: sub { }; };\n"
    "&top { again = <&lab>; more = \"padding for the block size\"; };\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_replayed_block_builds_the_parsed_tree(name: str) -> None:
    text = SOURCES[name]
    expected = cold(text)
    first, _ = warm(text)
    second, _ = warm(text)  # (a block of the board's own file is kept the second time it is met)
    again, hits = warm(text)
    assert first == expected
    assert second == expected
    assert again == expected
    assert hits >= 2  # the same text again: its blocks are replayed, not parsed


def test_a_block_at_another_offset_keeps_its_own_positions() -> None:
    """The SoC block in two boards, after different text and line markers: each board's tree
    points at its own file, line and column."""
    one = H + SOC_MARKED + "&uart0 { status = \"okay\"; };\n"
    two = (H + "/memreserve/ 0x1000 0x1000;\n// another board\n\n"
           + SOC.replace("\n/ {", '\n# 100 "other/soc-v2.dtsi" 1\n/ {', 1)
           + "&gic { extra; };\n/ { board_clk: osc { #clock-cells = <1>; }; };\n")
    warm(one)
    got, hits = warm(two, "two.dts")
    assert hits == 2  # the SoC's two blocks
    assert got == cold(two, "two.dts")
    tree = parse_text(two, "two.dts")
    lines = two.split("\n")
    marker = lines.index('# 100 "other/soc-v2.dtsi" 1')
    clk = next(i for i, line in enumerate(lines) if "clk: clock@4000" in line)
    out = next(i for i, line in enumerate(lines) if "out = vlab" in line)
    src = tree.root.children["soc"].children["clock@4000"].properties["out"].source
    assert (src.file, src.line, src.column) == ("other/soc-v2.dtsi", 100 + out - marker - 1,
                                                lines[out].index("out =") + 1)
    assert src.text == lines[out]
    label = tree.label_sources["clk"]
    assert (label.file, label.line, label.column) == ("other/soc-v2.dtsi", 100 + clk - marker - 1,
                                                      lines[clk].index("clk:") + 1)


def test_blocks_shared_by_two_boards_at_different_offsets() -> None:
    """Board B shares board A's blocks at other offsets (more text before them in B)."""
    a = H + SOC_MARKED + "&uart0 { status = \"okay\"; };\n&soc { local { id = <1>; board = \"a\"; }; };\n"
    b = (H + "// a longer preamble in this board\n/memreserve/ 0x1000 0x1000;\n" + SOC_MARKED
         + "&uart0 { status = \"okay\"; };\n&soc { local { id = <2>; board = \"b\"; }; };\n")
    warm(a, "a.dts")
    got, hits = warm(b, "b.dts")
    assert hits == 2  # the SoC's two blocks (the short &uart0 block is parsed, the last one differs)
    assert got == cold(b, "b.dts")


def test_a_block_that_errs_is_never_kept() -> None:
    text = H + "/ { a { p = <0x100000000>; q = \"long enough to be kept if it were\"; }; };\n"
    cache = replay.cache_for(False)
    assert cache is not None
    for _ in range(2):
        with pytest.raises(DtsError, match="out of range") as err:
            parse_text(text, "e.dts")
        assert err.value.source is not None and (err.value.source.line, err.value.source.column) == (2, 14)
    assert len(cache) == 0


def test_a_block_that_warns_is_not_kept_and_each_dtc_has_its_own_blocks() -> None:
    """dtc 1.7 warns (and truncates) where dtc 1.6 refuses: the same text is parsed anew each time."""
    text = H + "/ { a { p = <0x100000001>; q = \"long enough to be kept if it were\"; }; };\n"
    new = DtcVersion(1, 7, 0)
    first, _ = warm(text, dtc=new)
    second, _ = warm(text, dtc=new)
    again, hits = warm(text, dtc=new)
    assert first == second == again == cold(text, dtc=new)
    assert hits == 0
    assert any(d[0] == "dtc-value-truncated" for d in again[-2])  # type: ignore[union-attr]
    with pytest.raises(DtsError, match="out of range"):
        parse_text(text, "e.dts")
    # a clean block is kept apart for each setting
    clean = H + "/ { a { p = <1>; q = \"long enough to be kept, and it is\"; }; };\n"
    warm(clean)
    warm(clean)
    assert warm(clean)[1] == 1
    warm(clean, dtc=new)
    assert warm(clean, dtc=new)[1] == 0  # met once with this setting: not kept yet


def _nested(depth: int, labels: int = 0) -> str:
    inner = "".join(f" l{i}:" for i in range(labels)) + " x = \"some text to keep the block long\";"
    return "/ {" + " n {" * depth + inner + " };" * depth + " };\n"


def test_the_stack_count_at_the_start_is_part_of_the_key() -> None:
    """dtc's stack holds one symbol more before the second top-level block than before the first:
    a block nested exactly deep enough fits first and overflows second, replayed or not."""
    def fails(text: str) -> bool:
        with replay.paused():
            try:
                parse_text(text, "deep.dts")
            except MemplanError:
                return True
        return False

    lo, hi = 1, 5000  # fits first at lo, not at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fails(H + _nested(mid)) else (mid, hi)
    # each label on the innermost property takes one more entry: the last count that fits first
    labels = next(k for k in range(8) if fails(H + _nested(lo, k + 1)))
    block = _nested(lo, labels)
    first, second = H + block, H + "/ { };\n" + block
    assert not fails(first) and fails(second)
    warm(first)
    warm(first)
    assert warm(first)[1] == 1
    with pytest.raises(MemplanError, match="stack"):
        parse_text(second, "deep.dts")


@pytest.mark.parametrize("item", ['/include/ "part.dtsi"', 'p = /incbin/("data.bin");'])
def test_included_and_incbin_files_are_read_every_time(item: str, tmp_path: Path) -> None:
    """A block that reads a file is never kept: a change of the file shows in the next parse."""
    pad = 'pad = "padding, so that the block would be kept";'
    text = H + f"/ {{\n\tn {{\n\t\t{item}\n\t\t{pad}\n\t}};\n}};\n"
    name = str(tmp_path / "board.dts")
    for value in (1, 2):
        (tmp_path / "part.dtsi").write_text(f"p = [0{value} 0{value} 0{value}];\n")
        (tmp_path / "data.bin").write_bytes(bytes([value] * 3))
        tree = parse_text(text, name)
        assert tree.root.children["n"].properties["p"].value == bytes([value] * 3)
    cache = replay.cache_for(False)
    assert cache is not None and len(cache) == 0


def test_a_reference_inside_a_replayed_block_keeps_its_position() -> None:
    """A board without the clock the SoC block refers to: the error names the reference."""
    text = H + SOC_MARKED.replace("board_clk: osc", "other: osc")
    errors = []
    for _ in range(3):  # cold, then recorded, then replayed
        with pytest.raises(MemplanError, match="board_clk") as err:
            parse_text(text, "board.dts")
        errors.append((str(err.value), _source(err.value.source)))
    assert errors[0] == errors[1] == errors[2]
    src = err.value.source
    assert src is not None and src.text is not None and src.column is not None
    assert src.text[src.column - 1 :].startswith("&board_clk")
    cache = replay.cache_for(False)
    assert cache is not None and cache.hits >= 2


def test_labels_inside_values_keep_their_positions() -> None:
    """A value label of a replayed block clashes with a node label met before it: the error names the
    same place as after a parse."""
    text = H + SOC_MARKED + "&{/cpus} { inner: clash { }; };\n"  # met first: the value label is named
    errors = []
    for _ in range(3):  # cold, then recorded, then replayed
        with pytest.raises(MemplanError, match="inner") as err:
            parse_text(text, "board.dts")
        errors.append((str(err.value), _source(err.value.source)))
    with replay.paused(), pytest.raises(MemplanError) as err:
        parse_text(text, "board.dts")
    assert errors == [(str(err.value), _source(err.value.source))] * 3
    cache = replay.cache_for(False)
    assert cache is not None and cache.hits >= 2


def test_a_block_of_the_board_file_is_kept_the_second_time_it_is_met() -> None:
    """A lint reads each board file once: a block of the parsed file itself is kept only when its
    text comes a second time (a board file that another board includes), a block of an included
    file (after a line marker naming another file) at once; the trees are the parse's each time."""
    own = H + "/ { n { p = <1>; q = \"a block of the board's own file\"; }; };\n"
    included = H + '# 1 "soc.dtsi" 1\n' + own[len(H):] + '# 2 "board.dts" 2\n'
    cache = replay.cache_for(False)
    assert cache is not None
    assert [warm(own) for _ in range(3)] == [(cold(own), 0), (cold(own), 0), (cold(own), 1)]
    assert len(cache) == 1
    replay.clear()
    assert [warm(included) for _ in range(2)] == [(cold(included), 0), (cold(included), 1)]
    # the same text is the board's own in one file and an included file's in another
    replay.clear()
    assert warm(own, "other.dts")[1] == 0
    assert warm(included)[1] == 0  # included here: kept at once
    assert warm(own, "third.dts")[1] == 1
    # the same text at another stack count is another block
    replay.clear()
    deeper = H + "/ { };\n" + own[len(H):]
    warm(own)
    assert warm(deeper)[1] == 0
    assert warm(own)[1] == 0  # the second sighting at this count: kept now
    assert warm(own)[1] == 1


def test_blocks_met_once_are_remembered_within_bounds() -> None:
    cache = replay.BlockCache()
    smap = SourceMap(" { p = <1>; };" * 4, "board.dts")
    for i in range(replay.MAX_ONCE + 5):
        assert not cache.worth_keeping(smap, 0, 14, 10 + i)
    assert not cache.worth_keeping(smap, 0, 14, 10)  # forgotten when the memory was full
    assert cache.worth_keeping(smap, 0, 14, 10)  # now met twice
    assert not cache.worth_keeping(smap, 0, 14, 10)  # kept once: met anew


def test_the_cache_is_bounded() -> None:
    cache = replay.BlockCache(limit=1000)
    blocks = []
    for i in range(40):
        text = f" {{ p = <{i}>; q = \"block number {i:04d} of forty\"; }};"
        block = replay.Block(text, (), (), 1)
        blocks.append((text, block))
        cache.add(text, 0, 4, block)
        assert cache.size <= 1000
    assert cache.find(blocks[-1][0], 0, 4) is blocks[-1][1]
    assert cache.find(blocks[0][0], 0, 4) is None  # the oldest went first
    assert cache.find(blocks[-1][0], 0, 5) is None  # parsed at another stack count
    huge = " { " + "x; " * 1000 + "};"
    cache.add(huge, 0, 4, replay.Block(huge, (), (), 1))
    assert cache.find(huge, 0, 4) is None  # longer than the whole limit: not kept


CORPUS = Path(os.environ.get("MEMPLAN_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
LINUX = CORPUS / "linux-v5.7"
FAMILY = [  # four boards of one SoC, in path order (as a lint meets them)
    "src/arm/rk3288-veyron-jaq.dts",
    "src/arm/rk3288-veyron-jerry.dts",
    "src/arm/rk3288-veyron-mickey.dts",
    "src/arm/rk3288-veyron-minnie.dts",
]


def test_real_boards_of_one_family_replay_to_their_parsed_trees() -> None:
    if not (CORPUS / "reference.sh").is_file() or shutil.which("cpp") is None:
        pytest.skip("corpus or cpp not available")
    known = {e["path"] for e in json.loads((CORPUS / "manifest.json").read_text())}
    boards = [b for b in FAMILY if b in known]
    assert len(boards) >= 3
    replayed = 0
    for board in boards:
        pre = subprocess.run([str(CORPUS / "reference.sh"), "--pp", board], capture_output=True, text=True,
                             check=True).stdout
        board_dir = LINUX / Path(board).parent
        kw = {"include_dirs": [board_dir, LINUX / "src" / "arm", LINUX / "src", LINUX / "include"],
              "base_dir": board_dir, "symbols": True}
        got, hits = warm(pre, str(LINUX / board), **kw)
        assert got == cold(pre, str(LINUX / board), **kw), board
        replayed += hits
    assert replayed > 20


def _expr_hits(truncate: bool = False) -> int:
    cache = replay.cache_for(truncate)
    assert cache is not None
    return cache.exprs.hits


EXPRS = H + """/ {
\ta = <(1 << 4) ((((0x00) & 0xFF) << 24) | (((0x02) & 0xFF) << 16) | ((59) & 0xFFFF)) (1 << 4)>;
\tb = <(1 + 2)>, <(1 + 23) (1+2)>, <(~0)>, /bits/ 16 <(1 << 4) (3 > 2 ? 5 : 6)>, lab: <(7)>;
\tc = /bits/ 64 <(1 << 40)>, <(1 << 4) 0x10>;
};
"""


def test_expressions_read_before_give_the_values_and_positions_of_a_parse() -> None:
    """The same parenthesised cells, at other offsets, after other text and next to expressions
    sharing their first characters, give the tree a parse gives."""
    first, _ = warm(EXPRS)
    assert first == cold(EXPRS)
    before = _expr_hits()
    shifted = H + "/ { pad = \"some other text first\"; };\n" + EXPRS[len(H):].replace("(1 + 23)", "(1 + 2)")
    again, _ = warm(shifted, "other.dts")
    assert again == cold(shifted, "other.dts")
    assert _expr_hits() - before >= 8
    # the expressions' values themselves (not just the same on both paths)
    tree = parse_text(EXPRS, "v.dts")
    assert tree.root.properties["a"].value == bytes.fromhex("00000010" "0002003b" "00000010")
    assert tree.root.properties["b"].value == bytes.fromhex("00000003" "00000018" "00000003" "ffffffff"
                                                            "0010" "0005" "00000007")


def test_an_expression_out_of_range_is_reported_where_a_parse_reports_it() -> None:
    text = H + "/ { a { p = <(1 << 32)>; }; };\n"
    new = DtcVersion(1, 7, 0)
    warm(H + "/ { q = <(1 << 32)>; };\n", dtc=new)
    got, _ = warm(text, dtc=new)
    assert got == cold(text, dtc=new)
    assert _expr_hits(True) == 1
    assert any(d[0] == "dtc-value-truncated" for d in got[-2])  # type: ignore[union-attr]
    warm(H + "/ { r = /bits/ 64 <(1 << 32)>; };\n")  # read where it fits, for the other dtc
    with pytest.raises(DtsError, match="out of range") as err:
        parse_text(text, "e.dts")
    assert err.value.source is not None and (err.value.source.line, err.value.source.column) == (2, 14)


def test_an_expression_read_before_still_overflows_dtc_stack_where_a_parse_does() -> None:
    """An expression read near the bottom of dtc's stack is answered from memory only where the
    stack has room for its deepest point: near the top it overflows at the same token as cold."""
    deep = "(" * 30 + "7" + ")" * 30

    def doc(depth: int) -> str:
        return H + "/ {" + " n {" * depth + f" v = <{deep}>;" + " };" * depth + " };\n"

    def fails(text: str) -> DtsSyntaxError | None:
        with replay.paused():
            try:
                parse_text(text, "deep.dts")
            except DtsSyntaxError as err:
                return err
        return None

    low, high = 1, 5000  # fits at `low`, overflows at `high`
    assert fails(doc(low)) is None and fails(doc(high)) is not None
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fails(doc(mid)) is None else (low, mid)
    expected = fails(doc(high))
    assert expected is not None and expected.source is not None
    assert deep in (expected.source.text or "")  # it overflows inside the expression
    warm(H + f"/ {{ v = <{deep}>; }};\n")  # read once at the bottom of the stack
    hits = _expr_hits()
    with pytest.raises(DtsSyntaxError) as err:
        parse_text(doc(high), "deep.dts")
    assert (err.value.message, str(err.value.source)) == (expected.message, str(expected.source))
    assert _expr_hits() == hits  # not answered from memory: no room for it there
    got, _ = warm(doc(low))
    assert got == cold(doc(low))
    assert _expr_hits() == hits + 1  # room enough one level up


def test_an_expression_read_before_leaves_dtc_stack_as_a_parse_does() -> None:
    """After an expression answered from memory, dtc's stack holds what reading it leaves: a
    deeper expression right after it fits exactly as far as it fits cold, and not one level more."""
    def doc(levels: int) -> str:
        return H + "/ { v = <(7) " + "(" * levels + "7" + ")" * levels + ">; };\n"

    def fits(text: str) -> bool:
        with replay.paused():
            try:
                parse_text(text, "deep.dts")
            except DtsSyntaxError:
                return False
        return True

    low, high = 1, 20_000
    assert fits(doc(low)) and not fits(doc(high))
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(doc(mid)) else (low, mid)
    warm(H + "/ { w = <(7)>; };\n")
    hits = _expr_hits()
    got, _ = warm(doc(low))
    assert got == cold(doc(low))
    with pytest.raises(DtsSyntaxError) as err:
        parse_text(doc(high), "deep.dts")
    with replay.paused(), pytest.raises(DtsSyntaxError) as expected:
        parse_text(doc(high), "deep.dts")
    assert str(err.value) == str(expected.value)
    assert _expr_hits() == hits + 2  # '(7)' answered from memory both times
