"""Round trips through the value grammars (memplan.cmdline.grammar): values written from known
numbers, in every number style the kernel reads, parse back to those numbers, with the trailing
text and the first malformed element found where they were put."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplan.cmdline import parse_cmdline

_SUFFIX = {"": 0, "K": 10, "k": 10, "M": 20, "m": 20, "G": 30, "g": 30, "T": 40}


@st.composite
def _size(draw: st.DrawFn, low: int = 0) -> tuple[str, int]:
    """A memparse size as text (decimal, hex or octal, with or without a suffix) and its value."""
    suffix = draw(st.sampled_from(sorted(_SUFFIX)))
    n = draw(st.integers(low, 4095))
    style = draw(st.sampled_from(["dec", "hex", "HEX", "oct"]))
    text = {"dec": str(n), "hex": f"0x{n:x}", "HEX": f"0X{n:X}", "oct": f"0{n:o}"}[style]
    return text + suffix, n << _SUFFIX[suffix]


_TRAIL = st.sampled_from(["", "iB", "xyz", ";", "?", "Q"])  # no hex digit or suffix letter
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_size(), st.one_of(st.none(), st.tuples(_size(), st.one_of(st.none(), _size()))), _TRAIL)
def test_cma_round_trip(
    size: tuple[str, int], at: tuple[tuple[str, int], tuple[str, int] | None] | None, trail: str
) -> None:
    text = size[0]
    if at is not None:
        text += "@" + at[0][0] + ("" if at[1] is None else "-" + at[1][0])
    if at is None or at[1] is not None:
        text += trail  # (after "@base" a trailing "-..." would be a limit)
    cl = parse_cmdline(f"cma={text}", arch="arm64", kernel_version="6.12")
    assert cl.cma is not None and cl.cma.size == size[1]
    if at is None:
        assert (cl.cma.base, cl.cma.limit) == (0, 0)
    else:
        base = at[0][1]
        assert cl.cma.base == base
        assert cl.cma.limit == (base + size[1] if at[1] is None else at[1][1])
    trailing = [d for d in cl.diagnostics if d.code == "cmdline-cma-trailing"]
    assert bool(trailing) == bool(trail and (at is None or at[1] is not None))


@_SETTINGS
@given(st.lists(st.tuples(st.integers(0, 63), _size()), min_size=1, max_size=6), _TRAIL)
def test_numa_cma_round_trip(nodes: list[tuple[int, tuple[str, int]]], trail: str) -> None:
    text = ",".join(f"{nid}:{size}" for nid, (size, _) in nodes) + trail
    cl = parse_cmdline(f"numa_cma={text}", arch="arm64", kernel_version="6.12")
    assert cl.numa_cma is not None
    assert cl.numa_cma.as_dict() == {nid: value for nid, (_, value) in nodes}  # the last one per node
    stops = [d for d in cl.diagnostics if d.code == "cmdline-numa-cma-invalid"]
    assert bool(stops) == bool(trail)


@st.composite
def _ranges(draw: st.DrawFn) -> tuple[str, list[tuple[int, int | None, int]]]:
    """A crashkernel= range list with increasing bounds, as text and as (start, end, size)."""
    count = draw(st.integers(1, 4))
    out: list[tuple[int, int | None, int]] = []
    parts: list[str] = []
    bound = 0
    for i in range(count):
        start = bound
        last = i == count - 1 and draw(st.booleans())
        end = None if last else start + draw(st.integers(1, 1 << 12)) * (1 << 20)
        size_text, size = draw(_size())
        out.append((start, end, size))
        parts.append(f"{start >> 20}M-{'' if end is None else f'{end >> 20}M'}:{size_text}")
        bound = end if end is not None else bound
    return ",".join(parts), out


@_SETTINGS
@given(_ranges(), st.one_of(st.none(), _size()))
def test_crashkernel_ranges_round_trip(
    ranges: tuple[str, list[tuple[int, int | None, int]]], offset: tuple[str, int] | None
) -> None:
    text = ranges[0] + ("" if offset is None else "@" + offset[0])
    cl = parse_cmdline(f"crashkernel={text}", arch="arm64", kernel_version="6.12")
    assert cl.crashkernel is not None and cl.crashkernel.plain is not None
    spec = cl.crashkernel.plain
    assert [(r.start, r.end, r.size) for r in spec.ranges] == ranges[1]
    assert spec.ranges_error is None and spec.error is None
    assert spec.offset == (None if offset is None else offset[1])


@_SETTINGS
@given(_ranges(), st.sampled_from(["1G:64M", "1G-", "-1G:64M", "2G-1G:64M", "1G-2Gx:1M", "1G-2G:"]))
def test_crashkernel_first_malformed_element_is_named(
    ranges: tuple[str, list[tuple[int, int | None, int]]], bad: str
) -> None:
    good = [r for r in ranges[1] if r[1] is not None] or [(0, 1 << 20, 1 << 20)]
    text = ",".join(f"{s >> 20}M-{e >> 20}M:{z}" for s, e, z in good if e is not None)
    value = f"{text},{bad}"
    cl = parse_cmdline(f"crashkernel={value}", arch="arm64", kernel_version="6.12")
    spec = cl.crashkernel.plain if cl.crashkernel is not None else None
    assert spec is not None and len(spec.ranges) == len(good) and spec.ranges_error is not None
    offset = len("crashkernel=") + len(text) + 1  # where the bad element starts
    assert any(f"at offset {offset + k}" in spec.ranges_error for k in range(len(bad) + 1))


_SEPS = {"@": "ram", "#": "acpi", "$": "reserved", "!": "pram"}


@_SETTINGS
@given(st.lists(st.tuples(_size(1), st.sampled_from(sorted(_SEPS)), _size()), min_size=1, max_size=5))
def test_memmap_round_trip(elements: list[tuple[tuple[str, int], str, tuple[str, int]]]) -> None:
    text = ",".join(f"{size}{sep}{start}" for (size, _), sep, (start, _) in elements)
    cl = parse_cmdline(f"memmap={text}", arch="x86", kernel_version="6.12")
    got = [(e.kind, e.size, e.start) for e in cl.memmap]
    assert got == [(_SEPS[sep], size, start) for (_, size), sep, (_, start) in elements]
    assert not [d for d in cl.diagnostics if d.code.startswith("cmdline-memmap")]
