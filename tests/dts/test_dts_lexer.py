"""The lexer layer: literals, escapes, and offsets mapped back through line markers."""

from __future__ import annotations

import pytest

from memplan.dts.lexer import TOKEN, SourceMap, char_value, int_value, string_bytes
from memplan.errors import DtsSyntaxError


@pytest.mark.parametrize(
    ("text", "kind", "matched"),
    [
        ("foo: bar", "label", "foo:"),
        ("&uart0 ", "ref", "&uart0"),
        ("&{/soc@0/uart@1}>", "ref", "&{/soc@0/uart@1}"),
        ("/delete-node/ x", "keyword", "/delete-node/"),
        ('"a\\"b" x', "string", '"a\\"b"'),
        ("'\\'' x", "char", "'\\''"),
        ("0x1fULL>", "number", "0x1fULL"),
        ("10UL ", "number", "10UL"),
        ("<<=", "op", "<<"),
        ("&& x", "op", "&&"),
    ],
)
def test_token_kinds(text: str, kind: str, matched: str) -> None:
    m = TOKEN.match(text)
    assert m is not None and m.lastgroup == kind and m.group(0) == matched


def test_int_values() -> None:
    assert [int_value(t) for t in ("0", "10", "010", "0x1F", "0XffUL", "18446744073709551615ULL")] == [
        0, 10, 8, 31, 255, 2**64 - 1]
    with pytest.raises(DtsSyntaxError, match="out of range"):
        int_value("18446744073709551616")
    with pytest.raises(DtsSyntaxError, match="bad integer literal '09'"):
        int_value("09")


def test_string_escapes() -> None:
    assert string_bytes(r'"\a\b\t\n\v\f\r\\\"\q"') == b'\a\b\t\n\v\f\r\\"q'
    assert string_bytes(r'"\x41\x4g\101\0\1234"') == b"A\x04gA\x00S4"
    assert string_bytes('"h\u00e9"') == "hé".encode()
    with pytest.raises(DtsSyntaxError, match="no following hex digits"):
        string_bytes(r'"\xg"')


def test_char_values() -> None:
    assert [char_value(t) for t in ("'a'", r"'\n'", r"'\x41'", r"'\012'", r"'\''", r"'\xff'", "'\\'")] == [
        0x61, 10, 0x41, 10, 0x27, 0xFF, 0x27]
    with pytest.raises(DtsSyntaxError, match="empty character literal"):
        char_value("''")


def test_source_map_without_markers() -> None:
    smap = SourceMap("ab\ncd\n\tef", "x.dts")
    src = smap.source(7)
    assert (src.file, src.line, src.column, src.text) == ("x.dts", 3, 2, "\tef")
    assert smap.locate(0) == ("x.dts", 1, 1, 0)


def test_source_map_gnu_and_pcpp_markers() -> None:
    text = (
        '# 1 "board.dts"\n'        # line 0
        "/dts-v1/;\n"              # board.dts:1
        '# 1 "dir/a \\"q\\".dtsi" 1\n'
        "a;\n"                     # a "q".dtsi:1
        "b;\n"                     # :2
        '#line 40 "c.h"\n'
        "c;\n"                     # c.h:40
        "# 7\n"                    # no file name: not a marker for dtc (a syntax error there)
        "d;\n"
    )
    smap = SourceMap(text, "<pp>")
    assert smap.locate(text.index("/dts-v1/"))[:3] == ("board.dts", 1, 1)
    assert smap.locate(text.index("b;"))[:3] == ('dir/a "q".dtsi', 2, 1)
    assert smap.locate(text.index("c;"))[:3] == ("c.h", 40, 1)
    assert smap.locate(text.index("d;"))[:3] == ("c.h", 42, 1)
