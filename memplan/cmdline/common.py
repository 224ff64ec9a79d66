"""Shared helpers of the parameter parsers: diagnostics sink, ignored parameters, value reading."""

from __future__ import annotations

from typing import TypeVar

import attrs

from memplan.cmdline.tokenize import Token
from memplan.diagnostics import diag
from memplan.errors import CmdlineError
from memplan.model import Diagnostic, Severity
from memplan.source import Source, shorten
from memplan.units import U64_MAX, memparse, strtoull

_DIGITS = frozenset("0123456789")


@attrs.frozen
class IgnoredParam:
    """A parameter memplan recognises but the kernel will not act on (e.g. ``memmap=`` on arm64)."""

    name: str
    reason: str
    source: Source


@attrs.define
class Sink:
    """Collects diagnostics and ignored parameters while parsing one command line."""

    diagnostics: list[Diagnostic] = attrs.Factory(list)
    ignored: list[IgnoredParam] = attrs.Factory(list)

    def add(self, severity: Severity, code: str, message: str, token: Token) -> None:
        """Record a diagnostic about ``token`` (its source points at the token's span)."""
        self.diagnostics.append(diag(code, message, token.source, token.name, severity))

    def ignore(self, token: Token, reason: str, severity: Severity = "info") -> None:
        """Record ``token`` as ignored with ``reason`` and a ``cmdline-ignored`` diagnostic."""
        self.ignored.append(IgnoredParam(token.name, reason, token.source))
        self.add(severity, "cmdline-ignored", f"{token.shown} is ignored: {reason}", token)


def no_value(token: Token, sink: Sink, code: str) -> bool:
    """True (after a ``code`` warning) when ``token`` has no ``=value`` at all."""
    if token.value is not None:
        return False
    sink.add("warning", code, f"{token.shown} has no value; ignored", token)
    return True


def note_trailing(token: Token, index: int, sink: Sink, code: str) -> None:
    """Report (``info``, ``code``) what follows ``index`` in the value when the kernel ignores it."""
    text = token.value or ""
    if index < len(text):
        sink.add(
            "info",
            code,
            f"{token.shown}: the kernel ignores the trailing {show(text, index)} {where(token, index)}",
            token,
        )


@attrs.frozen
class SizeParam:
    """A parameter whose whole value is one memparse size; ``source`` is its (last) token."""

    size: int
    source: Source


SizeParamT = TypeVar("SizeParamT", bound=SizeParam)


def parse_size_param(token: Token, sink: Sink, code: str, kind: type[SizeParamT]) -> SizeParamT | None:
    """Read ``token`` as a :class:`SizeParam` subclass ``kind`` (``cma_pernuma=``, ``coherent_pool=``).

    ``None`` when there is no value (warning ``<code>-invalid``); characters after the size
    are reported as ``<code>-trailing``.
    """
    if no_value(token, sink, f"{code}-invalid"):
        return None
    size, end = read_size(token, 0)
    note_trailing(token, end, sink, f"{code}-trailing")
    return kind(size, token.source)


def read_size(token: Token, index: int) -> tuple[int, int]:
    """memparse ``token.value`` at ``index``; overflow raises CmdlineError naming the token."""
    return memparse(token.value or "", index, source=token.source)


def read_int(token: Token, index: int) -> tuple[int, int]:
    """``simple_strtoull(.., 0)`` on ``token.value`` at ``index`` (base auto-detect)."""
    return strtoull(token.value or "", index, source=token.source)


def read_decimal(text: str, index: int, source: Source | None = None) -> tuple[int | None, int]:
    """A plain decimal number (what ``sscanf("%lu")`` reads, without blanks/sign); ``None`` if absent.

    More than 64 bits raises :class:`CmdlineError` (with ``source``).
    """
    j = index
    while j < len(text) and text[j] in _DIGITS:
        j += 1
    if j == index:
        return None, index
    stripped = text[index:j].lstrip("0") or "0"
    if len(stripped) > 20 or int(stripped) > U64_MAX:
        raise CmdlineError(f"number {text[index : min(j, index + 30)]!r}... does not fit in 64 bits", source)
    return int(stripped), j


def where(token: Token, index: int) -> str:
    """Words for a position inside the token's value: ``"at offset 12"`` (command-line index)."""
    return f"at offset {token.at(index)}"


def show(text: str, index: int) -> str:
    """The rest of ``text`` from ``index`` for messages, or ``end of value``."""
    return repr(shorten(text[index:])) if index < len(text) else "end of value"
