"""A recursive-descent parser for DTS v1 source, producing a :class:`~memplan.dts.tree.Tree`.

Grammar (as dtc accepts it)::

    file       := header+ memreserve* tree
    header     := '/dts-v1/' ';' ( '/plugin/' ';' )?
    memreserve := label* '/memreserve/' prim prim ';'
    tree       := ( '/' nodedef | ref nodedef ) top*      (a leading ref only in a /plugin/)
    top        := '/' nodedef | label? ref nodedef | '/delete-node/' ref ';'
                | '/omit-if-no-ref/' ref ';'
    nodedef    := '{' propdef* subnode* '}' ';'
    propdef    := label* ( NAME ( '=' value ( ',' value )* )? ';' | '/delete-property/' NAME ';' )
    subnode    := ( label | '/omit-if-no-ref/' )* ( NAME nodedef | '/delete-node/' NAME ';' )
    value      := label* ( STRING | ( '/bits/' NUMBER )? '<' cell* '>' | '[' ( BYTES | label )* ']' | ref
                | '/incbin/' '(' STRING ( ',' prim ',' prim )? ')' ) label*
    cell       := label | ref | prim
    prim       := NUMBER | CHAR | '(' expr ')'

The tokens (NAME, STRING, NUMBER, CHAR, BYTES, label, ref ...) are defined in
:mod:`memplan.dts.lexer`, ``expr`` in :mod:`memplan.dts.expr`. ``/include/ "file"`` may
appear between any two tokens. An array element that does not fit in N bits (unless its
bits above N are all set, as a negative value's are) is an error, as in dtc 1.6 (a warning
and truncation when following dtc 1.7: :mod:`memplan.dts.dtcversion`).

Each block is built as a draft node (:mod:`memplan.dts.draft`) and merged into the tree the
way dtc merges; then the semantic passes of :mod:`memplan.dts.semantics` resolve labels,
phandles and paths in dtc's order and build the :class:`~memplan.dts.tree.Tree`.
"""

from __future__ import annotations

import gc
import os
import re
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from memplan.argnames import argument_value
from memplan.diagnostics import diag
from memplan.dts import expr
from memplan.dts.checks import address_warnings
from memplan.dts.depthcheck import unflatten_depth_warnings
from memplan.dts.draft import (
    PATH_REF,
    PHANDLE_REF,
    DraftNode,
    DraftProp,
    LabelIndex,
    Pos,
    Ref,
    add_prop_label,
    add_ref,
    add_value_label,
    delete_node,
    find_ref,
    merge_nodes,
    pos_at,
)
from memplan.dts.dtcversion import DEFAULT_DTC, DtcVersion
from memplan.dts.includes import IncludePolicy
from memplan.dts.lexer import (
    BYTE_TOKEN,
    LABEL,
    NAME,
    SKIP,
    TOKEN,
    SourceMap,
    char_value,
    int_value,
    string_bytes,
)
from memplan.dts.replay import MIN_TEXT, BlockCache, cache_for, record, replay
from memplan.dts.semantics import Resolver, build_tree
from memplan.dts.symbols import generate_symbols
from memplan.dts.tree import Tree
from memplan.errors import DtsSyntaxError, IncludeError, LabelError, shorten
from memplan.model import Diagnostic
from memplan.source import LazySource

__all__ = ["parse_dts", "parse_text"]

#: The text before a token that dtc's lexer reads as a node or property name (after '{', ';',
#: /delete-node/, /delete-property/ or /omit-if-no-ref/, then blanks, comments and labels).
_NAME_STATE = re.compile(
    r"(?:[{;]|/delete-node/|/delete-property/|/omit-if-no-ref/)"
    r"(?:\s++|/\*(?:[^*]|\*(?!/))*+\*/|//[^\n]*+\n|[A-Za-z_][A-Za-z0-9_]*+:)*+\Z"
)

#: Blanks and comments at the end of a text (searched for in its last part only).
_TAIL = re.compile(r"(?:[ \t\r\n\f\v]++|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/|//[^\n]*+(?:\n|\Z))*+\Z")
#: What dtc's lexer takes in one match between tokens: a run of blanks, of /* */ comments, or of
#: // comments (each with its line end).
_GAP = re.compile(r"[ \t\r\n\f\v]++|(?:/\*[^*]*\*+(?:[^/*][^*]*\*+)*/)++|(?://[^\n]*+(?:\n|\Z))++")


def _last_lexeme(text: str) -> int:
    """Where dtc names an error at the end of ``text``: the start of the last thing its lexer
    matched (the last run of blanks or comments, else the last token)."""
    tail = _TAIL.search(text, max(len(text) - (1 << 16), 0))
    start = tail.start() if tail is not None else len(text)
    last = None
    while start < len(text):
        gap = _GAP.match(text, start)
        if gap is None or not gap.group():
            break
        last, start = start, gap.end()
    if last is not None:
        return last
    end = len(text)
    if end and (text[end - 1].isalnum() or text[end - 1] in ",._+*#?@-"):
        word = re.search(r"[a-zA-Z0-9,._+*#?@-]++\Z", text[max(end - 4096, 0):])
        return end - len(word.group()) if word is not None else end - 1
    return max(end - 1, 0)


_T = TypeVar("_T")

#: The most states dtc's parser stack holds: bison's ``YYMAXDEPTH`` (10,000) less one, as bison
#: gives up ("memory exhausted") when a push would fill the last entry. The initial state takes
#: one; every grammar symbol dtc has read but not yet reduced takes one more
#: (:class:`Parser` counts them in :attr:`Parser.sp`).
DTC_STACK = 9_999
_MAX_INCLUDE_DEPTH = 100
_SKIP_START = frozenset(" \t\r\n\f\v/#")
#: The common items of a block, each taken by one match at the cursor (anything else -- more
#: labels, keywords, comments, line markers, a backslash, a line end inside the item head, the
#: end of an included file -- goes the long way): blanks and line ends, then
#:
#: * ``name = < plain cells >;``, ``name = "plain string";`` or ``name = &label;`` all on one line
#:   (``end``);
#: * ``name =`` with a value of another shape (``eq``), ``name;`` (``bool``), ``name {`` (``open``);
#: * ``label: name {`` (``lopen``), ``};`` (``close``).
_CELL = r"(?:0[xX][0-9a-fA-F]{1,16}+|[1-9][0-9]{0,18}+|0)"  # at most 64 bits' worth of digits
_FAST_ITEM = re.compile(
    rf"""[ \t\r\n]*+(?:
        (?P<name>[a-zA-Z0-9,._+*\#?@-]++)[ \t]*+(?:
            (?P<eq>=)(?:[ \t]*+(?:
                <(?P<cells>[ \t]*+(?:{_CELL}(?:[ \t]++{_CELL})*+)?)[ \t]*+>
              | "(?P<str>[^"\\]*+)"
              | &(?P<pref>[A-Za-z_][A-Za-z0-9_]*+)
            )[ \t]*+(?P<end>;))?
          | (?P<bool>;)
          | (?P<open>\{{)
        )
      | (?P<label>[A-Za-z_][A-Za-z0-9_]*+):[ \t]*+(?P<lname>[a-zA-Z0-9,._+*\#?@-]++)[ \t]*+(?P<lopen>\{{)
      | \}}[ \t]*+(?P<close>;)
    )""",
    re.VERBOSE,
)
#: A string with no escapes (its bytes are its characters): the common case of a string value.
_PLAIN_STRING = re.compile(r'"([^"\\]*)"')
_U32 = 0xFFFFFFFF
#: After ``name =``: a list of ``< ... >`` (plain cells and ``&label`` references) and plain
#: strings separated by commas, over any number of lines, up to the ';' -- the values the
#: one-line forms of :data:`_FAST_ITEM` leave (phandle lists, ``reg`` tables on several lines,
#: string lists).
#: A comment, a line marker, a label, an expression or a suffixed number is left to
#: :meth:`Parser.propdata`.
_CELL_ITEM = rf"(?:{_CELL}|&[A-Za-z_][A-Za-z0-9_]*+)"
_VALUE_ITEM = rf'(?:<[ \t\r\n]*+(?:{_CELL_ITEM}(?:[ \t\r\n]++{_CELL_ITEM})*+)?[ \t\r\n]*+>|"[^"\\]*+")'
_PLAIN_LIST_VALUE = re.compile(
    rf"[ \t\r\n]*+{_VALUE_ITEM}(?:[ \t\r\n]*+,[ \t\r\n]*+{_VALUE_ITEM})*+[ \t\r\n]*+;"
)
#: In a value :data:`_PLAIN_LIST_VALUE` accepted: each ``< ... >`` (its inside) or string (its
#: characters); in a ``< ... >`` holding a reference, each cell (a reference: its label).
_LIST_GROUP = re.compile(r'<([^>]*)>|"([^"\\]*)"')
_LIST_CELL = re.compile(r"&([A-Za-z_][A-Za-z0-9_]*)|[^ \t\r\n]+")
#: What separates the cells of such a value without strings (besides blanks).
_LIST_BLANKS = str.maketrans("<>,;", "    ")
#: A parenthesised expression of numbers, operators and blanks (no comment, line marker, character
#: literal, label, reference or suffix), parentheses nested up to 6 deep: what a plain
#: ``( expr )`` cell may be (:meth:`Parser._plain_expression` decides whether it is one).
_EXPR_ATOM = r"[0-9a-fA-FxX \t\r\n+\-*%<>=!&|^~?:]|/(?![/*])"
_PAREN_CELL = rf"\((?:{_EXPR_ATOM})*+\)"
for _depth in range(5):
    _PAREN_CELL = rf"\((?:{_EXPR_ATOM}|{_PAREN_CELL})*+\)"
