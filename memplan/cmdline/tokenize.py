"""Split a kernel command line into parameters the way the kernel does.

Rules (kernel's ``next_arg()`` in lib/cmdline.c and ``parse_args()`` in kernel/params.c):

* parameters are separated by whitespace (space, tab, newline, CR, VT, FF) outside double quotes;
  leading and trailing blanks are skipped;
* a double quote toggles "inside quotes", so ``a="b c"`` is one parameter;
* the first ``=`` after the first character splits ``name`` from ``value`` (an ``=`` as the very
  first character does not count); without one the parameter has no value (``None``);
* one leading quote of the value is dropped, and with it one trailing quote of the parameter;
  a parameter that starts with a quote (``"a=b c"``) loses that quote and one trailing quote;
  quotes in the middle stay;
* a bare ``--`` (no value) ends the kernel's parameters; the rest is handed to init;
* the kernel string ends at a NUL character.

Each :class:`Token` keeps its character span in the original string, so every fact parsed
from it can point back at the user's text.
"""

from __future__ import annotations

import attrs

from memplan.source import Source, shorten

#: Characters the kernel's ``isspace()`` accepts (ASCII).
WHITESPACE = frozenset(" \t\n\r\v\f")


@attrs.frozen
class Token:
    """One parameter as the kernel sees it.

    ``start``/``end`` span the raw parameter in the command line (quotes included);
    ``value_start`` is the index in the command line of ``value[0]`` (the value, after the
    kernel strips its quotes, is always a contiguous slice of the command line).
    ``origin`` names the part of the effective command line the token came from.
    """

    name: str
    value: str | None
    start: int
    end: int
    value_start: int
    raw: str
    origin: str | None = None
    quoted: bool = False

    @property
    def source(self) -> Source:
        """The token's provenance: its raw text and span."""
        return Source.token(self.raw, self.start, self.end, self.origin)

    @property
    def key(self) -> str:
        """The name as the kernel compares it (``-`` and ``_`` are equal)."""
        return param_key(self.name)

    @property
    def shown(self) -> str:
        """The raw parameter quoted for a message, shortened when it is very long."""
        return repr(shorten(self.raw))

    def at(self, index: int) -> int:
        """Command-line index of ``value[index]``."""
        return self.value_start + index

    def __str__(self) -> str:
        return self.raw


def param_key(name: str) -> str:
    """Normalise a parameter name for comparison: the kernel treats ``-`` and ``_`` alike."""
    return name.replace("-", "_")


@attrs.frozen
class Tokenized:
    """The result of :func:`tokenize`.

    ``tokens``: the kernel parameters, in order. ``terminator``: the bare ``--`` token when
    there is one; ``init_args``: what follows it (handed to init, never a kernel parameter).
    ``length``: the length the kernel sees (up to the first NUL). ``unbalanced_quote``: the
    index of a quote that was never closed (the kernel then runs to the end of the string).
    """

    text: str
    tokens: tuple[Token, ...]
    terminator: Token | None = None
    init_args: tuple[Token, ...] = ()
    length: int = 0
    unbalanced_quote: int | None = None


def _skip_spaces(text: str, i: int, n: int) -> int:
    while i < n and text[i] in WHITESPACE:
        i += 1
    return i


def next_token(text: str, i: int, n: int, origin_at: OriginLookup | None = None) -> tuple[Token, int, bool]:
    """Read one parameter starting at ``text[i]`` (not a blank); returns ``(token, next_index,
    closed_quotes)``. ``closed_quotes`` is False when the token ends inside open quotes."""
    start = i
    body = i
    in_quote = False
    quoted = False
    if text[i] == '"':
        body = i + 1
        in_quote = True
        quoted = True
    j = body
    equals = -1
    while j < n:
        ch = text[j]
        if ch in WHITESPACE and not in_quote:
            break
        if equals < 0 and ch == "=" and j != body:
            equals = j
        if ch == '"':
            in_quote = not in_quote
        j += 1
    end = j  # raw token is text[start:end]
    stop = end  # exclusive end after stripping a trailing quote
    value: str | None
    if equals < 0:
        value_start = end
        if quoted and stop > body and text[stop - 1] == '"':
            stop -= 1
        name_end = stop
        value = None
    else:
        name_end = equals
        value_start = equals + 1
        stripped_trailing = False
        if value_start < n and text[value_start] == '"' and value_start < end:
            value_start += 1
            if text[end - 1] == '"':
                stop = end - 1
                stripped_trailing = True
        if quoted and not stripped_trailing and text[end - 1] == '"' and end - 1 >= value_start:
            stop = end - 1
        value = text[value_start : max(stop, value_start)]
    origin = origin_at(start) if origin_at is not None else None
    token = Token(
        name=text[body:name_end],
        value=value,
        start=start,
        end=end,
        value_start=value_start,
        raw=text[start:end],
        origin=origin,
        quoted=quoted,
    )
    return token, end, not in_quote


class OriginLookup:
    """Maps a command-line index to the name of the part it came from (see ``effective``)."""

    def __init__(self, spans: tuple[tuple[int, int, str], ...], default: str | None) -> None:
        self._spans = spans
        self._default = default

    def __call__(self, index: int) -> str | None:
        for start, end, name in self._spans:
            if start <= index < end:
                return name
        return self._default


def tokenize(text: str, origin: str | OriginLookup | None = None) -> Tokenized:
    """Split ``text`` into kernel parameters (see the module docstring for the rules).

    ``origin`` is a name for every token (e.g. ``"/chosen/bootargs"``) or an
    :class:`OriginLookup` mapping spans to names. Never raises on any string.
    """
    lookup = origin if isinstance(origin, OriginLookup) else OriginLookup((), origin)
    nul = text.find("\0")
    n = len(text) if nul < 0 else nul
    tokens: list[Token] = []
    init_args: list[Token] = []
    terminator: Token | None = None
    unbalanced: int | None = None
    i = _skip_spaces(text, 0, n)
    while i < n:
        token, j, closed = next_token(text, i, n, lookup)
        if not closed and unbalanced is None:
            unbalanced = i
        if terminator is None and token.value is None and token.name == "--":
            terminator = token
        elif terminator is None:
            tokens.append(token)
        else:
            init_args.append(token)
        i = _skip_spaces(text, j, n)
    return Tokenized(
        text=text,
        tokens=tuple(tokens),
        terminator=terminator,
        init_args=tuple(init_args),
        length=n,
        unbalanced_quote=unbalanced,
    )
