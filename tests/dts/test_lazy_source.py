"""A parsed tree's sources are located only when read (LazySource), yet behave as plain Sources."""

from __future__ import annotations

import copy
import pickle

import attrs
import pytest

from memplan.dts.lexer import SourceMap
from memplan.dts.parser import parse_text
from memplan.source import LazySource, LineRef, Source

TEXT = '/dts-v1/;\n# 7 "board.dtsi" 1\n/ {\n\tmodel = "m";\n\tnode@1 { reg = <1>; };\n};\n'


def _eager(smap: SourceMap, pos: int) -> Source:
    file, line, column, index = smap.locate(pos)
    return Source("file", file=file, line=line, column=column, lines=smap.line_ref(index))


def test_every_offset_locates_as_the_eager_lookup() -> None:
    smap = SourceMap(TEXT, "board.dts")
    for pos in range(len(TEXT) + 1):
        lazy = smap.source(pos)
        assert isinstance(lazy, LazySource)
        eager = _eager(smap, pos)
        assert (lazy.kind, lazy.file, lazy.line, lazy.column, lazy.text) == (
            eager.kind, eager.file, eager.line, eager.column, eager.text)
        assert lazy == eager and eager == lazy and (lazy != eager) is False and (eager != lazy) is False
        assert hash(lazy) == hash(eager)
        assert str(lazy) == str(eager) and repr(lazy) == repr(eager)
        assert lazy.to_dict() == eager.to_dict()


def test_unequal_positions_stay_unequal() -> None:
    smap = SourceMap(TEXT, "board.dts")
    assert smap.source(0) != smap.source(12)
    assert smap.source(0) != Source.at("other.dts", 1, 1)
    assert smap.source(0) != "board.dts:1:1"
    assert len({smap.source(0), _eager(smap, 0), smap.source(12)}) == 2


def test_copies_are_plain_sources() -> None:
    smap = SourceMap(TEXT, "board.dts")
    lazy = smap.source(TEXT.index("model"))
    for other in (pickle.loads(pickle.dumps(lazy)), copy.copy(lazy), copy.deepcopy(lazy),
                  attrs.evolve(lazy, file="renamed.dtsi")):
        assert type(other) is Source
    back = pickle.loads(pickle.dumps(lazy))
    assert back == lazy and back.text == "\tmodel = \"m\";" and str(back) == "board.dtsi:8:2"
    moved = attrs.evolve(lazy, file="renamed.dtsi")
    assert (moved.file, moved.line, moved.column) == ("renamed.dtsi", 8, 2)
    assert lazy.file == "board.dtsi"  # the original is unchanged


def test_tree_sources_point_at_their_text() -> None:
    tree = parse_text(TEXT, "board.dts")
    model = tree.root.properties["model"]
    assert isinstance(model.source, LazySource)
    assert str(model.source) == "board.dtsi:8:2"
    reg = tree.find("/node@1")
    assert reg is not None and str(reg.source) == "board.dtsi:9:2"
    assert str(reg.properties["reg"].source) == "board.dtsi:9:11"
    assert reg.properties["reg"].source.lines == LineRef(TEXT, TEXT.index("\tnode@1"), TEXT.index("\n};\n"))


MARKED = (
    '# 1 "a.dts"\r\n/dts-v1/;\n\n# 40 "b.dtsi" 1 3\n/ {\n\tp = <1>;\n#line 7 "c\\"d.dtsi"\n\tq;\n'
    '  # 9 "not-a-marker"\n#  12 "two\nlines"\n};\n#x\n# 3 "e.dts"'
)


@pytest.mark.parametrize("text", [TEXT, MARKED, "", "\n", "#", '# 5 "x"', "a\r\nb\rc\n\n"])
def test_counted_and_tabled_positions_agree(text: str) -> None:
    """The first positions asked are found by counting line ends, later ones in the table of
    line starts: both give what the table gives for every offset, line markers honoured."""
    counted = SourceMap(text, "t.dts")
    tabled = SourceMap(text, "t.dts")
    assert tabled.starts  # built at once
    for pos in range(len(text) + 2):
        fresh = SourceMap(text, "t.dts")  # its first position is always a counted one
        want = tabled.position(pos)
        assert fresh.position(pos) == want
        assert counted.position(pos) == want
        assert (want[0], want[1], want[2]) == counted.locate(pos)[:3]


def test_markers_are_found_as_a_search_finds_them() -> None:
    smap = SourceMap(MARKED, "m.dts")
    found = [(smap.position(pos)[0], smap.position(pos)[1]) for pos in
             (MARKED.index("/dts-v1/"), MARKED.index("/ {"), MARKED.index("\tq"), MARKED.index("  # 9"),
              MARKED.index("};"), MARKED.index("#x"))]
    assert found == [("a.dts", 1), ("b.dtsi", 40), ('c"d.dtsi', 7), ('c"d.dtsi', 8),
                     ("two\nlines", 12), ("two\nlines", 13)]


def test_a_pickled_source_carries_its_line_not_the_whole_text() -> None:
    """A lint's worker sends each board's diagnostics to the process that renders them: their
    sources keep the line shown as the snippet, and leave the preprocessed board behind."""
    text = TEXT + "/* padding */\n" * 20_000
    smap = SourceMap(text, "board.dts")
    lazy = smap.source(text.index("reg ="))
    eager = _eager(smap, text.index("reg ="))
    for src in (lazy, eager):
        assert src.lines is not None and src.lines.buffer is text
        blob = pickle.dumps(src, protocol=pickle.HIGHEST_PROTOCOL)
        assert len(blob) < 400 < len(text)
        back = pickle.loads(blob)
        assert back == src and back.text == src.text == "\tnode@1 { reg = <1>; };"
        assert back.to_dict() == src.to_dict() and str(back) == str(src)
        assert back.lines is not None and back.lines.buffer == "\tnode@1 { reg = <1>; };"
        assert copy.deepcopy(src).text == src.text
