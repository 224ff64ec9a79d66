"""Every error path of the DTS parser: the right error class, message and position (and dtc agrees)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from memplan.dts import parse_dts, parse_text
from memplan.errors import DtsError, DtsSyntaxError, IncludeError, LabelError, MemplanError

H = "/dts-v1/;\n"

# name: (text, error class, message fragment, line, column)
CASES: dict[str, tuple[str, type[DtsError], str, int, int]] = {
    "missing-semicolon": (H + "/ {\n\ta = <1>\n\tb = <2>;\n};\n", DtsSyntaxError, "expected ';'", 4, 2),
    "missing-header": ("/ { };\n", DtsSyntaxError, "/dts-v1/", 1, 1),
    "unterminated-string": (H + '/ { a = "abc; };\n', DtsSyntaxError, "unterminated string", 2, 9),
    "unterminated-comment": (H + "/ { };\n/* open\n", DtsSyntaxError, "unterminated comment", 3, 2),
    "bad-cell": (H + "/ { a = <1 GIC_SPI 2>; };\n", DtsSyntaxError, "found 'GIC_SPI'", 2, 12),
    "expression-needs-parens": (H + "/ { a = <1 + 2>; };\n", DtsSyntaxError, "a cell value or '>'", 2, 12),
    "props-after-subnodes": (H + "/ {\n\tn { };\n\tp = <1>;\n};\n", DtsSyntaxError,
                             "properties must precede subnodes", 4, 2),
    "bad-bits": (H + "/ { a = /bits/ 12 <1>; };\n", DtsSyntaxError, "8, 16, 32 or 64", 2, 16),
    "ref-in-8-bit-array": (H + "/ { a = /bits/ 8 <&l>; l: n { }; };\n", DtsSyntaxError,
                           "only allowed in arrays with 32-bit", 2, 19),
    "division-by-zero": (H + "/ { a = <(1 / 0)>; };\n", DtsSyntaxError, "division by zero", 2, 13),
    "bad-octal": (H + "/ { a = <08>; };\n", DtsSyntaxError, "bad integer literal '08'", 2, 10),
    "char-too-long": (H + "/ { a = <'ab'>; };\n", DtsSyntaxError, "has 2 characters instead of 1", 2, 10),
    "memreserve-after-node": (H + "/ { };\n/memreserve/ 0 1;\n", DtsSyntaxError,
                              "before the first node", 3, 1),
    "unknown-phandle-label": (H + "/ {\n\ta = <&nope>;\n};\n", LabelError,
                              "non-existent node or label 'nope'", 3, 7),
    "unknown-path-label": (H + "/ { a = &nope; };\n", LabelError, "'nope'", 2, 9),
    "unknown-path": (H + "/ { a = <&{/no/such}>; };\n", LabelError, "'/no/such'", 2, 10),
    "unknown-merge-label": (H + "/ { };\n&nope { };\n", LabelError, "label or path 'nope' not found", 3, 1),
    "unknown-delete-label": (H + "/ { };\n/delete-node/ &nope;\n", LabelError, "'nope' not found", 3, 15),
    "duplicate-label-nodes": (H + "/ {\n\tl: a { };\n\tl: b { };\n};\n", LabelError,
                              "duplicate label 'l' on /a and /b", 4, 2),
    "duplicate-label-node-prop": (H + "/ {\n\tl: a { };\n\tb { l: p; };\n};\n", LabelError,
                                  "duplicate label 'l'", 4, 9),
    "duplicate-value-label": (H + "/ { a = <1 l: 2 l: 3>; };\n", LabelError, "duplicate label 'l'", 2, 17),
    "duplicate-property": (H + "/ {\n\tp = <1>;\n\tp = <2>;\n};\n", DtsError,
                           "duplicate property name 'p'", 4, 2),
    "duplicate-node": (H + "/ {\n\tn { };\n\tn { };\n};\n", DtsError, "duplicate node name 'n'", 4, 2),
    "duplicate-phandle": (H + "/ { a { phandle = <1>; }; b { phandle = <1>; }; };\n", DtsError,
                          "duplicated phandle 0x1", 2, 27),
    "bad-node-char": (H + "/ { a?b { }; };\n", DtsError, "bad character '?' in node name", 2, 5),
    # dtc's string token does not let a backslash escape a line break
    "string-escaped-newline": (H + '/ { a = "x\\\ny"; };\n', DtsSyntaxError, "unterminated string", 2, 9),
    "header-flags-differ": (H + "/dts-v1/; /plugin/;\n/ { };\n", DtsSyntaxError,
                            "header flags don't match earlier ones", 2, 1),
    "two-labels-on-top-level-ref": (H + "/ { a: n { }; };\nb: c: &a { };\n", DtsSyntaxError,
                                    "only one label may precede a top-level &reference", 3, 4),
    "bad-name-property": (H + '/ { n { name = "m"; }; };\n', DtsError, '"name" property is incorrect', 2, 9),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_class_message_and_position(name: str, dtc_rejects: Callable[[str], str]) -> None:
    text, cls, fragment, line, column = CASES[name]
    with pytest.raises(cls) as info:
        parse_text(text, "bad.dts")
    err = info.value
    assert isinstance(err, MemplanError)
    assert fragment in err.message
    assert err.source is not None
    assert (err.source.file, err.source.line, err.source.column) == ("bad.dts", line, column)
    rendered = str(err).splitlines()
    assert rendered[0] == f"bad.dts:{line}:{column}: {err.message}"
    assert rendered[1].strip() == text.splitlines()[line - 1].strip()
    assert rendered[2].index("^") - 4 == column - 1
    dtc_rejects(text)  # never stricter than dtc


def test_error_position_inside_preprocessed_include() -> None:
    text = H + '# 1 "board.dts"\n# 1 "soc.dtsi" 1\n/ {\n\tx = <&missing>;\n};\n'
    with pytest.raises(LabelError) as info:
        parse_text(text, "<pp>")
    src = info.value.source
    assert src is not None and (src.file, src.line, src.column) == ("soc.dtsi", 2, 7)


def test_missing_include(tmp_path: Path) -> None:
    main = tmp_path / "m.dts"
    text = H + '/include/ "nothere.dtsi"\n/ { };\n'
    with pytest.raises(IncludeError) as info:
        parse_text(text, str(main))
    assert "include file 'nothere.dtsi' not found" in info.value.message
    assert info.value.source is not None and (info.value.source.line, info.value.source.column) == (2, 11)


def test_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.dtsi").write_text('/include/ "b.dtsi"\n')
    (tmp_path / "b.dtsi").write_text('/ { };\n/include/ "a.dtsi"\n')
    main = tmp_path / "m.dts"
    text = H + '/include/ "a.dtsi"\n'
    main.write_text(text)
    with pytest.raises(IncludeError) as info:
        parse_text(text, str(main))
    assert "include cycle" in info.value.message
    assert info.value.message.endswith("a.dtsi -> " + str((tmp_path / "b.dtsi").resolve()) + " -> "
                                       + str((tmp_path / "a.dtsi").resolve()))
    src = info.value.source
    assert src is not None and src.file == str(tmp_path / "b.dtsi") and src.line == 2


def test_include_escaping_the_roots(tmp_path: Path) -> None:
    (tmp_path / "secret.dtsi").write_text("/ { };\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    main = proj / "m.dts"
    text = H + '/include/ "../secret.dtsi"\n'
    main.write_text(text)
    assert parse_text(text, str(main)).root.name == ""  # like dtc: ".." is allowed
    with pytest.raises(IncludeError) as info:
        parse_text(text, str(main), include_roots=[proj])
    assert "outside the include roots" in info.value.message
    # the same file is fine once its directory is an include root
    assert parse_text(text, str(main), include_roots=[tmp_path]).root.name == ""


def test_symlinked_include_dir_is_not_an_escape(tmp_path: Path) -> None:
    real = tmp_path / "arch" / "dts"
    real.mkdir(parents=True)
    (real / "soc.dtsi").write_text("/ { soc; };\n")
    prefixes = tmp_path / "prefixes"
    prefixes.mkdir()
    (prefixes / "arm64").symlink_to(real)
    main = tmp_path / "board" / "m.dts"
    main.parent.mkdir()
    text = H + '/include/ "arm64/soc.dtsi"\n'
    tree = parse_text(text, str(main), include_dirs=[prefixes])
    assert "soc" in tree.root.properties


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (H + "/ { " + "a { " * 4000 + "}; " * 4000 + "};", "dtc refuses this: its parser stack overflows"),
        (H + "/ { v = <" + "(" * 10_000 + "1" + ")" * 10_000 + ">; };", "dtc refuses this: its parser stack"),
    ],
)
def test_absurd_nesting_is_a_syntax_error(text: str, message: str) -> None:
    with pytest.raises(DtsSyntaxError, match=message) as info:
        parse_text(text, "deep.dts")
    assert info.value.source is not None and info.value.source.line == 2


def test_two_thousand_levels_are_parsed_as_dtc_parses_them() -> None:
    tree = parse_text(H + "/ { " + "a { " * 2000 + "}; " * 2000 + "};", "deep.dts")
    assert sum(1 for _ in tree.walk()) == 2001
    tree = parse_text(H + "/ { v = <" + "(" * 3000 + "1" + ")" * 3000 + ">; };", "parens.dts")
    assert tree.root.properties["v"].as_u32() == 1


@pytest.mark.parametrize(("count", "expected"), [(3000, 1), (3001, 0xFFFFFFFF)])
def test_long_unary_chains_evaluate_like_dtc(count: int, expected: int) -> None:
    # dtc accepts thousands of chained unary operators; memplan must not be stricter.
    tree = parse_text(H + "/ { v = <(" + "-" * count + "1)>; };", "unary.dts")
    assert tree.root.properties["v"].as_u32() == expected


def test_missing_incbin(tmp_path: Path) -> None:
    with pytest.raises(IncludeError, match=r"/incbin/ file 'x\.bin' not found"):
        parse_text(H + '/ { a = /incbin/ ("x.bin"); };', str(tmp_path / "m.dts"))


def test_syntax_error_caret_renders_under_column() -> None:
    with pytest.raises(DtsSyntaxError) as info:
        parse_text(H + "/ {\n\tnode {\n\t\treg = <0x0 0x1000>\n\t};\n};\n", "b.dts")
    assert str(info.value).splitlines() == [
        "b.dts:5:2: expected ';' or ',' after the property value, found '}'",
        "     };",
        "     ^",
    ]


def test_incbin_escaping_the_roots(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"top secret")
    proj = tmp_path / "proj"
    proj.mkdir()
    text = H + '/ {\n\ta = /incbin/ ("../secret.bin");\n};\n'
    assert parse_text(text, str(proj / "m.dts")).root.properties["a"].value == b"top secret"
    with pytest.raises(IncludeError) as info:
        parse_text(text, str(proj / "m.dts"), include_roots=[proj])
    assert "/incbin/ '../secret.bin' is outside the include roots" in info.value.message
    assert "top secret" not in str(info.value)
    src = info.value.source
    assert src is not None and (src.line, src.column) == (3, 16)
    # allowed once its directory is an include root
    tree = parse_text(text, str(proj / "m.dts"), include_dirs=[tmp_path])
    assert tree.root.properties["a"].value == b"top secret"


def test_missing_dtc_include_names_searched_dirs(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    text = H + '/include/ "nothere.dtsi"\n/ { };\n'
    with pytest.raises(IncludeError) as info:
        parse_text(text, str(tmp_path / "m.dts"), include_dirs=[inc])
    assert info.value.message == f"include file 'nothere.dtsi' not found (searched: {tmp_path}, {inc})"


@pytest.mark.parametrize("cpp", ["system", "pcpp"])
@pytest.mark.parametrize(
    ("where", "expected"),
    [("dtsi", ("soc.dtsi", 7, 14)), ("board", ("board.dts", 9, 9))],
)
def test_error_in_cpp_included_file_points_into_it(
    tmp_path: Path, cpp: str, where: str, expected: tuple[str, int, int]
) -> None:
    if cpp == "system" and shutil.which("cpp") is None:
        pytest.skip("no system cpp")
    bad_dtsi = "\t\tbad = <1 2 ;\n" if where == "dtsi" else "\t\tok = <1 2>;\n"
    bad_board = "\tp = <1 x>;\n" if where == "board" else "\tp = <1 2>;\n"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "soc.dtsi").write_text(
        "/* soc */\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
        "\tuart: serial@1000 {\n\t\treg = <0x1000 0x100>;\n" + bad_dtsi + "\t};\n};\n"
    )
    (tmp_path / "board.dts").write_text(
        '/dts-v1/;\n#include "sub/soc.dtsi"\n#define SZ(x) \\\n\t((x) * 2)\n\n'
        '/ {\n\tmodel = "x";\n\tv = <SZ(3)>;\n' + bad_board + "};\n"
    )
    with pytest.raises(DtsSyntaxError) as info:
        parse_dts(tmp_path / "board.dts", cpp=cpp)
    src = info.value.source
    assert src is not None and src.file is not None
    assert (Path(src.file).name, src.line, src.column) == expected
    name, line, _col = expected
    original = (tmp_path / ("sub/soc.dtsi" if name == "soc.dtsi" else "board.dts")).read_text()
    # the caret line is the preprocessed line (GNU cpp turns indentation into spaces), like dtc sees it
    assert src.text is not None and src.text.split() == original.splitlines()[line - 1].split()


def test_crlf_source_positions_and_caret_line() -> None:
    with pytest.raises(DtsSyntaxError) as info:
        parse_text("/dts-v1/;\r\n/ {\r\n\tp = <1 x>;\r\n};\r\n", "crlf.dts")
    assert str(info.value).splitlines() == [
        "crlf.dts:3:9: expected a cell value or '>', found 'x'",
        "     p = <1 x>;",
        "            ^",
    ]
