"""Property tests: the tokenizer matches a C-style model of next_arg(), and no input string makes
the command-line front end fail with anything but MemplanError."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplan.cmdline import ARCHES, effective_cmdline, parse_cmdline, tokenize
from memplan.errors import MemplanError

SPACES = " \t\n\r\x0b\x0c"


def c_style_parse_args(cmdline: str) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """Model of parse_args()/next_arg() written the way the C code works: a NUL-terminated char
    buffer that is cut in place. Returns (kernel params, init args)."""
    buf = [*cmdline.split("\0", 1)[0], "\0"]

    def cstr(at: int) -> str:
        out = []
        while buf[at] != "\0":
            out.append(buf[at])
            at += 1
        return "".join(out)

    def skip(at: int) -> int:
        while buf[at] in SPACES and buf[at] != "\0":
            at += 1
        return at

    params: list[tuple[str, str | None]] = []
    rest: list[tuple[str, str | None]] = []
    args = skip(0)
    done = False
    while buf[args] != "\0":
        in_quote = quoted = False
        if buf[args] == '"':
            args += 1
            in_quote = quoted = True
        i = 0
        equals = 0
        while buf[args + i] != "\0":
            ch = buf[args + i]
            if ch in SPACES and not in_quote:
                break
            if equals == 0 and ch == "=":
                equals = i
            if ch == '"':
                in_quote = not in_quote
            i += 1
        param = args
        val: int | None = None
        if equals:
            buf[args + equals] = "\0"
            val = args + equals + 1
            if buf[val] == '"':
                val += 1
                if buf[args + i - 1] == '"':
                    buf[args + i - 1] = "\0"
        if quoted and i > 0 and buf[args + i - 1] == '"':
            buf[args + i - 1] = "\0"
        if buf[args + i] != "\0":
            buf[args + i] = "\0"
            nxt = args + i + 1
        else:
            nxt = args + i
        item = (cstr(param), None if val is None else cstr(val))
        if not done and item == ("--", None):
            done = True
        elif done:
            rest.append(item)
        else:
            params.append(item)
        args = skip(nxt)
    return params, rest


# Parameter names a user might write: memory parameters in both spellings, look-alikes and
# unrelated ones (chosen by hand from kernel-parameters.txt, not taken from memplan).
_NAMES = st.sampled_from(
    [
        *("cma", "cma-pernuma", "numa-cma", "numa_cma", "mem", "memmap", "crashkernel", "hugepagesz"),
        *("default-hugepagesz", "hugepages", "hugetlb-cma", "hugetlb_cma", "swiotlb", "coherent-pool"),
        *("coherent_pool", "CMA", "cmaa", "mem_", "console", "root", "init", "--", "-", "=", ""),
    ]
)
# Values: free text, or glued pieces that put separators and numbers at the edges.
_PIECES = st.sampled_from(
    ["64M", "0x1000", "010", "0", "1", "0x", "K", "99999999999999999999", "@", "-", "#", "$",
     "!", "%", "+", ":", ",", "\\$", "high", "low", "cma", "force", "noforce", "exactmap", '"', " "]
)
_VALUE = st.one_of(
    st.text(alphabet='0123456789xXabcdefKkMmGgTtPpEe@-#$!%+:,=" \\\t', max_size=24),
    st.lists(_PIECES, max_size=7).map("".join),
)
_PARAM = st.builds(lambda n, eq, v: n + eq + v, _NAMES, st.sampled_from(["=", "", '="']), _VALUE)
_CMDLINE = st.one_of(
    st.lists(_PARAM, max_size=8).map(" ".join),
    st.text(max_size=60),
    st.text(alphabet='ab="\t \0-', max_size=30),
    st.builds(
        lambda n, k, s: f"{n}={'9' * k}{s}", _NAMES, st.integers(1, 6000), st.sampled_from(["", ":1M", "M"])
    ),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CMDLINE)
def test_tokenizer_matches_c_model(text: str) -> None:
    res = tokenize(text)
    params, rest = c_style_parse_args(text)
    assert [(t.name, t.value) for t in res.tokens] == params
    assert [(t.name, t.value) for t in res.init_args] == rest


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CMDLINE)
def test_token_spans_are_faithful(text: str) -> None:
    res = tokenize(text)
    last_end = 0
    for tok in (*res.tokens, *res.init_args):
        assert last_end <= tok.start < tok.end <= res.length
        assert text[tok.start : tok.end] == tok.raw
        if tok.value is not None:
            assert text[tok.at(0) : tok.at(0) + len(tok.value)] == tok.value
            assert tok.start <= tok.at(0) <= tok.end
        assert tok.source.span == (tok.start, tok.end)
        last_end = tok.end


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _CMDLINE, st.sampled_from([None, *ARCHES]), st.sampled_from([None, "4.19", "5.10", "6.1", "6.6", "6.18"])
)
def test_parse_never_crashes(text: str, arch: str | None, version: str | None) -> None:
    try:
        cl = parse_cmdline(text, arch=arch, origin="test", kernel_version=version)
    except MemplanError as err:
        assert err.source is not None  # every error says where
        return
    for diag in cl.diagnostics:
        assert diag.code.startswith("cmdline-")
        assert diag.source is not None and diag.source.kind == "cmdline"
    for entry in cl.memmap:
        assert entry.source.span is not None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([None, *ARCHES]),
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.text(max_size=40)),
    st.booleans(),
)
def test_effective_never_crashes(
    arch: str | None, bootloader: str | None, bootargs: str | None, chosen: bool
) -> None:
    eff = effective_cmdline(
        arch=arch, bootloader=bootloader, dt_bootargs=bootargs, has_chosen=chosen, kernel_version="5.15"
    )
    for part in eff.parts:
        assert 0 <= part.start < part.end <= len(eff.text)
    try:
        parse_cmdline(eff)
    except MemplanError as err:
        assert err.source is not None


# Random text rarely ends a value exactly on a separator; try every pair of pieces instead.
_MEMORY_NAMES = (
    *("cma", "numa_cma", "cma_pernuma", "mem", "memmap", "crashkernel", "hugepagesz", "hugepages"),
    *("default_hugepagesz", "hugetlb_cma", "swiotlb", "coherent_pool"),
)
_EDGE_PIECES = ["", "64M", "0x1000", "0", "0x", "K", "@", "-", "#", "$", "!", "%", "+", ":", ",", "\\$",
                ",high", ",low", ",cma", "force", "exactmap", '"', "x", "9" * 21]


@pytest.mark.parametrize("arch", ["x86", "arm64", "mips", "xtensa", "arm", None])
def test_parse_never_crashes_on_glued_pieces(arch: str | None) -> None:
    for name in _MEMORY_NAMES:
        for a, b in itertools.product(_EDGE_PIECES, repeat=2):
            text = f"{name}={a}{b} {name}={b}{a}"
            try:
                parse_cmdline(text, arch=arch, kernel_version="6.18")
            except MemplanError as err:
                assert err.source is not None, text
