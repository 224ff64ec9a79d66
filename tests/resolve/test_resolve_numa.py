"""Per-node CMA areas: ``cma_pernuma=`` (5.10+) and ``numa_cma=`` (6.6+) on a two-node board."""

from __future__ import annotations

import memplan
from memplan.plan import Plan
from memplan.render.dmesg import render_dmesg
from memplan.resolve.numa import node_cma_requests, node_cma_stage, numa_nodes
from memplan.version import KernelVersion

M = 1 << 20
TWO_NODES = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { compatible = "arm,cortex-a57"; reg = <0>; }; };
    memory@80000000 { device_type = "memory"; numa-node-id = <1>; reg = <0 0x80000000 0 0x40000000>; };
    memory@40000000 { device_type = "memory"; numa-node-id = <0>; reg = <0 0x40000000 0 0x40000000>; };
};
"""
CFG = (
    "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_NUMA=y\nCONFIG_HUGETLBFS=y\n"
    "CONFIG_CMA_SIZE_MBYTES=64\n"
)


def resolve(cmdline: str, version: str, extra_cfg: str) -> Plan:
    return memplan.resolve(dts=TWO_NODES, arch="arm64", kernel_version=version, cmdline=cmdline,
                           config=CFG + extra_cfg)


def areas(plan: Plan) -> dict[str, tuple[int | None, int | None, str]]:
    return {r.name: (r.base, r.size, r.status) for r in plan.regions if r.kind == "numa-cma"}


def test_nodes_from_numa_node_id() -> None:
    from memplan.dts import parse_dts
    from memplan.dts.facts import extract

    dt = extract(parse_dts(text=TWO_NODES, filename="t.dts"))
    banks = [(0x40000000, 0x40000000), (0x80000000, 0x40000000)]
    assert numa_nodes(True, dt, banks) == {0: ((0x40000000, 0x80000000),), 1: ((0x80000000, 0xC0000000),)}
    # NUMA off, or RAM without a node: the kernel's dummy node 0 with everything
    assert numa_nodes(False, dt, banks) == {0: ((0x40000000, 0x80000000), (0x80000000, 0xC0000000))}
    assert list(numa_nodes(True, dt, [*banks, (0x100000000, 0x1000)])) == [0]


def test_request_order_and_offline_nodes() -> None:
    nodes = {0: ((0, 1),), 1: ((1, 2),)}
    reqs, offline = node_cma_requests(KernelVersion(6, 6), nodes, 16 * M, [(1, 32 * M), (7, M)])
    assert [r.name for r in reqs] == ["pernuma0", "pernuma1", "numa1"]
    assert offline == [7]
    # numa_cma= does not exist before 6.6
    reqs, _ = node_cma_requests(KernelVersion(6, 1), nodes, None, [(1, 32 * M)])
    assert reqs == []


def test_stage_by_version() -> None:
    assert node_cma_stage(KernelVersion(6, 1)) == "bootmem"
    assert node_cma_stage(KernelVersion(6, 12)) == "before-global"
    assert node_cma_stage(KernelVersion(7, 2)) == "after-global"


def test_pernuma_61_one_area_per_node_before_sparse_and_global() -> None:
    plan = resolve("cma_pernuma=16M", "6.1", "CONFIG_DMA_PERNUMA_CMA=y\n")
    # as on the recorded arm64-6.1-pernuma boot: each node's top minus its early allocations
    assert areas(plan) == {"pernuma0": (0x7EE00000, 16 * M, "ok"), "pernuma1": (0xBEA00000, 16 * M, "ok")}
    assert plan.global_cma.base == 0xB9A00000
    lines = [ln for ln in render_dmesg(plan).splitlines() if ln.startswith("cma: Reserved")]
    assert lines == [
        "cma: Reserved 16 MiB at 0x000000007ee00000",
        "cma: Reserved 16 MiB at 0x00000000bea00000",
        "cma: Reserved 64 MiB at 0x00000000b9a00000",
    ]


def test_numa_cma_72_after_the_global_area() -> None:
    plan = resolve("numa_cma=1:32M", "7.2", "CONFIG_DMA_NUMA_CMA=y\n")
    assert areas(plan) == {"numa1": (0xB9A00000, 32 * M, "ok")}
    assert plan.global_cma.base == 0xBBA00000


def test_numa_cma_612_before_the_global_area() -> None:
    plan = resolve("numa_cma=1:32M", "6.12", "CONFIG_DMA_NUMA_CMA=y\n")
    base, size, status = areas(plan)["numa1"]
    assert status == "ok" and size == 32 * M
    assert plan.global_cma.base is not None and base is not None and base > plan.global_cma.base
    line = next(ln for ln in render_dmesg(plan).splitlines() if ln.startswith("cma: Reserved 32 MiB"))
    assert line.endswith(" on node 1")


def test_without_the_option_the_parameter_is_ignored() -> None:
    plan = resolve("cma_pernuma=16M", "6.1", "# CONFIG_DMA_PERNUMA_CMA is not set\n")
    assert areas(plan) == {}
    d = next(d for d in plan.diagnostics if d.code == "numa-cma-unsupported")
    assert d.severity == "warning" and d.source is not None and d.source.text == "cma_pernuma=16M"


def test_offline_node_is_reported() -> None:
    plan = resolve("numa_cma=3:16M", "6.12", "CONFIG_DMA_NUMA_CMA=y\n")
    assert areas(plan) == {}
    assert any(d.code == "numa-cma-offline" and d.source is not None for d in plan.diagnostics)
    assert "cma: invalid node 3 specified" in render_dmesg(plan)


def test_node_area_too_big_fails_on_its_node() -> None:
    plan = resolve("cma_pernuma=1536M", "6.1", "CONFIG_DMA_PERNUMA_CMA=y\n")
    assert {n: s for n, (_, _, s) in areas(plan).items()} == {"pernuma0": "failed", "pernuma1": "failed"}
    assert "cma: dma_pernuma_cma_reserve: reservation failed: err -12, node 0" in render_dmesg(plan)
