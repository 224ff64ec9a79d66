"""Tokens of the DTS language, and the map from text offsets back to original file positions.

The parser pulls tokens lazily: at a text offset it first skips blanks, comments and
preprocessor line markers (:data:`SKIP`), then matches :data:`TOKEN`, one compiled
regular expression with a named group per token kind. Two places of the language need a
different view of the same characters, just as dtc's own lexer switches start condition:

* where a node or property name is expected, names may start with digits and contain
  ``,._+*#?@-`` (:data:`NAME`);
* inside ``[ ... ]`` only byte pairs and labels occur (:data:`BYTE_TOKEN`).

The tokens, as dtc's lexer defines them::

    SKIP     := ( blank | '//' to end of line | '/*' ... '*/' | cpp line marker )*
    LABEL    := IDENT ':'                       IDENT := [A-Za-z_] [A-Za-z0-9_]*
    REF      := '&' IDENT | '&{' [a-zA-Z0-9,._+*#?@/-]* '}'
                (inside the braces: '/path', 'label' or 'label/sub/path', as dtc 1.7 reads them)
    KEYWORD  := '/dts-v1/' | '/plugin/' | '/memreserve/' | '/include/' | '/delete-node/'
              | '/delete-property/' | '/omit-if-no-ref/' | '/bits/' | '/incbin/'
    NUMBER   := ( '0' [xX] HEXDIGIT+ | DIGIT+ ) ( 'U' | 'L' | 'UL' | 'LL' | 'ULL' )?
                (a leading '0' means octal; the value must fit in 64 bits)
    STRING   := '"' ( any character but '"' and '\\' | '\\' any character but newline )* '"'
    CHAR     := "'" ( "\\'" | any character but "'" )* "'"      (exactly one byte once decoded)
    OP       := '<<' | '>>' | '<=' | '>=' | '==' | '!=' | '&&' | '||' | one of -+*/%&|^~!?:<>=;,{}()[]
    NAME     := '\\'? [a-zA-Z0-9,._+*#?@-]+        (node and property names; the '\\' is dropped)
    BYTES    := ( HEXDIGIT HEXDIGIT )+             (inside '[ ... ]' only)

STRING is matched with possessive repeats (``"[^"\\]*+(\\.[^"\\]*+)*+"``), so the regular
expression engine keeps no backtracking state per character or escape: an 8 MB literal costs
its length in memory. A CHAR token is at most 64 characters (a valid one decodes to one byte,
so it has at most 6), which bounds the backtracking its ``'\\'`` rule needs.

Escapes in strings and character literals: ``\\a \\b \\t \\n \\v \\f \\r``, ``\\x`` with one or
two hex digits, ``\\`` with one to three octal digits (the value taken modulo 256), and a
backslash before any other character stands for that character.

:class:`SourceMap` turns an offset into a :class:`~memplan.source.Source`, honouring GNU cpp
line markers (``# 12 "file.dtsi" 1``) and ``#line 12 "file"``, so positions point at the
original files, not at the preprocessed text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate, repeat
from operator import add

from memplan.errors import DtsSyntaxError, shorten
from memplan.numbers import parse_int
from memplan.source import LazySource, LineRef, Source

__all__ = [
    "BYTE_TOKEN",
    "LABEL",
    "NAME",
    "SKIP",
    "TOKEN",
    "SourceMap",
    "char_value",
    "int_value",
    "string_bytes",
]

#: Blanks, comments and line markers between tokens (possibly empty).
SKIP = re.compile(
    r"""(?:
        [ \t\r\n\f\v]+
      | //[^\n]*
      | /\*[^*]*\*+(?:[^/*][^*]*\*+)*/
      | ^\#(?:line)?[ \t]+[0-9]+[ \t]+"(?:[^"\\]++|\\.)*+"(?:[ \t]+[0-9]+)*+
    )*""",
    re.VERBOSE | re.MULTILINE,
)

#: Every token outside names and byte strings; the group name is the token kind.
TOKEN = re.compile(
    r"""
      (?P<label>[A-Za-z_][A-Za-z0-9_]*):
    | (?P<ref>&(?:\{[a-zA-Z0-9,._+*\#?@/-]*\}|[A-Za-z_][A-Za-z0-9_]*))
    | (?P<keyword>/(?:dts-v1|plugin|memreserve|include|delete-node|delete-property|omit-if-no-ref
                     |bits|incbin)/)
    | (?P<string>"[^"\\]*+(?:\\[^\n][^"\\]*+)*+")
    | (?P<char>'(?:\\'|[^']){0,64}')
    | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]+)(?:ULL|UL|LL|U|L)?)
    | (?P<op><<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!?:<>=;,{}()\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)

#: A label definition (``name:``) where a property or node name could also start.
LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):")

#: A property or node name (a leading backslash is allowed and dropped).
NAME = re.compile(r"\\?([a-zA-Z0-9,._+*#?@-]+)")

#: Inside ``[ ... ]``: a run of hex byte pairs, a label, or the closing bracket.
BYTE_TOKEN = re.compile(r"(?P<label>[A-Za-z_][A-Za-z0-9_]*):|(?P<hex>(?:[0-9a-fA-F]{2})+)|(?P<end>\])")

#: A line marker as dtc's lexer takes it (1.6.1 and 1.7.0 alike): at the very start of a line,
#: ``#`` or ``#line``, blanks, the line number, blanks, a file name string, then any number of
#: blank-separated numeric flags. The rest of the line is read as ordinary tokens (and stands
#: on the line before the one the marker names); anything else (no file name, a name not set
#: off by a blank, leading blanks) is not a marker, and dtc rejects it as a syntax error.
_LINEMARKER = re.compile(
    r'^\#(?:line)?[ \t]+([0-9]+)[ \t]+"((?:[^"\\]++|\\.)*+)"(?:[ \t]+[0-9]+)*+', re.MULTILINE
)
_MARKER_ESCAPE = re.compile(r"\\(.)")
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{0,2}|[0-7]{1,3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {
    b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13,
}
_U64 = (1 << 64) - 1
_new = object.__new__
_set = object.__setattr__


class SourceMap:
    """Offsets in one text -> original ``file:line:column`` (line markers honoured)."""

    __slots__ = ("_asked", "_marker_at", "_marker_offsets", "_markers", "_starts", "filename", "text")

    #: Positions found by counting line ends before the line-start table is built (a board's
    #: lint asks a handful; a tree shown in full asks one per node and property).
    COUNTED = 16

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self._starts: list[int] | None = None
        self._asked = 0
        self._marker_at: list[int] = []
        self._markers: list[tuple[str, int]] = []
        self._marker_offsets: list[int] = []  # where each marker ends in the text
        if "#" in text:
            self._find_markers()

    @property
    def starts(self) -> list[int]:
        """The offset of each line (0, then the offset after each '\\n'), built on first use."""
        if self._starts is None:
            # running sums of the line lengths plus one (all in C)
            lengths = map(len, self.text.split("\n")[:-1])
            self._starts = list(accumulate(map(add, lengths, repeat(1)), initial=0))
        return self._starts

    def _find_markers(self) -> None:
        """Every line marker, in order: each line starting with '#' is tried (as a search for
        ``^#`` would try it), and the line numbers are counted between markers."""
        text = self.text
        at = 0 if text.startswith("#") else -1
        search = counted = index = 0  # index: the line ends before offset `counted`
        while True:
            if at < 0:
                found = text.find("\n#", search)
                if found < 0:
                    return
                at = found + 1
            m = _LINEMARKER.match(text, at)
            search, at = (at, -1) if m is None else (m.end(), -1)
            if m is None:
                continue
            index += text.count("\n", counted, m.start())
            counted = m.start()
            # from the end of the marker on, this is line N - 1 of the named file (dtc sets the
            # position there; the line end that follows makes it line N)
            self._marker_at.append(index + text.count("\n", counted, m.end()))
            name = _MARKER_ESCAPE.sub(r"\1", m.group(2))
            self._markers.append((name, self._marker_line(m, index) - 1))
            self._marker_offsets.append(m.end())

    def _marker_line(self, m: re.Match[str], line_index: int) -> int:
        """The line number a marker sets, read with the bounded :func:`parse_int` (a number of
        up to nine digits is within every bound: read directly)."""
        digits = m.group(1)
        if len(digits) <= 9:
            return int(digits)
        where = Source("file", file=self.filename, line=line_index + 1,
                       column=m.start(1) - self.starts[line_index] + 1, lines=self.line_ref(line_index))
        return parse_int(m.group(1), error=DtsSyntaxError, source=where, what="line marker number")

    def in_main_file(self, pos: int) -> bool:
        """Whether offset ``pos`` stands in the text's own file (:attr:`filename`: before any line
        marker, or after one that names it), not in a file a marker says was included."""
        k = bisect_right(self._marker_offsets, pos) - 1
        return k < 0 or self._markers[k][0] == self.filename

    def locate(self, pos: int) -> tuple[str, int, int, int]:
        """``(file, line, column, physical line index)`` of offset ``pos``."""
        index = bisect_right(self.starts, pos) - 1
        column = pos - self.starts[index] + 1
        k = bisect_right(self._marker_at, index) - 1
        if k < 0:
            return self.filename, index + 1, column, index
        name, base = self._markers[k]
        return name, base + index - self._marker_at[k], column, index

    def line_ref(self, index: int) -> LineRef:
        """The physical line ``index`` (0-based) as offsets, without its line ending (LF or CRLF)."""
        start = self.starts[index]
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.text)
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return LineRef(self.text, start, end)

    def line_text(self, index: int) -> str:
        """The physical line ``index`` (0-based) of the text, without its line ending (LF or CRLF)."""
        return self.line_ref(index).get()

    def position(self, pos: int) -> tuple[str, int, int, LineRef]:
        """``(file, line, column, the physical line as a LineRef)`` of offset ``pos``.

        (:meth:`locate` and :meth:`line_ref` written out; the first :data:`COUNTED` positions
        are found by counting line ends, later ones in the table of line starts.)
        """
        text = self.text
        starts = self._starts
        if starts is None and self._asked >= self.COUNTED:
            starts = self.starts
        if starts is None:
            self._asked += 1
            start = text.rfind("\n", 0, pos) + 1
            index = text.count("\n", 0, start)
            end = text.find("\n", start)
            if end < 0:
                end = len(text)
        else:
            index = bisect_right(starts, pos) - 1
            start = starts[index]
            end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
        column = pos - start + 1
        k = bisect_right(self._marker_at, index) - 1
        if k < 0:
            name, line = self.filename, index + 1
        else:
            name, base = self._markers[k]
            line = base + index - self._marker_at[k]
        if end > start and text[end - 1] == "\r":
            end -= 1
        return name, line, column, LineRef(text, start, end)

    def source(self, pos: int) -> Source:
        """The :class:`Source` of offset ``pos``: a :class:`~memplan.source.LazySource`, located
        (and its line cut out) only when it is read -- a tree asks this once per node and
        property, and shows few of them."""
        src: LazySource = _new(LazySource)  # LazySource.at_offset(self, pos), written out
        _set(src, "_state", (self, pos))
        return src


def _syntax(message: str, where: Source | None) -> DtsSyntaxError:
    return DtsSyntaxError(message, where)


def string_bytes(token: str, where: Source | None = None) -> bytes:
    """The bytes of a string token (quotes included in ``token``) without the final NUL.

    Escapes are decoded into one growing buffer (no list of pieces), so memory stays linear
    in the token even when it is millions of escapes long.
    """
    body = token[1:-1].encode("utf-8", errors="surrogateescape")
    if b"\\" not in body:
        return body
    out = bytearray()
    last = 0
    for m in _ESCAPE.finditer(body):
        out += body[last : m.start()]
        last = m.end()
        esc = m.group(1)
        first = esc[:1]
        if first == b"x":
            if len(esc) == 1:
                raise _syntax("\\x used with no following hex digits", where)
            out.append(int(esc[1:], 16))
        elif first.isdigit() and first not in b"89":
            out.append(int(esc, 8) & 0xFF)
        else:
            simple = _SIMPLE_ESCAPES.get(first)
            if simple is not None:
                out.append(simple)
            else:
                out += esc
    out += body[last:]
    return bytes(out)


def char_value(token: str, where: Source | None = None) -> int:
    """The value of a character literal token (``'a'``, ``'\\n'``, ``'\\x41'``, ``'\\012'``).

    As in dtc, the value is the first byte taken as unsigned, and a lone backslash at the
    end escapes the closing quote (``'\\'`` is ``0x27``).
    """
    body = token[1:-1]
    if (len(body) - len(body.rstrip("\\"))) % 2:
        body += "'"
    raw = string_bytes(f"'{body}'", where)
    if not raw:
        raise _syntax("empty character literal", where)
    if len(raw) != 1:
        raise _syntax(f"character literal {shorten(token)} has {len(raw)} characters instead of 1", where)
    return raw[0]


def int_value(token: str, where: Source | None = None) -> int:
    """The value of an integer literal (C rules: ``0x`` hex, leading ``0`` octal, U/L suffixes)."""
    digits = token.rstrip("UL")
    if digits[:2] in ("0x", "0X"):
        base, body = 16, digits[2:]
    elif len(digits) > 1 and digits[0] == "0":
        base, body = 8, digits[1:]
    else:
        base, body = 10, digits
    body = body.lstrip("0") or "0"
    if len(body) > 24:  # more than 64 bits in any base: refused before any conversion
        raise _syntax(f"integer literal '{shorten(token)}' out of range", where)
    try:
        value = int(body, base)
    except ValueError:
        raise _syntax(f"bad integer literal '{shorten(token)}'", where) from None
    if value > _U64:
        raise _syntax(f"integer literal '{shorten(token)}' out of range", where)
    return value
