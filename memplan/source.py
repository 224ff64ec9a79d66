"""Provenance: where a fact came from.

Every fact a front end produces carries a :class:`Source`, so that diagnostics and
``explain()`` can point at the user's own text: a file position (``board.dts:12:5``),
a command-line token (``cmdline token 'cma=64M' at 10..17``) or a ``.config`` line.
"""

from __future__ import annotations

from typing import Literal

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


def source_json(source: Source | None) -> dict[str, object] | None:
    """``source.to_dict()``, or ``None`` (the JSON ``null``) when there is no source."""
    return source.to_dict() if source is not None else None
