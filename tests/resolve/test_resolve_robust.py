"""Property test: any mix of reserved-memory nodes resolves without an exception, on every era."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import memplan
from tests.resolve.conftest import board

CELLS = st.lists(st.integers(min_value=0, max_value=0xFFFFFFFF), min_size=0, max_size=5)


@st.composite
def node(draw: st.DrawFn, index: int) -> str:
    props: list[str] = []
    if draw(st.booleans()):
        props.append(
            'compatible = "'
            + draw(st.sampled_from(["shared-dma-pool", "restricted-dma-pool", "acme,fw"]))
            + '";'
        )
    for flag in ("no-map", "reusable", "linux,cma-default", "linux,dma-default"):
        if draw(st.integers(0, 3)) == 0:
            props.append(f"{flag};")
    kind = draw(st.sampled_from(["reg", "size", "both", "none"]))
    if kind in ("reg", "both"):
        base = draw(st.integers(0x3F000000, 0xC1000000)) & ~0xFFF
        size = draw(st.sampled_from([0, 0x1000, 0x100000, 0x400000, 0x2000000]))
        props.append(
            draw(
                st.sampled_from(
                    [
                        f"reg = <0 {base:#x} 0 {size:#x}>;",
                        f"reg = <{base:#x} {size:#x}>;",
                        f"reg = <0 {base:#x} 0 {size:#x} 0 {base + size:#x} 0 0x1000>;",
                    ]
                )
            )
        )
    if kind in ("size", "both"):
        size = draw(st.sampled_from([0x1000, 0x100000, 0x400000, 0x10000000, 0x90000000]))
        props.append(draw(st.sampled_from([f"size = <0 {size:#x}>;", f"size = <{size:#x}>;"])))
        if draw(st.booleans()):
            props.append(draw(st.sampled_from(["alignment = <0 0x1000000>;", "alignment = <0x1000>;"])))
        if draw(st.booleans()):
            props.append(
                draw(
                    st.sampled_from(
                        [
                            "alloc-ranges = <0 0x40000000 0 0x20000000>;",
                            "alloc-ranges = <0x40000000 0x1000>;",
                            "alloc-ranges = <0 0x10000000 0 0x1000000>;",
                        ]
                    )
                )
            )
    if draw(st.integers(0, 5)) == 0:
        props.append('status = "disabled";')
    return f"n{index}: node{index} {{ {' '.join(props)} }};"


@st.composite
def boards(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 6))
    nodes = [draw(node(i)) for i in range(n)]
    users = " ".join(f"d{i} {{ memory-region = <&n{i}>; }};" for i in range(n) if draw(st.booleans()))
    dangling = "dx { memory-region = <0x4444>; };" if draw(st.booleans()) else ""
    head = "/memreserve/ 0x50000000 0x100000;" if draw(st.booleans()) else ""
    return board("\n".join(nodes), extra=users + dangling, head=head)


@settings(max_examples=60, deadline=None)
@given(
    text=boards(),
    version=st.sampled_from(["4.19", "5.4", "5.10", "6.1", "6.6", "6.13", "6.19"]),
    arch=st.sampled_from(["arm64", "arm", "riscv"]),
    cmdline=st.sampled_from(["", "cma=64M", "cma=0", "cma=32M@0x50000000", "mem=1G crashkernel=64M"]),
)
def test_any_board_resolves(text: str, version: str, arch: str, cmdline: str) -> None:
    plan = memplan.resolve(dts=text, arch=arch, kernel_version=version, cmdline=cmdline or None)
    assert plan.to_json()
    assert plan.explain()
    for r in plan.regions:
        if r.status == "ok" and r.origin == "dts":
            assert r.base is not None and r.size is not None
