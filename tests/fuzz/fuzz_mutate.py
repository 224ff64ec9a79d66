"""A Hypothesis strategy that mutates seed inputs: the structure-aware half of a fuzzer.

Each example takes a seed and applies a few edits: insert a token that matters to some front
end (braces, directives, escapes, long digit runs, NUL and non-UTF-8 stand-ins), delete or
duplicate a slice, insert arbitrary text, or replace a character. Hypothesis shrinks a failing
example to a small one, which then goes into ``regressions/<target>/``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import strategies as st

TOKENS: tuple[str, ...] = (
    "{", "}", ";", "<", ">", "(", ")", "[", "]", "&", "=", ",", ":", "@", "'", '"', "\\", "/",
    "/include/ ", '/include/ "\\x"', '/incbin/("\\x")', "/delete-node/ ", "/bits/ 64 ", "/memreserve/ ",
    "#include ", "#if", "#ifdef", "#ifndef", "#undef", "#define", "#define A( , )", "#pragma", "#elif",
    "#line 99999999999999999999999 \"x\"\n", "# 1 \"f\" 1\n", "/*", "*/", "//",
    "0x", "9" * 50, "0" * 30, "-", "--5", "1_000", "\u0665", "\x00", "\udcff", "\n", "\t",
    "CONFIG_", "=y", "=0x7fffffffffffffff", "# CONFIG_X is not set", "CONFIG_PAGE_SHIFT=100000",
    "cma=", "memmap=", "@", "$", "mem=", "crashkernel=", " : ", "  ", "kB", "Linux version ",
    "ffffffffffffffffffff-", "Reserved memory: ",
)


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[str], max_edits: int = 6) -> str:
    """A seed from ``seeds`` with 1..``max_edits`` random edits."""
    text = draw(st.sampled_from(list(seeds)))
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 4))
        if op == 0:
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif op == 1:
            text = text[:at] + text[at + draw(st.integers(1, 64)) :]
        elif op == 2:
            piece = text[at : at + draw(st.integers(1, 256))]
            text = text[:at] + piece * draw(st.integers(2, 4)) + text[at:]
        elif op == 3:
            text = text[:at] + draw(st.text(max_size=12)) + text[at:]
        elif at < len(text):
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
    return text


#: Header fields of a flattened device tree (big-endian words): their byte offsets.
_TOTALSIZE, _OFF_STRUCT, _OFF_STRINGS, _SIZE_STRINGS, _SIZE_STRUCT = 4, 8, 12, 32, 36
#: Words worth writing into a structure block: its tokens (BEGIN_NODE, END_NODE, PROP, NOP, END),
#: zero, small lengths and offsets, and the extremes.
_WORDS = (1, 2, 3, 4, 9, 0, 8, 12, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFF0)


def _word(blob: bytes, at: int) -> int:
    return int.from_bytes(blob[at : at + 4], "big")


def _set_word(blob: bytearray, at: int, value: int) -> None:
    blob[at : at + 4] = (value & 0xFFFFFFFF).to_bytes(4, "big")


def _resized(blob: bytearray, at: int, delta: int, block: str) -> None:
    """Fix the header after ``delta`` bytes were inserted (or removed) at ``at`` inside ``block``:
    the total size, that block's size, and the offset of any block that starts after ``at``."""
    _set_word(blob, _TOTALSIZE, _word(blob, _TOTALSIZE) + delta)
    size_field = _SIZE_STRUCT if block == "struct" else _SIZE_STRINGS
    _set_word(blob, size_field, _word(blob, size_field) + delta)
    for field in (_OFF_STRUCT, _OFF_STRINGS, 16):
        if _word(blob, field) > at:
            _set_word(blob, field, _word(blob, field) + delta)


