"""Provenance: where a fact came from.

Every fact a front end produces carries a :class:`Source`, so that diagnostics and
``explain()`` can point at the user's own text: a file position (``board.dts:12:5``),
a command-line token (``cmdline token 'cma=64M' at 10..17``) or a ``.config`` line.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Literal, Protocol

import attrs

#: Longest user text quoted in a message; longer text is cut in the middle.
SHOWN_TEXT_LIMIT = 72

def shorten(text: str, limit: int = SHOWN_TEXT_LIMIT) -> str:
    """``text`` itself, or for a long text its start and end joined by ``...`` (``limit`` chars)."""
    if len(text) <= limit:
        return text
    tail = max(limit // 4, 1)
    head = max(limit - tail - 3, 1)
    return f"{text[:head]}...{text[-tail:]}"


SourceKind = Literal["file", "cmdline", "config", "dtb", "builtin", "observed"]


@attrs.frozen
class LineRef:
    """A line of a larger text, kept as offsets into the shared text (nothing is copied).

    Token positions of a parser refer to their line this way, so a long line costs its
    length once, not once per token; the line is cut out only when a message shows it.
    """

    buffer: str = attrs.field(repr=False, eq=False)
    start: int
    end: int

    def get(self) -> str:
        """The line's text (without its line ending)."""
        return self.buffer[self.start : self.end]

    def __reduce__(self) -> tuple[type[LineRef], tuple[str, int, int]]:
        """Pickled (or copied) as its line alone: the text it was cut from is a whole
        preprocessed board, which a diagnostic sent from a lint's worker to the process that
        renders it does not need (about 70 kB a board for one line)."""
        line = self.get()
        return LineRef, (line, 0, len(line))


