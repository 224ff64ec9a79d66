"""The tokenizer follows the kernel's next_arg()/parse_args() rules (kernel-semantics.md §1.1)."""

from __future__ import annotations

import pytest

from memplan.cmdline import param_key, parse_cmdline, tokenize


def names_values(text: str) -> list[tuple[str, str | None]]:
    return [(t.name, t.value) for t in tokenize(text).tokens]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a=b  c ", [("a", "b"), ("c", None)]),
        ("a\tb\nc\rd\x0be\x0cf", [(x, None) for x in "abcdef"]),
        ('a="b c" d', [("a", "b c"), ("d", None)]),
        ('"a=b c" d', [("a", "b c"), ("d", None)]),  # quotes around the whole parameter
        ('a=b"c d"e f', [("a", 'b"c d"e'), ("f", None)]),  # inner quotes stay, but protect the blank
        ('a="b"c', [("a", 'b"c')]),  # leading value quote dropped, no trailing one to drop
        ('a="', [("a", "")]),
        ('"a"', [("a", None)]),
        ("a=", [("a", "")]),
        ("a", [("a", None)]),
        ("=a=b", [("=a", "b")]),  # an '=' as first character does not split
        ("a=b=c", [("a", "b=c")]),
        ("--=1 x", [("--", "1"), ("x", None)]),  # '--' with a value is an ordinary parameter
        ("", []),
        ("   ", []),
        ("a=1\0b=2", [("a", "1")]),  # the kernel string ends at NUL
    ],
)
def test_tokenize_table(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert names_values(text) == expected


def test_spans_point_into_the_original_text() -> None:
    text = 'console=ttyS0  "cma=64M@0x80000000"  memmap=1G$4G'
    toks = tokenize(text, "/chosen/bootargs").tokens
    assert [(t.start, t.end) for t in toks] == [(0, 13), (15, 35), (37, 49)]
    cma = toks[1]
    assert cma.raw == '"cma=64M@0x80000000"'
    assert cma.quoted
    assert text[cma.at(0) : cma.at(0) + len(cma.value or "")] == "64M@0x80000000"
    src = cma.source
    assert src.kind == "cmdline"
    assert src.span == (15, 35)
    assert src.file == "/chosen/bootargs"
    assert str(src) == "cmdline token '\"cma=64M@0x80000000\"' at 15..35 (/chosen/bootargs)"


def test_double_dash_ends_kernel_parameters() -> None:
    res = tokenize("a=1 -- cma=64M b")
    assert [t.name for t in res.tokens] == ["a"]
    assert res.terminator is not None
    assert (res.terminator.start, res.terminator.end) == (4, 6)
    assert [t.raw for t in res.init_args] == ["cma=64M", "b"]


def test_quoted_double_dash_also_ends() -> None:
    res = tokenize('a "--" b')
    assert [t.name for t in res.tokens] == ["a"]
    assert [t.name for t in res.init_args] == ["b"]


def test_unbalanced_quote_runs_to_the_end_and_is_reported() -> None:
    res = tokenize('a "b=c d e')
    assert [(t.name, t.value) for t in res.tokens] == [("a", None), ("b", "c d e")]
    assert res.unbalanced_quote == 2
    cl = parse_cmdline('a "b=c d e')
    assert any(d.code == "cmdline-unbalanced-quote" for d in cl.diagnostics)


def test_nul_is_reported() -> None:
    cl = parse_cmdline("cma=64M\0cma=32M")
    assert cl.cma is not None and cl.cma.size == 64 << 20
    assert [d.code for d in cl.diagnostics] == ["cmdline-nul"]


def test_dash_and_underscore_are_equal() -> None:
    assert param_key("cma-pernuma") == param_key("cma_pernuma") == "cma_pernuma"
    cl = parse_cmdline("cma-pernuma=16M foo-bar=1 foo_bar=2", arch="arm64")
    assert cl.cma_pernuma is not None and cl.cma_pernuma.size == 16 << 20
    assert [t.value for t in cl.find("foo_bar")] == ["1", "2"]
    assert cl.get("foo-bar") is not None and cl.get("foo-bar").value == "2"  # type: ignore[union-attr]
    assert not cl.has("bar")


def test_repeated_parameters_are_kept_in_order() -> None:
    cl = parse_cmdline("console=ttyS0 console=tty0 console=ttyAMA0")
    assert [t.value for t in cl.find("console")] == ["ttyS0", "tty0", "ttyAMA0"]