@st.composite
def mutated_dtb(draw: st.DrawFn, seeds: Sequence[str], max_edits: int = 4) -> str:
    """A seed DTB (as latin-1 text) with 1..``max_edits`` edits that keep its header consistent
    with its blocks, so that the reader gets past its header checks to the structure and the
    values: words of the structure block overwritten with tokens, lengths and offsets; single
    bytes changed; whole words inserted into, or removed from, the structure block (a NOP, a copy
    of a neighbouring piece) and strings appended, with the sizes and offsets moved to match; now
    and then a header field itself."""
    blob = bytearray(draw(st.sampled_from(list(seeds))).encode("latin-1"))
    if len(blob) < 40:
        return blob.decode("latin-1")
    for _ in range(draw(st.integers(1, max_edits))):
        start, size = _word(blob, _OFF_STRUCT), _word(blob, _SIZE_STRUCT)
        strings, ssize = _word(blob, _OFF_STRINGS), _word(blob, _SIZE_STRINGS)
        if not (start >= 40 and start + size <= len(blob) and strings + ssize <= len(blob) and size >= 8):
            at = draw(st.integers(0, len(blob) - 1))
            blob[at] = draw(st.integers(0, 255))
            continue
        op = draw(st.integers(0, 5))
        word_at = start + 4 * draw(st.integers(0, size // 4 - 1))
        if op == 0:
            _set_word(blob, word_at, draw(st.sampled_from(_WORDS)))
        elif op == 1:
            at = draw(st.integers(start, start + size - 1))
            blob[at] = draw(st.integers(0, 255))
        elif op == 2:
            words = draw(st.integers(1, 16))
            piece = blob[word_at : word_at + 4 * words] if draw(st.booleans()) else b"\0\0\0\4" * words
            blob[word_at:word_at] = piece
            _resized(blob, word_at, len(piece), "struct")
        elif op == 3:
            words = min(draw(st.integers(1, 8)), (start + size - word_at) // 4)
            del blob[word_at : word_at + 4 * words]
            _resized(blob, word_at, -4 * words, "struct")
        elif op == 4:
            name = draw(st.sampled_from(["reg", "size", "no-map", "reusable", "x" * 40, "", "\xff"])) + "\0"
            end = strings + ssize
            blob[end:end] = name.encode("latin-1")
            _resized(blob, end - 1 if ssize else end, len(name), "strings")
        else:
            field = draw(st.sampled_from([_TOTALSIZE, _OFF_STRUCT, _OFF_STRINGS, 16, 20, 24,
                                          _SIZE_STRINGS, _SIZE_STRUCT]))
            _set_word(blob, field, draw(st.sampled_from((*_WORDS, len(blob), _word(blob, field) + 4))))
    return blob.decode("latin-1")


_NUMBER = re.compile(r"\b(?:0[xX][0-9a-fA-F]+|[0-9]+)\b")
#: Numbers worth putting where a source has one: zero, cell and address extremes, just past them.
_NUMBERS = ("0", "1", "0x1000", "0xffffffff", "0x100000000", "0xffffffffffffffff", "4294967296",
            "0x7fffffff", "0x80000000", "18446744073709551616", "0x3f")


@st.composite
def mutated_source(draw: st.DrawFn, seeds: Sequence[str], max_edits: int = 4) -> str:
    """A seed source with 1..``max_edits`` edits of whole lines and numbers (a line deleted,
    duplicated or moved; a number replaced with an extreme), which mostly keep a Device Tree
    source well formed, so the edits reach the semantic checks and the resolver; now and then
    one edit of :func:`mutated` too."""
    text = draw(st.sampled_from(list(seeds)))
    for _ in range(draw(st.integers(1, max_edits))):
        lines = text.split("\n")
        op = draw(st.integers(0, 4))
        at = draw(st.integers(0, len(lines) - 1))
        if op == 0:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = draw(st.sampled_from(numbers))
                text = text[: m.start()] + draw(st.sampled_from(_NUMBERS)) + text[m.end() :]
            continue
        if op == 1:
            del lines[at]
        elif op == 2:
            lines.insert(at, lines[at])
        elif op == 3:
            lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(at))
        else:
            return draw(mutated([text], max_edits=1))
        text = "\n".join(lines)
    return text
