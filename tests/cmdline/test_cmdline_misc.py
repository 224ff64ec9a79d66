"""hugepagesz=/hugepages=/default_hugepagesz=, swiotlb=, coherent_pool= (kernel-semantics.md §8.3–§8.5)."""

from __future__ import annotations

import pytest

from memplan.cmdline import Cmdline, parse_cmdline
from memplan.errors import CmdlineError

K = 1 << 10
M = 1 << 20
G = 1 << 30


def codes(cl: Cmdline) -> list[str]:
    return [d.code for d in cl.diagnostics]


def test_hugepages_follow_their_size() -> None:
    cl = parse_cmdline(
        "default_hugepagesz=1G hugepages=4 hugepagesz=1G hugepages=8 hugepagesz=2M hugepages=512"
    )
    hp = cl.hugepages
    assert hp is not None
    assert [s for s, _ in hp.sizes] == [G, 2 * M]
    assert hp.default_size == G
    assert [(r.page_size, r.count) for r in hp.requests] == [(None, 4), (G, 8), (2 * M, 512)]
    assert hp.requests[1].source.text == "hugepages=8"


def test_hugepages_per_node() -> None:
    hp = parse_cmdline("hugepagesz=1G hugepages=0:2,1:3").hugepages
    assert hp is not None
    (req,) = hp.requests
    assert (req.page_size, req.count, req.per_node) == (G, 5, ((0, 2), (1, 3)))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hugepages=abc", "cmdline-hugepages-invalid"),
        ("hugepages=0:2,x", "cmdline-hugepages-invalid"),
        ("hugepagesz=xyz", "cmdline-hugepages-invalid"),
        ("hugepages", "cmdline-hugepages-invalid"),
        ("hugepagesz=1G hugepages=2 hugepages=3", "cmdline-hugepages-repeated"),
        ("hugepagesz=2MB", "cmdline-hugepages-trailing"),
    ],
)
def test_hugepages_bad_input(text: str, code: str) -> None:
    cl = parse_cmdline(text)
    assert code in codes(cl)
    assert cl.hugepages is not None
    assert len(cl.hugepages.requests) <= 1


def test_no_hugepages() -> None:
    assert parse_cmdline("quiet").hugepages is None


@pytest.mark.parametrize(
    ("value", "nslabs", "nareas", "force", "size"),
    [
        ("65536", 65536, None, None, 128 * M),
        ("1000", 1000, None, None, 1024 * 2 * K),  # rounded up to a multiple of 128 slabs
        ("32768,4", 32768, 4, None, 64 * M),
        ("32768,4,force", 32768, 4, "force", 64 * M),
        ("32768,noforce", 32768, None, "noforce", 64 * M),
        ("noforce", None, None, "noforce", None),
        ("0x8000", 0x8000, None, None, 64 * M),
    ],
)
def test_swiotlb(
    value: str, nslabs: int | None, nareas: int | None, force: str | None, size: int | None
) -> None:
    sw = parse_cmdline(f"swiotlb={value}", arch="arm64").swiotlb
    assert sw is not None
    assert (sw.nslabs, sw.nareas, sw.force, sw.size) == (nslabs, nareas, force, size)


def test_swiotlb_junk_is_reported() -> None:
    cl = parse_cmdline("swiotlb=65536,forcce", arch="arm64")
    assert cl.swiotlb is not None and cl.swiotlb.force is None
    assert codes(cl) == ["cmdline-swiotlb-trailing"]


def test_coherent_pool_last_wins() -> None:
    cl = parse_cmdline("coherent_pool=256K coherent_pool=2M", arch="arm")
    assert cl.coherent_pool is not None and cl.coherent_pool.size == 2 * M
    assert cl.coherent_pool.source.text == "coherent_pool=2M"
    junk = parse_cmdline("coherent_pool=1MiB", arch="arm")
    assert junk.coherent_pool is not None and junk.coherent_pool.size == M
    assert codes(junk) == ["cmdline-coherent-pool-trailing"]
    assert codes(parse_cmdline("coherent_pool")) == ["cmdline-coherent-pool-invalid"]


def test_hugepages_repeat_rules() -> None:
    # only back-to-back hugepages= for the same target are refused; a later one for a size wins
    cl = parse_cmdline("hugepagesz=1G hugepages=2 hugepagesz=2M hugepages=3 hugepagesz=1G hugepages=4")
    hp = cl.hugepages
    assert hp is not None
    # the second hugepagesz=1G is ignored, so hugepages=4 targets 2M again right after hugepages=3
    assert [(r.page_size, r.count) for r in hp.requests] == [(G, 2), (2 * M, 3)]
    assert codes(cl) == ["cmdline-hugepages-repeated", "cmdline-hugepages-repeated"]
    assert hp.counts() == {G: 2, 2 * M: 3}
    ok = parse_cmdline("hugepages=16 hugepagesz=1G hugepages=1")
    assert ok.hugepages is not None and ok.hugepages.counts() == {None: 16, G: 1}
    assert not ok.diagnostics


def test_hugepages_node_list_stops_at_a_malformed_element() -> None:
    # a well-formed element with a number beyond 64 bits cannot be read at all: an error
    with pytest.raises(CmdlineError, match="64 bits"):
        parse_cmdline("hugepagesz=1G hugepages=1:4,99999999999999999999999:1")
    # a malformed element is reported where it starts, whatever it holds; the parameter is ignored
    text = "hugepagesz=1G hugepages=1:4,99999999999999999999999"
    cl = parse_cmdline(text)
    (bad,) = [d for d in cl.diagnostics if d.code == "cmdline-hugepages-invalid"]
    assert f"at offset {text.index('9999')}" in bad.message
    assert cl.hugepages is not None and cl.hugepages.requests == ()
    ok = parse_cmdline("hugepagesz=1G hugepages=0:2,1:3,").hugepages  # a trailing comma ends the list
    assert ok is not None and [(r.count, r.per_node) for r in ok.requests] == [(5, ((0, 2), (1, 3)))]
