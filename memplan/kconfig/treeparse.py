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

Only lines read while the Kconfig files are parsed are kept, and the memory is dropped when the
parse ends; nothing in kconfiglib changes a token list once it is made.
"""

from __future__ import annotations

import io
import re
from typing import Any

import kconfiglib

#: A bare ``modules`` line: how kernels since 5.13 mark the MODULES symbol (kconfiglib 14.1
#: only knows the older ``option modules``).
_BARE_MODULES_RE = re.compile(r"^([ \t]+)modules[ \t]*$", re.MULTILINE)


class TreeKconfig(kconfiglib.Kconfig):  # type: ignore[misc]
    """kconfiglib reading a kernel tree, with newer Kconfig syntax put into the form it knows.

    Each file is rewritten line for line, so positions in messages stay right.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._seen_lines: dict[str, Any] | None = {}
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._seen_lines = None

    def _open(self, filename: str, mode: str) -> Any:
        handle = super()._open(filename, mode)
        if "r" not in mode:
            return handle
        with handle:
            text = handle.read()
        if "modules" in text:
            text = _BARE_MODULES_RE.sub(r"\1option modules", text)
        return io.StringIO(text)

    def _tokenize(self, s: str) -> Any:
        seen = self._seen_lines
        if seen is None or not self._parsing_kconfigs or not self.warn:
            return super()._tokenize(s)
        tokens = seen.get(s)
        if tokens is not None:
            self._line = s  # what kconfiglib's own tokenizer records for its messages
            return tokens
        warned = len(self.warnings)
        tokens = super()._tokenize(s)
        if "$" not in s and len(self.warnings) == warned and (
                tokens[0] is not None or s.isspace() or s.lstrip().startswith("#")):
            seen[s] = tokens
        return tokens
