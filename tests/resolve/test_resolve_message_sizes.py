"""Sizes in the resolver's own messages are exact: they go through ``units.format_size``, so a
size that is not a whole number of MiB is never truncated (1.5 MiB is not "1 MiB")."""

from __future__ import annotations

import memplan
from memplan.plan import Plan
from tests.resolve.conftest import board
from tests.resolve.test_resolve_numa import TWO_NODES

CFG = "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_HUGETLBFS=y\n"


def message(plan: Plan, code: str) -> str:
    return next(d.message for d in plan.diagnostics if d.code == code)


def resolve(rmem: str = "", version: str = "6.1", **kw: str) -> Plan:
    return memplan.resolve(dts=board(rmem), arch="arm64", kernel_version=version, config=CFG, **kw)


def test_crashkernel_failure_names_the_exact_size() -> None:
    text = message(resolve(cmdline="crashkernel=3147264K"), "crashkernel-failed")
    assert "crashkernel= (3073.5 MiB) not reserved" in text


def test_fixed_cma_failure_names_the_exact_size() -> None:
    text = message(resolve(cmdline="cma=1536K@0x50100000"), "cma-fixed-misaligned")
    assert "the global CMA area (1.5 MiB from cmdline)" in text


def test_mem_limit_names_the_exact_sizes() -> None:
    text = message(resolve(cmdline="mem=1573376K"), "mem-limit")
    assert text == "mem= leaves 1536.5 MiB of RAM (was 2 GiB)"


def test_dynamic_allocation_failure_names_the_exact_size() -> None:
    text = message(resolve("big { size = <0 0xc0080000>; };"), "rmem-alloc-failed")
    assert "failed to allocate memory for node 'big': size 3072.5 MiB (" in text


def test_static_reservation_failure_names_the_exact_size() -> None:
    rmem = "fw@50000000 { reg = <0 0x50000000 0 0x180000>; no-map; };"
    plan = memplan.resolve(
        dts=board(rmem, head="/memreserve/ 0x50000000 0x1000;"),
        arch="arm64", kernel_version="6.1", config=CFG,
    )
    assert "base 0x50000000, size 1.5 MiB (" in message(plan, "rmem-reserve-failed")


def test_hugetlb_multiple_names_the_exact_sizes() -> None:
    text = message(resolve(version="7.2", cmdline="hugetlb_cma=1049088K"), "cma-place-failed")
    assert text == "hugetlb_cma= 1024.5 MiB is not a multiple of 1 GiB; no hugetlb CMA area"


def test_node_area_failure_names_the_exact_size() -> None:
    plan = memplan.resolve(dts=TWO_NODES, arch="arm64", kernel_version="6.1", cmdline="cma_pernuma=1573376K",
                           config=CFG + "CONFIG_NUMA=y\nCONFIG_DMA_PERNUMA_CMA=y\n")
    assert "pernuma0 (1536.5 MiB on node 0) was not created" in message(plan, "cma-place-failed")


def test_no_resolver_message_divides_a_size_by_hand() -> None:
    """The resolver (and the Plan) print sizes only through the one formatter."""
    import pathlib
    import re

    root = pathlib.Path(memplan.__file__).parent
    by_hand = re.compile(r"//\s*(?:M|MiB|KiB|GiB|\(1\s*<<\s*20\))\s*\}")
    files = [*sorted((root / "resolve").rglob("*.py")), root / "plan.py"]
    found = [f"{p.name}:{n}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1)
             if by_hand.search(line)]
    assert found == []