_EXPR_CELL_ITEM = rf"(?:{_CELL}|&[A-Za-z_][A-Za-z0-9_]*+|{_PAREN_CELL})"
_EXPR_GROUP = rf"<[ \t\r\n]*+(?:{_EXPR_CELL_ITEM}(?:[ \t\r\n]++{_EXPR_CELL_ITEM})*+)?[ \t\r\n]*+>"
#: After ``name =``: a list of ``< ... >`` with plain cells, ``&label`` references and plain
#: parenthesised expressions, separated by commas, over any number of lines, up to the ';' (the
#: values with expressions, which :data:`_PLAIN_LIST_VALUE` leaves).
_EXPR_LIST_VALUE = re.compile(
    rf"[ \t\r\n]*+{_EXPR_GROUP}(?:[ \t\r\n]*+,[ \t\r\n]*+{_EXPR_GROUP})*+[ \t\r\n]*+;"
)
#: In a value :data:`_EXPR_LIST_VALUE` accepted, after blanks, brackets and commas: a reference, the
#: '(' of an expression, a plain cell, or the ';'.
_EXPR_LIST_TOKEN = re.compile(rf"[ \t\r\n<>,]*+(?:&([A-Za-z_][A-Za-z0-9_]*+)|(\()|({_CELL})|;)")
#: A token of a plain expression (:class:`_PlainExpr`) after blanks: a number without suffix
#: (not glued to a letter, digit or '_') or an operator ('/' not starting a comment).
_EXPR_TOKEN = re.compile(
    r"[ \t\r\n\f\v]*(?:(?P<number>0[xX][0-9a-fA-F]+|[0-9]+)(?![0-9A-Za-z_])"
    r"|(?P<op><<|>>|<=|>=|==|!=|&&|\|\||[-+*%&|^~!?:<>=()]|/(?![/*])))"
)
_PLAIN_CELL = re.compile(r"[ \t\r\n\f\v]*(?:0[xX]([0-9a-fA-F]{1,16})|([1-9][0-9]{0,18}|0))(?=[ \t\r\n\f\v>])")


class _Frame:
    """One open input (the main text or an ``/include/``d file)."""

    __slots__ = ("directory", "map", "pos", "real", "text")

    def __init__(self, smap: SourceMap, directory: Path | None, real: Path | None) -> None:
        self.map = smap
        self.text = smap.text
        self.pos = 0
        self.directory = directory
        self.real = real


#: Packers of N 32-bit big-endian cells, for the usual lengths (a format is parsed once).
_PACKERS = [struct.Struct(f">{n}I").pack for n in range(64)]


_new = object.__new__
#: Sets a position's state (the slot's own setter: cheaper than ``object.__setattr__``).
_set_pos = LazySource.__dict__["_state"].__set__


def _cells32(values: list[int]) -> bytes:
    """``values`` (each within 32 bits) as big-endian cells."""
    n = len(values)
    return _PACKERS[n](*values) if n < 64 else struct.pack(f">{n}I", *values)


class _NotPlain(DtsSyntaxError):
    """What :class:`_PlainExpr` raises for anything it leaves to the long way."""

    def __init__(self) -> None:
        super().__init__("not a plain expression")


_NOT_PLAIN = _NotPlain()


class _PlainExpr:
    """An :class:`~memplan.dts.expr.ExprSource` reading an expression of plain numbers, operators,
    parentheses and blanks straight from one text: no comments, line markers, character
    literals, suffixed numbers or includes to look for between its tokens, so each costs one
    match. It counts dtc's stack as the parser does, from the parser's count; anything it does not
    take, a number dtc refuses, an error of any kind or a stack overflow raises :class:`_NotPlain`
    (the parser then reads the expression the long way, which reports it where dtc does)."""

    __slots__ = ("end", "kind", "peak", "sp", "start", "text", "token")

    def __init__(self, text: str, pos: int, sp: int) -> None:
        self.text = text
        self.end = pos  # the end of the last token consumed
        self.sp = sp
        self.peak = sp  # the deepest dtc's stack was
        self._lex()

    def _lex(self) -> None:
        m = _EXPR_TOKEN.match(self.text, self.end)
        if m is None:
            self.kind = ""
            self.token = ""
            self.start = self.end
            return
        kind = m.lastgroup
        assert kind is not None
        self.kind = kind
        self.token = m.group(kind)
        self.start = m.start(kind)

    def _take(self) -> None:
        self.end = self.start + len(self.token)
        self._lex()

    def literal(self) -> int | None:
        if self.kind != "number":
            return None
        self.grow(1, self.start)
        try:
            value = int_value(self.token)
        except DtsSyntaxError:
            raise _NOT_PLAIN from None
        self._take()
        return value

    def peek_op(self) -> tuple[str, int] | None:
        return (self.token, self.start) if self.kind == "op" else None

    def take_op(self, op: str) -> None:
        self._take()

    def expect_op(self, op: str) -> None:
        if self.kind != "op" or self.token != op:
            raise _NOT_PLAIN
        self._take()

    def unexpected(self, wanted: str) -> DtsSyntaxError:
        return _NOT_PLAIN

    def error_at(self, message: str, pos: int) -> DtsSyntaxError:
        return _NOT_PLAIN

    def grow(self, count: int, pos: int) -> None:
        self.sp += count
        if self.sp > self.peak:
            self.peak = self.sp
        if self.sp > DTC_STACK:
            raise _NOT_PLAIN

    def shrink(self, count: int) -> None:
        self.sp -= count


