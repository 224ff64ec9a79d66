"""kconfiglib reading a kernel tree: newer Kconfig syntax put into the form it knows, and its
line tokenizer spared the work of lines it has already seen.

A kernel tree's Kconfig files have about a hundred thousand lines per architecture, but only
about a quarter of them differ (``help``, ``bool``, ``default y``, ``depends on PCI``, ...).
kconfiglib turns every line into tokens anew, the biggest part of its parse. For a line whose
tokens depend on nothing but its text, :class:`TreeKconfig` keeps the token list it got for the
first copy and hands the same list out for the next ones: the same keywords, the same strings
and the same :class:`kconfiglib.Symbol` objects (kconfiglib registers a symbol the first time
its name is seen and returns that object ever after), so the parse builds exactly what
kconfiglib alone would. A line is kept only when its tokenization had no effect but the
registration of its symbols:

* no ``$`` (macros and variable references expand to what the preprocessor holds at that
  point, and may run ``$(shell,...)``);
* its first word is a keyword, or it is blank or a comment (anything else is a preprocessor
  assignment, which changes state);
* no warning was given while it was tokenized (a warning names the file and line of each copy).

Only lines read while the Kconfig files are parsed are kept; nothing in kconfiglib changes a token
list once it is made. When the parse ends, its lines stay known to the next parse of the process
(another architecture's Kconfig shares nine lines in ten with it): there a line's tokens are made
from the ones it had before, each symbol looked up anew by name in the new parse (kconfiglib's
``_lookup_sym`` and ``_lookup_const_sym``, in the order its tokenizer calls them, so the new
parse registers its symbols in the same order). :func:`forget` drops them.
"""

from __future__ import annotations

import io
import re
from typing import Any

import kconfiglib

#: A bare ``modules`` line: how kernels since 5.13 mark the MODULES symbol (kconfiglib 14.1
#: only knows the older ``option modules``).
_BARE_MODULES_RE = re.compile(r"^([ \t]+)modules[ \t]*$", re.MULTILINE)


#: Lines of the commonest shapes with one name, a sixth of a tree's distinct lines: ``config
#: NAME``, ``menuconfig NAME``, a tab and ``select NAME``, ``imply NAME``, ``depends on NAME``.
_NAME_LINE_RE = re.compile(r"(config|menuconfig|\tselect|\timply|\tdepends on) ([A-Za-z0-9_]+)\n\Z")
#: A type or ``prompt`` with a prompt and nothing else after a tab (another sixth of them).
_PROMPT_LINE_RE = re.compile(r'\t(bool|tristate|prompt|string|int|hex) "([^"\\$]*)"\n\Z')
_FIRST_TOKENS = {"config": (kconfiglib._T_CONFIG,), "menuconfig": (kconfiglib._T_MENUCONFIG,),
                 "\tselect": (kconfiglib._T_SELECT,), "\timply": (kconfiglib._T_IMPLY,),
                 "\tdepends on": (kconfiglib._T_DEPENDS, kconfiglib._T_ON)}


#: The lines of the last parse and their tokens (:class:`TreeKconfig`), at most one parse's.
_LAST_PARSE: list[dict[str, Any]] = []


def forget() -> None:
    """Drop the lines the last parse left to the next one (and with them its symbols)."""
    _LAST_PARSE.clear()


class TreeKconfig(kconfiglib.Kconfig):  # type: ignore[misc]
    """kconfiglib reading a kernel tree, with newer Kconfig syntax put into the form it knows.

    Each file is rewritten line for line, so positions in messages stay right.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._seen_lines: dict[str, Any] | None = {}
        self._last_lines = _LAST_PARSE[0] if _LAST_PARSE else {}
        try:
            super().__init__(*args, **kwargs)
            _LAST_PARSE[:] = [self._seen_lines]
        finally:
            self._seen_lines = None
            self._last_lines = {}

    def _open(self, filename: str, mode: str) -> Any:
        handle = super()._open(filename, mode)
        if "r" not in mode:
            return handle
        with handle:
            text = handle.read()
        if "modules" in text:
            text = _BARE_MODULES_RE.sub(r"\1option modules", text)
        return io.StringIO(text)

    def _next_line(self) -> bool:
        # kconfiglib's own, with the memory of _tokenize looked at first
        if self._reuse_tokens:  # type: ignore[has-type]
            self._reuse_tokens = False
            return True
        line = self._readline()
        if not line:
            return False
        self.linenr += 1
        while line.endswith("\\\n"):
            line = line[:-2] + self._readline()
            self.linenr += 1
        seen = self._seen_lines
        tokens = seen.get(line) if seen is not None and self._parsing_kconfigs and self.warn else None
        if tokens is None:
            tokens = self._tokenize(line)
        else:
            self._line = line
        self._tokens = tokens
        self._tokens_i = 1
        return True

    def _tokenize(self, s: str) -> Any:
        seen = self._seen_lines
        if seen is None or not self._parsing_kconfigs or not self.warn:
            return super()._tokenize(s)
        tokens = seen.get(s)
        if tokens is not None:
            self._line = s  # what kconfiglib's own tokenizer records for its messages
            return tokens
        tokens = self._last_lines.get(s)
        if tokens is not None:
            self._line = s
            if tokens.__class__ is tuple:  # a blank or comment line: no symbols
                return tokens
            symbol = kconfiglib.Symbol
            tokens = seen[s] = [
                token if token.__class__ is not symbol
                else self._lookup_const_sym(token.name) if token.is_constant else self._lookup_sym(token.name)
                for token in tokens]
            return tokens
        tokens = self._simple_tokens(s)
        if tokens is not None:
            seen[s] = tokens
            return tokens
        warned = len(self.warnings)
        tokens = super()._tokenize(s)
        if "$" not in s and len(self.warnings) == warned and (
                tokens[0] is not None or s.isspace() or s.lstrip().startswith("#")):
            seen[s] = tokens
        return tokens

    def _simple_tokens(self, s: str) -> list[Any] | None:
        """The tokens kconfiglib's tokenizer makes of a line of the commonest shapes (a keyword
        and one symbol name, or a type and a prompt in double quotes: no ``$``, no backslash,
        no quote, no condition), made without it; ``None`` for any other line. Its steps for
        such a line: the first word is a keyword (and ``on`` after ``depends``); a name after a
        keyword that expects no string is a symbol (``n``, ``m`` and ``y`` the constant ones),
        registered when first seen; a string after a type is the prompt, kept as text."""
        m = _NAME_LINE_RE.match(s)
        if m is not None:
            name = m.group(2)
            if kconfiglib._get_keyword(name) is not None:
                return None  # a keyword where a name should be: kconfiglib's own way
            self._line = s
            sym = self.const_syms[name] if name in kconfiglib.STR_TO_TRI else self._lookup_sym(name)
            return [*_FIRST_TOKENS[m.group(1)], sym, None]
        m = _PROMPT_LINE_RE.match(s)
        if m is not None:
            self._line = s
            return [kconfiglib._get_keyword(m.group(1)), m.group(2), None]
        return None