@attrs.frozen
class Source:
    """Where a fact came from.

    ``kind`` says which front end produced it:

    * ``file``: a DTS/DTSI (or any text file) position; ``file``, ``line`` (1-based) and
      ``column`` (1-based) are set, ``text`` is the whole source line when known (given
      directly, or as ``lines``, a :class:`LineRef` into the parsed text, read on demand).
    * ``cmdline``: a kernel command-line token; ``text`` is the token, ``span`` its
      ``(start, end)`` character offsets in the command line, ``file`` optionally the
      origin of the command line (e.g. ``/chosen/bootargs`` or ``CONFIG_CMDLINE``).
    * ``config``: a ``.config``/defconfig line; ``file`` and ``line`` are set, ``text``
      is the line.
    * ``dtb``: a compiled blob; ``file`` and ``offset`` (byte offset in the blob).
    * ``builtin``: a kernel default (no user text), ``text`` says which.
    * ``observed``: something a running kernel reported (``/proc/iomem``, dmesg ...).
    """

    kind: SourceKind
    file: str | None = None
    line: int | None = None
    column: int | None = None
    _text: str | None = attrs.field(default=None, alias="text")
    span: tuple[int, int] | None = None
    offset: int | None = None
    lines: LineRef | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def text(self) -> str | None:
        """The token, the config line or the source line (cut out of ``lines`` when needed)."""
        if self._text is None and self.lines is not None:
            return self.lines.get()
        return self._text

    @classmethod
    def at(cls, file: str, line: int, column: int | None = None, text: str | None = None) -> Source:
        """A position in a text file."""
        return cls("file", file=file, line=line, column=column, text=text)

    @classmethod
    def token(cls, text: str, start: int, end: int, origin: str | None = None) -> Source:
        """A command-line token spanning ``[start, end)``."""
        return cls("cmdline", file=origin, text=text, span=(start, end))

    @classmethod
    def config_line(cls, file: str, line: int, text: str | None = None) -> Source:
        """A line of a kernel ``.config`` or defconfig."""
        return cls("config", file=file, line=line, text=text)

    @classmethod
    def builtin(cls, what: str) -> Source:
        """A kernel default with no user text behind it."""
        return cls("builtin", text=what)

    def __str__(self) -> str:
        if self.kind == "cmdline":
            where = f" at {self.span[0]}..{self.span[1]}" if self.span else ""
            origin = f" ({self.file})" if self.file else ""
            return f"cmdline token {shorten(self.text or '')!r}{where}{origin}"
        if self.kind == "builtin":
            return f"kernel default ({self.text})" if self.text else "kernel default"
        if self.kind == "dtb":
            pos = f"+0x{self.offset:x}" if self.offset is not None else ""
            return f"{self.file or '<dtb>'}{pos}"
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: structured fields plus ``text``, the one-line form ``str()`` gives.

        ``kind`` always; ``file``/``line``/``column`` for a file position (``snippet``: the
        source line); ``file``/``line`` for a ``.config`` line (``snippet``: the line);
        ``file``/``offset`` for a blob; ``token``, ``span`` (``[start, end)`` in the command
        line) and ``origin`` (where the command line came from) for a command-line token;
        ``detail`` for a kernel default. Fields that are not known are left out.
        """
        out: dict[str, object] = {"kind": self.kind, "text": str(self)}
        if self.kind == "cmdline":
            if self.text is not None:
                out["token"] = _window(self.text, None)
            if self.span is not None:
                out["span"] = list(self.span)
            if self.file is not None:
                out["origin"] = self.file
            return out
        for name in ("file", "line", "column", "offset"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.span is not None:
            out["span"] = list(self.span)
        text = self.text
        if text is not None:
            if self.kind in ("builtin", "observed"):
                out["detail"] = text
            else:
                out["snippet"] = _window(text, self.column)
        return out


#: Widest snippet of a source line in :meth:`Source.to_dict`.
SNIPPET_LIMIT = 240


def _window(line: str, column: int | None) -> str:
    """``line``, or for a very long line the part around ``column`` with ``...`` at the cuts."""
    if len(line) <= SNIPPET_LIMIT:
        return line
    col = max((column or 1) - 1, 0)
    lo = max(0, min(col - SNIPPET_LIMIT // 2, len(line) - SNIPPET_LIMIT))
    hi = lo + SNIPPET_LIMIT
    return ("..." if lo else "") + line[lo:hi] + ("..." if hi < len(line) else "")


class Locator(Protocol):
    """What a :class:`LazySource` needs: the position of an offset of some text."""

    def position(self, pos: int) -> tuple[str, int, int, LineRef]:
        """``(file, line, column, the line as a LineRef)`` of offset ``pos``."""


#: The fields :meth:`Source.__eq__` compares, read from any :class:`Source`.
_EQ_FIELDS = attrgetter(*(a.name for a in attrs.fields(Source) if a.eq))
_new = object.__new__
_set_state = object.__setattr__


class LazySource(Source):
    """A file position (``kind`` ``file``) kept as an offset into a text until a field is read.

    A parsed tree has one source per node and property, and nearly all of them are never shown:
    this one costs one object and no line lookup until its file, line, column or text is asked
    for (then the position is found once and kept). It equals, hashes and prints as the
    :class:`Source` it stands for; copying, pickling or :func:`attrs.evolve` gives that plain
    :class:`Source`.
    """

    __slots__ = ("_state",)
    #: ``(locator, offset)`` until first read, then ``(file, line, column, lines)``.
    _state: tuple[Locator, int] | tuple[str, int, int, LineRef]

    kind: SourceKind = "file"
    _text: str | None = None
    span: tuple[int, int] | None = None
    offset: int | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Source:  # type: ignore[misc]
        # only attrs.evolve() (and the like) call the class: they get a plain Source
        return Source(*args, **kwargs)

    @classmethod
    def at_offset(cls, where: Locator, pos: int) -> LazySource:
        """The position of offset ``pos`` as ``where`` locates it, found when first needed."""
        src: LazySource = _new(cls)
        _set_state(src, "_state", (where, pos))
        return src

    def _resolved(self) -> tuple[str, int, int, LineRef]:
        state = self._state
        if len(state) == 2:
            where, pos = state
            state = where.position(pos)
            _set_state(self, "_state", state)
        return state

    @property
    def file(self) -> str | None:
        return self._resolved()[0]

    @property
    def line(self) -> int | None:
        return self._resolved()[1]

    @property
    def column(self) -> int | None:
        return self._resolved()[2]

    @property
    def lines(self) -> LineRef | None:
        return self._resolved()[3]

    def plain(self) -> Source:
        """The same position as a plain :class:`Source`."""
        return _file_source(*self._resolved())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Source):
            return NotImplemented
        return bool(_EQ_FIELDS(self) == _EQ_FIELDS(other))

    __hash__ = Source.__hash__

    def __repr__(self) -> str:
        return repr(self.plain())

    def __reduce__(self) -> str | tuple[Any, ...]:
        return _file_source, self._resolved()


def _file_source(file: str, line: int, column: int, lines: LineRef) -> Source:
    """A plain file position (what a :class:`LazySource` becomes when copied or pickled)."""
    return Source("file", file=file, line=line, column=column, lines=lines)


def source_json(source: Source | None) -> dict[str, object] | None:
    """``source.to_dict()``, or ``None`` (the JSON ``null``) when there is no source."""
    return source.to_dict() if source is not None else None