class Parser:
    """The recursive-descent parser; one instance parses one input."""

    def __init__(self, text: str, filename: str, include_dirs: Sequence[Path], base_dir: Path | None,
                 real: Path | None, policy: IncludePolicy | None = None, *,
                 truncate_cells: bool = False) -> None:
        self.include_dirs = list(include_dirs)
        self.truncate_cells = truncate_cells  # dtc >= 1.7: an out-of-range cell warns and keeps its low bits
        self.policy = policy if policy is not None else IncludePolicy()
        self.frame = _Frame(SourceMap(text, filename), base_dir, real)
        self.text = text
        self.pos = 0
        self.clean = -1  # an offset of self.text known to be past any blanks (skip() is a no-op there)
        self.stack: list[_Frame] = []
        self.plugin = False
        self.root: DraftNode | None = None
        self.memreserves: list[tuple[int, int, list[str], Pos]] = []
        self.fragments = 0
        #: States on dtc's parser stack at the cursor, as dtc's bison grammar (dtc-parser.y) would
        #: have them: the initial state, then one per symbol read and not yet reduced. Nesting,
        #: earlier siblings (``subnodes`` is right-recursive), labels and ``/memreserve/``
        #: entries (right-recursive too) pile up; a push past :data:`DTC_STACK` is refused
        #: where dtc refuses it.
        self.sp = 1
        self.files: list[str] = []
        self.index = LabelIndex()
        self.warnings: list[Diagnostic] = []
        #: Every node block parsed (merged-away ones too), to unlink them when the parse is done.
        self.made: list[DraftNode] = []
        #: The top-level blocks parsed before in this process, with this parser's rules
        #: (:mod:`memplan.dts.replay`); ``None``: none kept, none replayed.
        self.blocks: BlockCache | None = cache_for(truncate_cells)

    # ----------------------------------------------------------------- positions and errors

    def here(self, pos: int | None = None) -> Pos:
        return pos_at(self.frame.map, self.pos if pos is None else pos)

    def error_at(self, message: str, pos: int) -> DtsSyntaxError:
        return DtsSyntaxError(message, self.frame.map.source(pos))

    def _describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of input"
        m = TOKEN.match(self.text, self.pos) or NAME.match(self.text, self.pos)
        found = m.group(0) if m else self.text[self.pos]
        if len(found) > 40:
            found = found[:37] + "..."
        return repr(found)

    def _decode(self, decode: Callable[[str], _T], token: str, pos: int) -> _T:
        """``decode(token)``; an error it raises gets the token's position (made only then, so
        a valid token costs no position object)."""
        try:
            return decode(token)
        except DtsSyntaxError as err:
            raise self.error_at(err.message, pos) from None

    def unexpected(self, wanted: str) -> DtsSyntaxError:
        pos = self.pos if self.pos < len(self.text) else _last_lexeme(self.text)
        return self.lexed_first(self.pos) or self.error_at(
            f"expected {wanted}, found {self._describe()}", pos)

    def lexed_first(self, pos: int) -> DtsSyntaxError | None:
        """The lexical error of the token at ``pos``, if it has one.

        dtc's lexer reads a token before its parser acts on it (shifts it, fails on it, or
        overflows its stack on it), so a bad escape in a string or character literal, a
        character literal of the wrong length, or (in a value, where dtc reads numbers) an
        integer literal out of range there is reported before the syntax error or overflow."""
        m = TOKEN.match(self.text, pos)
        kind = m.lastgroup if m is not None else None
        if m is None or kind not in ("string", "char", "number"):
            return None
        if kind == "number" and _NAME_STATE.search(self.text, max(pos - 512, 0), pos):
            return None  # dtc reads a node or property name here: digits are a name
        decode = {"string": string_bytes, "char": char_value, "number": int_value}[kind]
        try:
            decode(m.group(0))
        except DtsSyntaxError as err:
            return self.error_at(err.message, pos)
        return None

    # ----------------------------------------------------------------- token level

    def skip(self) -> None:
        """Skip blanks/comments/markers; follow ``/include/`` and the end of included files.

        The offset it stops at is remembered, so the many calls at one position (labels, then
        a keyword, then a name ...) cost one comparison each."""
        if self.pos == self.clean:
            return
        while True:
            text = self.text
            pos = self.pos
            if pos < len(text) and text[pos] not in _SKIP_START:
                self.clean = pos
                return
            skipped = SKIP.match(text, self.pos)
            pos = skipped.end() if skipped is not None else self.pos
            self.pos = pos
            if pos >= len(text):
                if not self.stack:
                    return
                self.frame = self.stack.pop()
                self.text = self.frame.text
                self.pos = self.frame.pos
                self.clean = -1
                continue
            if text[pos] == "/":
                if text.startswith("/include/", pos):
                    self._include(pos)
                    continue
                if text.startswith("/*", pos):
                    raise self.error_at("unterminated comment", pos)
            self.clean = pos
            return

    def peek_char(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> tuple[str, str, int] | None:
        """The next token as ``(kind, text, offset)`` without consuming it."""
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is None:
            return None
        kind = m.lastgroup
        assert kind is not None
        return kind, m.group(kind) if kind == "label" else m.group(0), self.pos

    def accept(self, char: str) -> bool:
        """Consume the one-character token ``char`` if it is next."""
        self.skip()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def expect(self, char: str, wanted: str | None = None) -> None:
        if not self.accept(char):
            raise self.unexpected(wanted or f"'{char}'")

    def labels(self) -> list[tuple[str, int]]:
        """Zero or more ``label:`` definitions."""
        out: list[tuple[str, int]] = []
        while True:
            self.skip()
            m = LABEL.match(self.text, self.pos)
            if m is None:
                return out
            out.append((m.group(1), self.pos))
            self.pos = m.end()

    def keyword(self) -> str | None:
        """The ``/keyword/`` at the cursor (not consumed), if any."""
        self.skip()
        if not self.text.startswith("/", self.pos):
            return None
        m = TOKEN.match(self.text, self.pos)
        if m is not None and m.lastgroup == "keyword":
            return m.group(0)
        return None

    def take_keyword(self, word: str) -> bool:
        if self.keyword() == word:
            self.pos += len(word)
            return True
        return False

    def name(self, what: str) -> tuple[str, int]:
        self.skip()
        m = NAME.match(self.text, self.pos)
        if m is None:
            raise self.unexpected(what)
        start = self.pos
        self.pos = m.end()
        return m.group(1), start

    def _take(self, lead: str, kind: str) -> tuple[str, int] | None:
        """Consume the ``kind`` token at the cursor if the next character is ``lead`` and a token
        of that kind starts there; its text and offset, else ``None``."""
        self.skip()
        if not self.text.startswith(lead, self.pos):
            return None
        m = TOKEN.match(self.text, self.pos)
        if m is None or m.lastgroup != kind:
            return None
        start = self.pos
        self.pos = m.end()
        return m.group(0), start

    def ref(self) -> tuple[str, int] | None:
        """A ``&label`` / ``&{/path}`` / ``&{label/path}`` reference at the cursor (consumed), else
        ``None``; an empty ``&{}`` is refused here (dtc 1.7 lexes it and then aborts)."""
        found = self._take("&", "ref")
        if found is None:
            return None
        raw, start = found
        if raw == "&{}":
            raise self.error_at("empty reference '&{}'", start)
        return (raw[2:-1] if raw.startswith("&{") else raw[1:]), start

    def string(self) -> tuple[str, int] | None:
        """A string token at the cursor (consumed, quotes included), else ``None``."""
        found = self._take('"', "string")
        if found is None and self.text.startswith('"', self.pos):
            raise self.error_at("unterminated string", self.pos)
        return found

    # ----------------------------------------------------------------- expressions (expr.ExprSource)

    def peek_op(self) -> tuple[str, int] | None:
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is None or m.lastgroup != "op":
            return None
        return m.group(0), self.pos

    def take_op(self, op: str) -> None:
        self.pos += len(op)

    def expect_op(self, op: str) -> None:
        peeked = self.peek_op()
        if peeked is None or peeked[0] != op:
            raise self.unexpected(f"'{op}'")
        self.pos += len(op)

    def grow(self, count: int, pos: int) -> None:
        """``count`` more symbols on dtc's parser stack, the last read at offset ``pos``."""
        self.sp += count
        if self.sp > DTC_STACK:
            raise self.lexed_first(pos) or self.error_at(
                f"dtc refuses this: its parser stack overflows here (bison 'memory exhausted', "
                f"more than {DTC_STACK + 1} entries: nodes nested too deeply, or too many earlier "
                "siblings, labels or /memreserve/ entries)", pos)

    def shrink(self, count: int) -> None:
        """``count`` symbols of dtc's parser stack reduced away."""
        self.sp -= count

    def literal(self) -> int | None:
        """A number or character literal at the cursor (consumed, one symbol on dtc's stack)."""
        self.skip()
        m = TOKEN.match(self.text, self.pos)
        if m is None:
            return None
        kind = m.lastgroup
        if kind != "number" and kind != "char":
            return None
        start = self.pos
        self.grow(1, start)
        self.pos = m.end()
        return self._decode(int_value if kind == "number" else char_value, m.group(0), start)

    def primary(self) -> int:
        """``integer_prim``: a number, a character literal or ``( expr )`` (:func:`expr.primary`)."""
        return expr.primary(self)

    # ----------------------------------------------------------------- includes

    def _find_file(self, name: str, pos: int, what: str) -> Path:
        """Look ``name`` up the way dtc does for ``/include/`` and ``/incbin/``: next to the
        current file, then in the include dirs, under the include policy (confined or not)."""
        where = self.frame.map.source(pos)
        here = [str(self.frame.directory)] if self.frame.directory is not None else []
        search = [*here, *(str(d) for d in self.include_dirs)]
        found = self.policy.find(name, search, what, where)
        if found is None:
            searched = ", ".join(search) or "no include directories given"
            raise IncludeError(f"{what} file '{shorten(name)}' not found (searched: {searched})", where)
        return Path(found)

    def _include(self, pos: int) -> None:
        self.pos = pos + len("/include/")
        found = self.string()
        if found is None:
            raise self.unexpected("a file name string after /include/")
        name = self._decode(string_bytes, found[0], found[1]).decode("utf-8", errors="surrogateescape")
        path = self._find_file(name, found[1], "include")
        real = path.resolve()
        chain = [f.real for f in self.stack] + [self.frame.real]
        if real in chain:
            names = [str(p) for p in chain[chain.index(real):] if p is not None] + [str(real)]
            raise IncludeError("include cycle: " + " -> ".join(names), self.frame.map.source(found[1]))
        if len(self.stack) >= _MAX_INCLUDE_DEPTH:
            raise IncludeError("includes nested too deeply", self.frame.map.source(found[1]))
        text = self.policy.read_text(str(path), "include", self.frame.map.source(found[1]))
        self.frame.pos = self.pos
        self.stack.append(self.frame)
        self.files.append(str(path))
        self.frame = _Frame(SourceMap(text, str(path)), path.parent, real)
        self.text = text
        self.pos = 0
        self.clean = -1

    def _incbin(self, name: str, pos: int, offset: int | None, length: int | None) -> bytes:
        path = self._find_file(name, pos, "/incbin/")
        data = self.policy.read_bytes(str(path), "/incbin/", self.frame.map.source(pos))
        self.files.append(str(path))
        if offset is None:
            return data
        assert length is not None
        return data[offset : offset + length]

    # ----------------------------------------------------------------- grammar

    def parse(self) -> None:
        self.skip()
        if self.keyword() != "/dts-v1/":
            raise self.unexpected("'/dts-v1/;' at the start of the file")
        first = True
        while True:
            self._skip_top()
            header_at = self.pos
            if not self.take_keyword("/dts-v1/"):
                break
            # 'headers' is right-recursive: every header stays on dtc's stack until the last
            self.grow(1, header_at)
            self.skip()
            self.grow(1, self.pos)
            self.expect(";")
            self._skip_top()
            plugin_at = self.pos
            plugin = self.take_keyword("/plugin/")
            if plugin:
                self.grow(1, plugin_at)
                self.skip()
                self.grow(1, self.pos)
                self.expect(";")
                self.shrink(2)
            self.shrink(1)  # DT_V1 ';' [...] -> header
            if not first and plugin != self.plugin:
                raise self.error_at("header flags don't match earlier ones", header_at)
            self.plugin = self.plugin or plugin
            first = False
        self.sp = 2  # header* -> headers
        self._memreserves()
        self._devicetree()

    def _skip_top(self) -> None:
        """:meth:`skip` where a '/' may begin a node (``/ {``): dtc reads the '/' of an
        unterminated comment there as that token and stops on the character after it."""
        try:
            self.skip()
        except DtsSyntaxError as err:
            if not err.message.startswith("unterminated comment"):
                raise
            raise self.error_at(err.message, self.pos + 1) from None

    def _memreserves(self) -> None:
        # 'memreserves' is right-recursive too: each entry stays on dtc's stack until the tree
        while True:
            self._skip_top()
            start = self.pos
            sp = self.sp
            labels = self.labels()
            if not self.take_keyword("/memreserve/"):
                self.pos = start
                self.sp = sp
                self.skip()
                self.grow(1, self.pos)  # the empty 'memreserves' that ends the list
                self.sp = 3  # headers memreserves
                return
            for _label, lpos in labels:
                self.grow(1, lpos)
            self.grow(1, self.pos - len("/memreserve/"))
            at = self.here(start)
            address = self.primary()
            size = self.primary()
            self.skip()
            self.grow(1, self.pos)
            self.expect(";")
            self.sp = sp + 1  # [labels] DT_MEMRESERVE prim prim ';' -> memreserve
            self.memreserves.append((address, size, [name for name, _lpos in labels], at))

    def _devicetree(self) -> None:
        while True:
            self._skip_top()
            if self.pos >= len(self.text):
                break
            start = self.pos
            c = self.text[start]
            # after the first block, dtc's stack holds headers, memreserves and 'devicetree'
            self.sp = 3 if self.root is None else 4
            if c == "/" and self.keyword() is None:
                self.grow(1, start)
                self.pos += 1
                node = self.nodedef("", start)
                if self.root is None:
                    self.root = node
                else:
                    merge_nodes(self.root, node, self.index)
                continue
            if c == "/":
                word = self.keyword()
                if word in ("/delete-node/", "/omit-if-no-ref/") and self.root is not None:
                    self.grow(1, start)
                    self.pos += len(word or "")
                    self.skip()
                    ref_at = self.pos
                    ref = self.ref()
                    if ref is None:
                        raise self.unexpected("a &label or &{/path} reference")
                    self.grow(1, ref_at)
                    self.skip()
                    self.grow(1, self.pos)
                    self.expect(";")
                    target = self._lookup_or_fail(ref)
                    if word == "/delete-node/":
                        delete_node(target)
                    else:
                        target.omit = True
                    continue
                if word == "/memreserve/":
                    raise self.error_at("/memreserve/ must come before the first node", start)
                raise self.unexpected("'/ {', a &reference or the end of input")
            labels = self.labels()
            if len(labels) > 1:
                raise self.error_at("only one label may precede a top-level &reference", labels[1][1])
            ref = self.ref()
            if ref is None:
                raise self.unexpected("a &reference after the label" if labels else "'/ {' or a &reference")
            self.grow(len(labels) + 1, ref[1])
            node = self.nodedef("", ref[1])
            self._merge_into_ref(ref, node, labels)
        if self.root is None:
            raise self.unexpected("a root node '/ { ... };'")

    def _lookup(self, ref: str) -> DraftNode | None:
        return find_ref(self.root, ref, self.index) if self.root is not None else None

    def _lookup_or_fail(self, ref: tuple[str, int]) -> DraftNode:
        target = self._lookup(ref[0])
        if target is None:
            raise LabelError(f"label or path '{ref[0]}' not found", self.frame.map.source(ref[1]))
        return target

    def _merge_into_ref(self, ref: tuple[str, int], node: DraftNode, labels: list[tuple[str, int]]) -> None:
        name, pos = ref
        target = self._lookup(name)
        is_path = name.startswith("/")
        relative = not is_path and "/" in name
        if self.plugin and relative:
            raise LabelError(f"label-relative reference '{name}' is not supported in a plugin",
                             self.frame.map.source(pos))
        if target is not None and not (self.plugin and is_path and not labels):
            for label, lpos in labels:
                self.index.add(target, label)
                target.label_pos.setdefault(label, self.here(lpos))
            merge_nodes(target, node, self.index)
            return
        if not self.plugin or labels:
            raise LabelError(f"label or path '{name}' not found", self.frame.map.source(pos))
        self._orphan(node, name, pos)

    def _orphan(self, node: DraftNode, ref: str, pos: int) -> None:
        """A plugin's ``&ref { ... }``: a ``fragment@N`` node with the target and ``__overlay__``."""
        if self.root is None:
            self.root = DraftNode("", self.here(pos))
        frag = DraftNode(f"fragment@{self.fragments}", self.here(pos))
        self.made.append(frag)
        self.fragments += 1
        if ref.startswith("/"):
            prop = DraftProp("target-path", self.here(pos), bytearray(ref.encode() + b"\0"))
        else:
            prop = DraftProp("target", self.here(pos), bytearray(b"\xff\xff\xff\xff"))
            add_ref(prop, Ref(PHANDLE_REF, 0, ref, self.here(pos)))
        frag.props.append(prop)
        node.name = "__overlay__"
        node.parent = frag
        frag.children.append(node)
        frag.parent = self.root
        self.root.children.append(frag)

    def _open(self, name: str, start: int) -> DraftNode:
        """A new node block: its ``'{'`` (at the cursor) consumed; dtc's stack gets ``'{'`` and
        the empty ``proplist``."""
        node = DraftNode(name, self.here(start))
        self.made.append(node)
        self.skip()
        brace = self.pos
        self.expect("{", "'{'")
        self.grow(2, brace)
        return node

    def nodedef(self, name: str, start: int) -> DraftNode:
        """:meth:`block` of a top-level item (``/ { ... };``, ``&ref { ... };``), or what parsing
        its text built the last time it was parsed, built again (:mod:`memplan.dts.replay`: the
        same draft subtree, positions in this text; saves about three quarters of the parse of
        the blocks a board shares with boards parsed before it in this process)."""
        cache = self.blocks
        entry = self.pos
        text = self.text
        sp = self.sp
        found = cache.find(text, entry, sp) if cache is not None else None
        if found is not None:
            smap = self.frame.map
            node = replay(found, smap, entry, pos_at(smap, start), self.made, self.index)
            node.name = name
            self.pos = entry + len(found.text)
            self.sp = sp + found.sp_out
            return node
        frame = self.frame
        files = len(self.files)
        warnings = len(self.warnings)
        node = self.block(name, start)
        if (cache is not None and self.frame is frame and len(self.files) == files
                and len(self.warnings) == warnings and self.pos - entry >= MIN_TEXT
                and cache.worth_keeping(frame.map, entry, self.pos, sp)):
            made = record(node, text, entry, self.pos, frame.map, self.sp - sp)
            if made is not None:
                cache.add(text, entry, sp, made)
        return node

    def block(self, name: str, start: int) -> DraftNode:
        """``'{' propdef* subnode* '}' ';'`` (the cursor is before the brace), its subnodes
        included: iterative, with an explicit stack of the open blocks, so that any depth dtc
        takes is parsed whatever Python's recursion limit. The caller has counted the block's
        name (or ``/`` or reference) on dtc's stack; the block leaves one symbol more there."""
        node = self._open(name, start)
        # the open ancestors: (node, seen_child, the labels and /omit-if-no-ref/ of the child
        # being parsed, dtc's stack before that child, the ancestor's base)
        ancestors: list[tuple[DraftNode, bool, list[tuple[str, int]], bool, int, int]] = []
        base = self.sp  # dtc's stack after '{' proplist; each finished child adds one
        seen_child = False
        text_props = node.props
        fast = _FAST_ITEM.match
        while True:
            # the common shapes, taken at once, while dtc's stack has room for any of them
            m = fast(self.text, self.pos) if self.sp + 8 <= DTC_STACK else None
            if m is not None:
                kind = m.lastgroup
                if kind == "close":  # '}' ';': the block ends (as the long way below, no overflow)
                    self.pos = m.end()
                    self.sp = base - 1
                    if not ancestors:
                        return node
                    child = node
                    node, seen_child, labels, omit, sp, base = ancestors.pop()
                    self._add_child(node, child, labels, omit)
                    self.sp = sp + 1
                    seen_child = True
                    text_props = node.props
                    continue
                if kind == "open" or kind == "lopen":  # [label:] name '{'
                    if kind == "open":
                        labels = []
                        item_start = m.start("name")
                        pname = m.group("name")
                    else:
                        labels = [(m.group("label"), m.start("label"))]
                        item_start = m.start("lname")
                        pname = m.group("lname")
                    ancestors.append((node, seen_child, labels, False, self.sp, base))
                    self.sp += len(labels) + 3  # the labels, the name, '{' and the empty proplist
                    where = _new(Pos)  # pos_at(self.frame.map, item_start), written out
                    _set_pos(where, (self.frame.map, item_start))
                    node = DraftNode(pname, where)
                    self.made.append(node)
                    self.pos = m.end()
                    base = self.sp
                    seen_child = False
                    text_props = node.props
                    continue
                if not seen_child:  # a property (after a subnode: the long way refuses it)
                    item_start = m.start("name")
                    where = _new(Pos)  # pos_at(self.frame.map, item_start), written out
                    _set_pos(where, (self.frame.map, item_start))
                    if kind == "bool":
                        text_props.append(DraftProp(m.group("name"), where, b""))
                        self.pos = m.end()
                        continue
                    if kind == "end":  # one '< plain cells >' or one plain string, and the ';'
                        # the value is complete here: it is kept as bytes (no later append
                        # changes it; the tree conversion takes it without a copy)
                        cells = m.group("cells")
                        if cells is None:
                            string = m.group("str")
                            if string is None:  # '&label': a path reference (as propdata reads it)
                                prop = DraftProp(m.group("name"), where)
                                ref_pos = _new(Pos)
                                _set_pos(ref_pos, (self.frame.map, m.start("pref") - 1))
                                prop.refs = [Ref(PATH_REF, 0, m.group("pref"), ref_pos)]
                                text_props.append(prop)
                                self.pos = m.end()
                                continue
                            text_props.append(DraftProp(
                                m.group("name"), where,
                                string.encode("utf-8", errors="surrogateescape") + b"\0"))
                            self.pos = m.end()
                            continue
                        values = [int(cell, 0) for cell in cells.split()]
                        if not values or max(values) <= _U32:
                            text_props.append(DraftProp(m.group("name"), where, _cells32(values)))
                            self.pos = m.end()
                            continue
                        prop = DraftProp(m.group("name"), where)
                        text_props.append(prop)
                        # a cell over 32 bits: the long way reports it
                    else:  # 'name =' and a value of another shape
                        prop = DraftProp(m.group("name"), where)
                        text_props.append(prop)
                        self.pos = m.end()
                        listed = _PLAIN_LIST_VALUE.match(self.text, self.pos)
                        if listed is not None:
                            if self._plain_list(prop, listed.end()):
                                continue
                        else:
                            listed = _EXPR_LIST_VALUE.match(self.text, self.pos)
                            if listed is not None and self._expr_list(prop, listed.end()):
                                continue
                    equals = m.start("eq")
                    self.pos = equals + 1
                    sp = self.sp
                    self.grow(1, item_start)
                    self.grow(1, equals)
                    self.propdata(prop, equals)
                    self.skip()
                    self.grow(1, self.pos)
                    self.expect(";", "';' or ',' after the property value")
                    self.sp = sp
                    continue
            c = self.peek_char()
            if c == "}":
                close = self.pos
                self.grow(1, close)  # the empty 'subnodes' ending the right-recursive list
                self.sp = base + 1
                self.grow(1, close)
                self.pos += 1
                self.skip()
                self.grow(1, self.pos)
                self.expect(";", "';' after '}'")
                self.sp = base - 1  # name '{' proplist subnodes '}' ';' -> name nodedef
                if not ancestors:
                    return node
                child = node
                node, seen_child, labels, omit, sp, base = ancestors.pop()
                self._add_child(node, child, labels, omit)
                self.sp = sp + 1  # one more finished subnode
                seen_child = True
                text_props = node.props
                continue
            if not c:
                raise self.unexpected("'}'")
            item_start = self.pos
            sp = self.sp
            labels = self.labels()
            for _label, lpos in labels:
                self.grow(1, lpos)
            omit = False
            word = self.keyword()
            while word == "/omit-if-no-ref/":
                self.grow(1, self.pos)
                self.pos += len(word)
                omit = True
                more = self.labels()
                for _label, lpos in more:
                    self.grow(1, lpos)
                labels.extend(more)
                word = self.keyword()
            if word == "/delete-property/" and not omit:
                self.grow(1, self.pos)
                self.pos += len(word)
                pname, ppos = self.name("a property name after /delete-property/")
                self.grow(1, ppos)
                self.skip()
                self.grow(1, self.pos)
                self.expect(";")
                if seen_child:
                    raise self._misplaced(item_start)
                self.sp = sp
                prop = DraftProp(pname, self.here(ppos), deleted=True)
                for label, _lpos in labels:
                    add_prop_label(prop, label)
                text_props.append(prop)
                continue
            if word == "/delete-node/":
                self.grow(1, self.pos)
                self.pos += len(word)
                cname, cpos = self.name("a node name after /delete-node/")
                self.grow(1, cpos)
                self.skip()
                self.grow(1, self.pos)
                self.expect(";")
                self.sp = sp + 1
                marker = DraftNode(cname, self.here(cpos), deleted=True)
                self.made.append(marker)
                self._add_child(node, marker, labels, omit)
                seen_child = True
                continue
            if word is not None:
                raise self.unexpected("a property or node definition")
            pname, ppos = self.name("a property or node name, or '}'")
            c = self.peek_char()
            if c == "{":
                ancestors.append((node, seen_child, labels, omit, sp, base))
                self.grow(1, ppos)
                node = self._open(pname, ppos)
                base = self.sp
                seen_child = False
                text_props = node.props
                continue
            if omit:
                raise self.unexpected("'{' (/omit-if-no-ref/ applies to nodes)")
            prop = DraftProp(pname, self.here(ppos))
            for label, _lpos in labels:
                add_prop_label(prop, label)
            self.grow(1, ppos)
            if c == "=":
                equals = self.pos
                self.grow(1, equals)
                self.pos += 1
                self.propdata(prop, equals)
                self.skip()
                self.grow(1, self.pos)
                self.expect(";", "';' or ',' after the property value")
            elif c == ";":
                self.grow(1, self.pos)
                self.pos += 1
            else:
                raise self.unexpected("'=', ';' or '{' after the name")
            if seen_child:
                raise self._misplaced(item_start)
            self.sp = sp
            text_props.append(prop)

    def _misplaced(self, start: int) -> DtsSyntaxError:
        """A property after a subnode, refused once read (as dtc's grammar reads it first: an
        error in it, or dtc's stack overflowing there, comes first)."""
        return self.error_at("properties must precede subnodes", start)

    def _plain_list(self, prop: DraftProp, end: int) -> bool:
        """The value :data:`_PLAIN_LIST_VALUE` matched up to ``end``, appended as :meth:`propdata`
        would append it (``False``, nothing kept, for a cell over 32 bits). Without strings it
        is cells only: every word between the brackets, commas and the ';' is one (a reference's
        offset is found from the one before)."""
        text = self.text
        region = text[self.pos : end]
        if '"' in region:
            return self._plain_pieces(prop, end)
        words = region.translate(_LIST_BLANKS).split()
        refs: list[Ref] = []
        if "&" not in region:
            values = [int(word, 0) for word in words]
        else:
            values = []
            base = len(prop.value)
            smap = self.frame.map
            start = self.pos
            cursor = 0
            for word in words:
                if word[0] != "&":
                    values.append(int(word, 0))
                    continue
                cursor = region.index(word, cursor)  # the first '&' after the reference before
                refs.append(Ref(PHANDLE_REF, base + 4 * len(values), word[1:], pos_at(smap, start + cursor)))
                cursor += len(word)
                values.append(_U32)
        if values and max(values) > _U32:
            return False  # the long way reports it
        prop.value += _cells32(values)
        if refs:
            add_ref(prop, *refs)
        self.pos = end
        return True

    def _expr_list(self, prop: DraftProp, end: int) -> bool:
        """The value :data:`_EXPR_LIST_VALUE` matched up to ``end``, appended as :meth:`propdata`
        would append it: each expression read by :meth:`_plain_expression` at the stack count
        :meth:`cells` reads it at, one out of range reported as there (``False``, nothing kept,
        cursor and stack as they were, for an expression that is not plain or a plain cell over
        32 bits: the long way then reads it and reports what it has to)."""
        text = self.text
        start = self.pos
        sp = self.sp
        cell_sp = sp + 4  # the name, '=', the value's prefix and '<' (as propdata counts them)
        smap = self.frame.map
        base = len(prop.value)
        values: list[int] = []
        refs: list[Ref] = []
        token = _EXPR_LIST_TOKEN.match
        pos = start
        while True:
            m = token(text, pos)
            assert m is not None  # (the value matched _EXPR_LIST_VALUE)
            label = m.group(1)
            if label is not None:
                refs.append(Ref(PHANDLE_REF, base + 4 * len(values), label, pos_at(smap, m.start(1) - 1)))
                values.append(_U32)
                pos = m.end()
                continue
            if m.group(2) is not None:
                at = m.start(2)
                self.sp = cell_sp
                value = self._plain_expression(at)
                if value is None:
                    self.pos = start
                    self.sp = sp
                    return False
                if value > _U32 and (value | _U32) != expr.MASK64:
                    self._out_of_range(value, 32, at)  # (as cells() has it: an error, or a warning)
                values.append(value & _U32)
                pos = self.pos
                continue
            cell = m.group(3)
            if cell is None:
                break  # the ';'
            value = int(cell, 0)
            if value > _U32:
                self.pos = start
                self.sp = sp
                return False
            values.append(value)
            pos = m.end()
        self.sp = sp
        prop.value += _cells32(values)
        if refs:
            add_ref(prop, *refs)
        self.pos = end
        return True

    def _plain_pieces(self, prop: DraftProp, end: int) -> bool:
        """:meth:`_plain_list` for a value with strings: each ``< ... >`` split at its blanks,
        references found with their offsets only in those that have one."""
        value = bytearray()
        refs: list[Ref] = []
        base = len(prop.value)
        text = self.text
        smap = self.frame.map
        for m in _LIST_GROUP.finditer(text, self.pos, end):
            cells = m.group(1)
            if cells is None:
                value += m.group(2).encode("utf-8", errors="surrogateescape")
                value.append(0)
                continue
            if "&" in cells:
                values: list[int] = []
                for cell in _LIST_CELL.finditer(text, m.start(1), m.end(1)):
                    ref = cell.group(1)
                    if ref is None:
                        values.append(int(cell.group(0), 0))
                        continue
                    offset = base + len(value) + 4 * len(values)
                    refs.append(Ref(PHANDLE_REF, offset, ref, pos_at(smap, cell.start())))
                    values.append(_U32)
            else:
                values = [int(cell, 0) for cell in cells.split()]
            if values and max(values) > _U32:
                return False  # the long way reports it
            value += _cells32(values)
        prop.value += value
        if refs:
            add_ref(prop, *refs)
        self.pos = end
        return True

    def _add_child(self, parent: DraftNode, child: DraftNode, labels: list[tuple[str, int]],
                   omit: bool) -> None:
        """Append ``child`` (a definition or a ``/delete-node/`` marker) to ``parent``'s block."""
        self._label_node(child, labels)
        child.omit = omit
        child.parent = parent
        parent.children.append(child)

    def _label_node(self, node: DraftNode, labels: list[tuple[str, int]]) -> None:
        for label, lpos in reversed(labels):  # dtc adds the innermost label first
            self.index.add(node, label)
            node.label_pos.setdefault(label, self.here(lpos))

    def propdata(self, prop: DraftProp, equals: int) -> None:
        """``value (',' value)*`` appended to ``prop.value``.

        dtc's stack: the empty ``propdataprefix`` first, then each value's symbols until the
        value reduces (``propdata``); a ``,`` makes the list a prefix again."""
        value = prop.value
        assert isinstance(value, bytearray)  # a value read on the long way grows in place
        self.grow(1, equals)  # bison reduces it before reading on: dtc names the '='
        while True:
            self._value_labels(prop)
            self.skip()
            start = self.pos
            c = self.text[start : start + 1]
            if c == '"' and (plain := _PLAIN_STRING.match(self.text, start)) is not None:
                self.grow(1, start)
                self.shrink(1)
                self.pos = plain.end()
                value += plain.group(1).encode("utf-8", errors="surrogateescape")
                value.append(0)
            elif c == '"':
                self.grow(1, start)
                self.shrink(1)
                found = self.string()
                assert found is not None
                value += self._decode(string_bytes, found[0], start)
                value.append(0)
            elif c == "<":
                self.grow(1, start)
                self.pos += 1
                self.cells(prop, 32)
                self.shrink(2)  # prefix arrayprefix '>' -> propdata
            elif c == "[":
                self.grow(2, start)  # '[' and the empty bytestring
                self.pos += 1
                self.bytestring(prop)
                self.shrink(3)  # prefix '[' bytestring ']' -> propdata
            elif c == "&":
                self.grow(1, start)
                self.shrink(1)
                ref = self.ref()
                if ref is None:
                    raise self.unexpected("a property value")
                add_ref(prop, Ref(PATH_REF, len(value), ref[0], self.here(start)))
            elif c == "/":
                word = self.keyword()
                if word == "/bits/":
                    self.grow(1, start)
                    self.pos += len(word)
                    self.skip()
                    bits_at = self.pos
                    tok = self.token()
                    if tok is None or tok[0] != "number":
                        raise self.unexpected("the element size after /bits/")
                    self.grow(1, bits_at)
                    self.pos += len(tok[1])
                    bits = self._decode(int_value, tok[1], bits_at)
                    if bits not in (8, 16, 32, 64):
                        raise self.error_at("array elements must be 8, 16, 32 or 64 bits", bits_at)
                    self.skip()
                    self.grow(1, self.pos)
                    self.expect("<", "'<' after /bits/ N")
                    self.shrink(2)  # DT_BITS DT_LITERAL '<' -> arrayprefix
                    self.cells(prop, bits)
                    self.shrink(2)
                elif word == "/incbin/":
                    sp = self.sp
                    self.grow(1, start)
                    self.pos += len(word)
                    self._incbin_value(prop)
                    self.sp = sp
                else:
                    raise self.unexpected("a property value")
            else:
                raise self.unexpected("a property value (string, <cells>, [bytes] or &reference)")
            self._value_labels(prop)
            self.skip()
            if not self.text.startswith(",", self.pos):
                return
            self.grow(1, self.pos)
            self.shrink(1)  # propdata ',' -> propdataprefix
            self.pos += 1

    def _value_labels(self, prop: DraftProp) -> None:
        self.skip()
        c = self.text[self.pos : self.pos + 1]
        if not (c.isalpha() or c == "_"):
            return  # no label can start here
        for label, lpos in self.labels():
            self.grow(1, lpos)
            self.shrink(1)  # ... DT_LABEL -> propdataprefix / propdata
            add_value_label(prop, label, self.here(lpos))

    def _incbin_value(self, prop: DraftProp) -> None:
        self.skip()
        self.grow(1, self.pos)
        self.expect("(", "'(' after /incbin/")
        self.skip()
        self.grow(1, self.pos)
        found = self.string()
        if found is None:
            raise self.unexpected("a file name string")
        name = self._decode(string_bytes, found[0], found[1]).decode("utf-8", errors="surrogateescape")
        offset = length = None
        self.skip()
        if self.text.startswith(",", self.pos):
            self.grow(1, self.pos)
            self.pos += 1
            offset = self.primary()
            self.skip()
            self.grow(1, self.pos)
            self.expect(",")
            length = self.primary()
        self.skip()
        self.grow(1, self.pos)
        self.expect(")")
        prop.value += self._incbin(name, found[1], offset, length)

    def cells(self, prop: DraftProp, bits: int) -> None:
        """The inside of ``< ... >`` after the ``<``, through the ``>``."""
        values: list[int] = []
        mask = (1 << bits) - 1
        base = len(prop.value)
        plain = _PLAIN_CELL.match
        while True:
            text = self.text
            m = plain(text, self.pos)
            if m is not None and self.sp >= DTC_STACK:
                self.grow(1, m.start(1) if m.group(1) is not None else m.start(2))
            while m is not None:
                hexdigits = m.group(1)
                value = int(hexdigits, 16) if hexdigits is not None else int(m.group(2))
                if value > mask:
                    break  # the long way reports it (or keeps a negative value's bits)
                values.append(value)
                self.pos = m.end()
                m = plain(text, self.pos)
            self.skip()
            text = self.text
            pos = self.pos
            c = text[pos : pos + 1]
            if c == ">":
                self.grow(1, pos)  # the caller reduces
                self.pos += 1
                break
            if c == "&":
                self.grow(1, pos)
                self.shrink(1)
                ref = self.ref()
                if ref is None:
                    raise self.unexpected("a cell value or '>'")
                if bits != 32:
                    raise self.error_at("references are only allowed in arrays with 32-bit elements", pos)
                add_ref(prop, Ref(PHANDLE_REF, base + 4 * len(values), ref[0], self.here(pos)))
                values.append(mask)
                continue
            m = TOKEN.match(text, pos)
            kind = m.lastgroup if m is not None else None
            if kind == "label":
                assert m is not None
                self.grow(1, pos)
                self.shrink(1)
                add_value_label(prop, m.group("label"), self.here(pos))
                self.pos = m.end()
                continue
            if kind not in ("number", "char") and not (kind == "op" and c == "("):
                raise self.unexpected("a cell value or '>'")
            fast = self._plain_expression(pos) if c == "(" else None
            value = fast if fast is not None else self.primary()
            self.shrink(1)  # arrayprefix integer_prim -> arrayprefix
            if value > mask and (value | mask) != expr.MASK64:
                # dtc's rule: a value fits when its bits above N are all clear or all set
                self._out_of_range(value, bits, pos)
            values.append(value & mask)
        if bits == 32:
            prop.value += _cells32(values)
        else:
            fmt = {8: "B", 16: "H", 64: "Q"}[bits]
            prop.value += struct.pack(f">{len(values)}{fmt}", *values)

    def _plain_expression(self, pos: int) -> int | None:
        """The ``( expr )`` at offset ``pos`` read straight from the text (:class:`_PlainExpr`),
        consumed and counted on dtc's stack as :meth:`primary` does; ``None`` (nothing consumed)
        when it holds anything but numbers, operators and blanks, or would fail -- the long way
        then reads it again and reports what is wrong where dtc does."""
        sp = self.sp
        memo = self.blocks.exprs if self.blocks is not None else None
        if memo is not None:
            # read before, and dtc's stack has room for it here: the same value, end and stack
            found = memo.find(self.text, pos, DTC_STACK - sp)
            if found is not None:
                self.pos = found[0]
                self.sp = sp + found[2]
                return found[1]
        src = _PlainExpr(self.text, pos, sp)
        try:
            value = expr.primary(src)
        except _NotPlain:
            return None
        self.pos = src.end
        self.sp = src.sp
        if memo is not None:
            memo.add(self.text, pos, src.end, value, src.sp - sp, src.peak - sp)
        return value

    def _out_of_range(self, value: int, bits: int, pos: int) -> None:
        """An array element that does not fit: an error as dtc 1.6 says, or (``truncate_cells``,
        dtc 1.7 and later) a ``dtc-value-truncated`` warning, the caller keeping the low bits."""
        if not self.truncate_cells:
            follow = argument_value("dtc_version", "1.7")
            raise self.error_at(f"Value out of range for {bits}-bit array element (as dtc 1.6 says; dtc 1.7 "
                                f"and later keep the low bits with a warning: {follow})", pos)
        kept = value & ((1 << bits) - 1)
        message = f"Value 0x{value:016x} truncated to 0x{kept:0{bits // 4}x}"
        self.warnings.append(diag("dtc-value-truncated", message, self.frame.map.source(pos)))

    def bytestring(self, prop: DraftProp) -> None:
        """The inside of ``[ ... ]`` after the ``[``, through the ``]``."""
        out = prop.value
        assert isinstance(out, bytearray)  # grows in place
        while True:
            self.skip()
            m = BYTE_TOKEN.match(self.text, self.pos)
            if m is None:
                raise self.unexpected("hex byte pairs or ']'")
            kind = m.lastgroup
            self.grow(1, self.pos)
            if kind == "end":
                self.pos = m.end()
                return  # the caller reduces
            self.shrink(1)
            if kind == "label":
                add_value_label(prop, m.group("label"), self.here(self.pos))
            else:
                out += bytes.fromhex(m.group("hex"))
            self.pos = m.end()

def parse_text(text: str, filename: str = "<string>", include_dirs: Sequence[str | os.PathLike[str]] = (),
               base_dir: str | os.PathLike[str] | None = None, *, symbols: bool = False,
               include_roots: Sequence[str | os.PathLike[str]] | None = None,
               dtc: DtcVersion = DEFAULT_DTC) -> Tree:
    """Parse DTS ``text`` (already preprocessed, line markers allowed) into a :class:`Tree`.

    ``/include/`` and ``/incbin/`` are searched in ``base_dir`` (default: the directory of
    ``filename``) and then in ``include_dirs``, as dtc does (``..``, absolute paths and
    symlinks allowed). ``include_roots`` confines every read to those directories
    (:mod:`memplan.dts.includes`); text with no file location (no ``base_dir`` and a
    ``<name>`` for ``filename``) is confined to ``include_dirs`` unless ``include_roots`` says
    otherwise. ``symbols=True`` adds ``/__symbols__`` as ``dtc -@``
    does (:mod:`memplan.dts.symbols`). ``dtc`` is the dtc whose rules apply where versions
    differ (:mod:`memplan.dts.dtcversion`: an out-of-range array element is an error up to
    1.6.1, a ``dtc-value-truncated`` warning from 1.7.0).
    """
    dirs = [Path(d) for d in include_dirs]
    base: Path | None
    if base_dir is not None:
        base = Path(base_dir)
    elif filename and not filename.startswith("<"):
        base = Path(filename).parent
    else:
        base = None
    if include_roots is None and base is None:
        include_roots = list(include_dirs)  # text from nowhere reads only from its include dirs
    real = Path(filename).resolve() if filename and os.path.isfile(filename) else None
    parser = Parser(text, filename, dirs, base, real, IncludePolicy.make(include_roots),
                    truncate_cells=dtc.truncates_cells)
    # The parse allocates many small objects that all stay alive until it ends; the cyclic
    # collector would walk every live object of the process again and again meanwhile (a
    # quarter of the time in a long lint run) and find nothing. It is paused for the parse
    # and resumed as it was; garbage the parse leaves is collected afterwards as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        parser.parse()
        resolver = Resolver(parser)
        resolver.keep_labelled = symbols
        resolver.run()
        if symbols:
            parser.warnings.extend(generate_symbols(resolver))
        tree = build_tree(parser, resolver)
        _unlink(parser.made)
    finally:
        if collecting:
            gc.enable()
    tree.warnings.extend(address_warnings(tree))
    tree.warnings.extend(unflatten_depth_warnings(tree))
    tree.filename = filename
    return tree


def _unlink(nodes: list[DraftNode]) -> None:
    """Drop the parent links of the finished draft: without the child -> parent cycles, the
    draft is freed by reference counting as soon as the parse returns, instead of waiting for
    (and costing) a run of the cyclic garbage collector."""
    for node in nodes:
        node.parent = None


def parse_dts(path: str | os.PathLike[str] | None = None, *, text: str | None = None,
              filename: str | None = None, include_dirs: Sequence[str | os.PathLike[str]] = (),
              cpp: str = "auto", defines: Sequence[str] = (), symbols: bool = False,
              include_roots: Sequence[str | os.PathLike[str]] | None = None,
              dtc: DtcVersion = DEFAULT_DTC) -> Tree:
    """Parse a DTS file (through the C preprocessor) or DTS ``text`` into a :class:`Tree`.

    With ``path``, the file is preprocessed the way kbuild does (``include_dirs`` become
    ``-I`` directories and dtc ``-i`` directories). With ``text=``, the text is parsed as
    is (``filename`` names it in positions; GNU cpp line markers are honoured).
    ``cpp`` and ``defines`` are passed to :func:`memplan.dts.preprocess.preprocess`. The C
    preprocessor's warnings come first in ``tree.warnings``.
    """
    if (path is None) == (text is None):
        raise TypeError("parse_dts() takes either a path or text=, not both")
    if text is not None:
        return parse_text(text, filename or "<string>", include_dirs, symbols=symbols,
                          include_roots=include_roots, dtc=dtc)
    assert path is not None
    from memplan.dts.preprocess import preprocess

    pre = preprocess(path, include_dirs=include_dirs, cpp=cpp, defines=defines, include_roots=include_roots)
    tree = parse_text(pre.text, filename or os.fspath(path), include_dirs,
                      base_dir=Path(os.fspath(path)).parent, symbols=symbols, include_roots=include_roots,
                      dtc=dtc)
    tree.warnings[:0] = pre.diagnostics
    return tree
