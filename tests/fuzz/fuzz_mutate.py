"""A Hypothesis strategy that mutates seed inputs: the structure-aware half of a fuzzer.

Each example takes a seed and applies a few edits: insert a token that matters to some front
end (braces, directives, escapes, long digit runs, NUL and non-UTF-8 stand-ins), delete or
duplicate a slice, insert arbitrary text, or replace a character. Hypothesis shrinks a failing
example to a small one, which then goes into ``regressions/<target>/``.
"""

from __future__ import annotations

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
